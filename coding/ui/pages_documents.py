"""Documents: upload transcripts and a participants sheet, list documents with their case,
attributes, size and coding progress, filtered by attribute."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from ..errors import SuggesterError
from ..interchange import transfer
from ..records import TRANSCRIPT_FORMATS
from . import state

MAX_UPLOAD_MB = 50


def documents_page(proj):
    st.title("Documents")
    _upload(proj)
    label, version = proj.store.label, state.version(proj)  # after an upload: lists it
    documents = state.documents(proj, label, version)
    if not documents:
        st.info("No documents yet. Upload transcripts above, or use `coding ingest`.")
        return
    table = _document_table(proj, documents, state.cases(proj, label, version),
                            state.pending_by_document(proj, label, version))
    table = _filter(table, state.cases(proj, label, version))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"reviewed": st.column_config.ProgressColumn(
                     "reviewed", format="%.0f%%", min_value=0, max_value=100)})
    st.caption(f"{len(table)} of {len(documents)} documents · "
               f"{int(table['words'].sum()):,} words")
    choice = st.selectbox("Open a transcript", table["document"], key="open_doc_choice")
    st.button("Open transcript", key="open_doc", on_click=state.go_to,
              args=("Transcript",), kwargs={"doc": choice})
    _manage(proj, {d.name: d for d in documents})


def _manage(proj, documents):
    """Rename, delete (undoable, after a confirmation and a backup) or purge a document."""
    with st.expander("Rename, delete or purge a document"):
        name = st.selectbox("Document", list(documents), key="manage_doc")
        info = documents[name]
        left, right = st.columns([3, 1])
        left.text_input("New name", key="rename_to", placeholder=name)
        right.button("Rename", key="rename", on_click=_rename, args=(proj, name))
        st.divider()
        st.checkbox(f"Yes, delete {state.plain(name)} with its {info.turns:,} turns, "
                    f"{info.codings:,} codings, its pending suggestions and the memos on them",
                    key=f"delete_ok_{name}",
                    help="A backup is taken first, and Undo brings it all back.")
        st.button("Delete", key="delete_doc", on_click=_delete, args=(proj, name),
                  disabled=not st.session_state.get(f"delete_ok_{name}"))
        st.divider()
        st.markdown("**Purge, when a participant withdraws consent.** The text, its turns, "
                    "codings and memos leave the project, its history and its backups for "
                    "good. This cannot be undone.")
        st.text_input("Type the document's name to confirm", key="purge_confirm")
        st.button("Purge for good", key="purge_doc", type="primary", on_click=_purge,
                  args=(proj, name),
                  disabled=st.session_state.get("purge_confirm", "").strip() != name)


def _rename(proj, name):
    new_name = st.session_state.get("rename_to", "").strip()
    done = state.safely(proj.rename_document, name, new_name)
    if done is not None:
        st.session_state["rename_to"] = ""
        st.session_state["manage_doc"] = done
        state.flash(f"Renamed {name} to {done}.")


def _delete(proj, name):
    done = state.safely(proj.delete_document, name)
    if done is not None:
        st.session_state.pop("manage_doc", None)
        state.flash(done.summary())


def _purge(proj, name):
    done = state.safely(proj.purge_document, name)
    st.session_state["purge_confirm"] = ""
    if done is not None:
        st.session_state.pop("manage_doc", None)
        state.flash(done.summary())


def _document_table(proj, documents, cases, pending):
    rows = []
    for d in documents:
        waiting = pending.get(d.name, 0)
        rows.append({"document": d.name, "case": d.case, "format": d.format, "words": d.words,
                     "turns": d.turns, "codings": d.codings, "pending": waiting,
                     "reviewed": 100.0 * d.codings / (d.codings + waiting)
                     if d.codings + waiting else 0.0})
    table = pd.DataFrame(rows)
    if not cases.empty:
        attributes = cases.drop(columns=["documents"]).rename(columns={"case": "case"})
        clash = [c for c in attributes.columns if c in table.columns and c != "case"]
        attributes = attributes.rename(columns={c: f"case_{c}" for c in clash})
        table = table.merge(attributes, on="case", how="left")
    return table


def _filter(table, cases):
    attributes = [c for c in cases.columns if c not in ("case", "documents")]
    if not attributes:
        return table
    left, right = st.columns([1, 3])
    attribute = left.selectbox("Filter by attribute", ["(none)", *attributes],
                               key="doc_filter_attribute")
    if attribute == "(none)":
        return table
    column = attribute if attribute in table.columns else f"case_{attribute}"
    values = sorted(table[column].dropna().astype(str).unique())
    chosen = right.multiselect(f"Values of {state.plain(attribute)}", values, default=values,
                               key="doc_filter_values")
    return table[table[column].astype(str).isin(chosen)]


def _upload(proj):
    with st.expander("Add transcripts or a participants sheet"):
        files = st.file_uploader(
            f"Transcripts ({', '.join(sorted(TRANSCRIPT_FORMATS))}); at most {MAX_UPLOAD_MB} MB each",
            accept_multiple_files=True, key="upload_files")
        sheet = st.file_uploader("Participants sheet (csv or xlsx, optional)",
                                 type=["csv", "xlsx"], key="upload_sheet")
        if st.button("Add to project", key="upload", disabled=not files and not sheet):
            _ingest_uploads(proj, files or [], sheet)
    with st.expander("Import a project, codebook or codings file"):
        upload = st.file_uploader(
            "A REFI-QDA project (.qdpx, .qde) or codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA "
            "or QualCoder, a codebook (.yaml), codings (.csv, .xlsx) or a transcript coded "
            "with Word comments (.docx)", type=[s.lstrip(".") for s in transfer.IMPORTS],
            key="import_file")
        st.caption("An import cannot be undone (a backup is taken first): preview it to see "
                   "what it would add and skip.")
        left, right = st.columns(2)
        if left.button("Preview", key="import_preview", disabled=upload is None):
            _import_upload(proj, upload, dry_run=True)
        if right.button("Import", key="import_apply", type="primary", disabled=upload is None):
            _import_upload(proj, upload, dry_run=False)


def _import_upload(proj, upload, dry_run):
    """Run the import (or its dry run) on the upload, saved in a folder of its own; what it
    reports, and every warning, is shown as text."""
    warnings = []
    with tempfile.TemporaryDirectory() as folder:
        path = _save_upload(folder, 0, upload, "The upload")
        if path is None:
            return
        if dry_run:
            lines = state.safely(transfer.preview_import, proj, path, warn=warnings.append)
        else:
            line = state.safely(transfer.import_file, proj, path, warn=warnings.append)
            lines = None if line is None else [line]
    for warning in warnings:
        st.warning(state.message(str(warning).replace(str(path), upload.name)))
    for line in lines or []:
        (st.info if dry_run else st.success)(state.message(line.replace(str(path),
                                                                        upload.name)))


def _ingest_uploads(proj, files, sheet):
    """Each upload goes into a folder of its own, so two uploads of the same name are both
    read (issue 13, item 5); an upload whose name is not a file name ('', '.', '..') is
    refused with a message, and the others are still added (item 22)."""
    with tempfile.TemporaryDirectory() as folder:
        paths, shown = [], {}
        for number, upload in enumerate(files, 1):
            if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
                st.error(state.plain(f"{upload.name}: larger than {MAX_UPLOAD_MB} MB, the limit "
                                     "for one transcript; split it into parts"))
                continue
            path = _save_upload(folder, number, upload, f"Upload {number}")
            if path is not None:
                paths.append(path)
                shown[str(path)] = _upload_label(upload, files)
        if sheet is not None:
            sheet_path = _save_upload(folder, 0, sheet, "The participants sheet")
            if sheet_path is not None and \
                    state.safely(proj.import_cases, sheet_path) is not None:
                st.success(state.plain(f"Participants sheet {sheet.name} imported."))
        results = state.safely(proj.ingest, paths) if paths else []
    added = [r.document for r in results or [] if r.status == "added"]
    waiting = _suggest_for(proj, added) if added else None
    for result in results or []:
        name = shown.get(str(result.path), Path(result.path).name)
        for warning in result.warnings or ():
            st.warning(state.message(warning.replace(str(Path(result.path)), name)))
        if result.status == "failed":
            st.error(state.message(result.error.replace(str(Path(result.path)), name)))
        elif result.status == "duplicate":
            st.info(state.plain(f"{name}: already in the project as {result.document}"))
        else:
            st.success(state.plain(f"{name}: added as {result.document} (case {result.case}, "
                                   f"{result.turns} turns, {result.words:,} words)"))
    if waiting is not None:
        st.info(f"{waiting:,} suggestions for the new documents wait on the Review page.")


def _suggest_for(proj, names):
    """Suggestions for newly added documents, so they are in the review queue at once (the
    rules, and the model once codings have trained it). None when there is no codebook."""
    if proj.codebook_or_none() is None:
        return None
    quiet = lambda message: None  # noqa: E731 - the review queue is the report
    with st.spinner("Suggesting codes for the new documents..."):
        try:
            return proj.suggest(documents=names, warn=quiet)
        except SuggesterError:  # no model yet (no codings; a codebook without examples)
            return state.safely(proj.suggest, documents=names, model=False, warn=quiet)


def _save_upload(folder, number, upload, which):
    """Write an upload into its own folder under its base name (never a path from the
    browser); None, with a message naming it, when the name is not a usable file name."""
    name = Path(str(upload.name).replace("\\", "/")).name
    if name in ("", ".", ".."):
        st.error(state.plain(f"{which} ({upload.name!r}) has no usable file name; rename the "
                             "file and upload it again. The other files are still added."))
        return None
    path = Path(folder) / str(number) / name
    try:
        path.parent.mkdir()
        path.write_bytes(upload.getvalue())
    except (OSError, ValueError) as exc:  # a name too long, or with a NUL byte
        st.error(state.plain(f"{upload.name}: cannot be saved under this name "
                             f"({getattr(exc, 'strerror', None) or exc}); rename the file and "
                             "upload it again"))
        return None
    return path


def _upload_label(upload, files):
    """The upload's name, and which one it is when the batch holds others of that name."""
    same = [other for other in files if other.name == upload.name]
    if len(same) < 2:
        return upload.name
    place = next(n for n, other in enumerate(same, 1) if other is upload)
    return f"{upload.name} (upload {place} of {len(same)} with this name)"
