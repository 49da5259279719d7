"""Export: download the codings, theme matrices, a Word report and REFI-QDA files, made by the
same functions as `coding export`."""

import io

import streamlit as st

from ..interchange import exports, transfer
from . import state

TABLE_TITLES = {"codings": "Codings (one row per coding)", "code-by-case": "Code × case",
                "code-by-attribute": "Code × attribute", "cooccurrence": "Co-occurrence",
                "framework": "Framework matrix (cases × themes, summaries and quotes)"}
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "tex": "text/x-tex", "md": "text/markdown", "png": "image/png",
        "svg": "image/svg+xml"}


def export_page(proj):
    label, version = proj.store.label, state.version(proj)
    st.title("Export")
    codebook = state.codebook(proj, label, version)
    if codebook is None:
        st.info("Import a codebook first.")
        return
    include = st.toggle("Include pending suggestions", key="export_suggested")
    left, right = st.columns(2)
    what = left.selectbox("Table", list(TABLE_TITLES), format_func=TABLE_TITLES.get,
                          key="export_what")
    fmt = right.selectbox("Format", ["xlsx", "csv", "tex", "md", "png", "svg"],
                          key="export_format",
                          help="tex: a LaTeX booktabs table; png/svg: a heatmap for a figure")
    options = exports.Options(include_suggestions=include, **_table_options(what, state.cases(
        proj, label, version)))
    inputs = (version, what, fmt, repr(options))
    if st.button("Prepare file", key="export_prepare"):
        result = state.safely(exports.tables, proj, what, options)
        content = state.safely(exports.to_bytes, result, fmt) if result else None
        if content is not None:
            st.session_state["export_file"] = (f"{what}.{fmt}", content, MIME[fmt])
            st.session_state["export_file_inputs"] = inputs
    prepared = _still_current("export_file", inputs)
    if prepared:
        name, content, mime = prepared
        st.download_button(f"Download {name}", content, file_name=name, mime=mime,
                           key="export_download")
    st.divider()
    _documents_and_interchange(proj, codebook, include, version)


def _table_options(what, cases):
    attributes = [c for c in cases.columns if c not in ("case", "documents")]
    if what == "code-by-case":
        return {"value": st.radio("Cells", exports.analysis.MATRIX_VALUES, horizontal=True,
                                  key="export_value")}
    if what == "code-by-attribute" and attributes:
        return {"attribute": st.selectbox("Attribute", attributes, key="export_attribute")}
    if what == "cooccurrence":
        return {"mode": st.radio("Together when", exports.analysis.COOCCURRENCE_MODES,
                                 horizontal=True, key="export_mode")}
    if what == "framework":
        return {"exemplars": st.number_input("Quotes per cell", 0, 10, 2,
                                             key="export_exemplars")}
    return {}


def _still_current(key, inputs):
    """A prepared file, while the data and the choices it was made from are unchanged; once
    they change it is dropped, so no download offers a file that no longer matches."""
    if st.session_state.get(f"{key}_inputs") != inputs:
        st.session_state.pop(key, None)
    return st.session_state.get(key)


def _documents_and_interchange(proj, codebook, include, version):
    st.subheader("Report and other tools")
    columns = st.columns(3)
    options = exports.Options(include_suggestions=include)
    if columns[0].button("Prepare Word report", key="export_report"):
        st.session_state["export_report_file"] = _in_memory(
            lambda buffer: transfer.export(proj, "report", buffer, options=options))
        st.session_state["export_report_file_inputs"] = (version, include)
    nvivo = columns[1].checkbox("Positions for NVivo for Windows (UTF-16)", key="export_utf16",
                                help="NVivo for Windows counts positions in UTF-16 code units; "
                                     "other tools count characters")
    if columns[1].button("Prepare REFI-QDA project (.qdpx)", key="export_qdpx"):
        qdpx = exports.Options(include_suggestions=include,
                               positions="utf16" if nvivo else "codepoints")
        st.session_state["export_qdpx_file"] = _in_memory(
            lambda buffer: transfer.export(proj, "qdpx", buffer, options=qdpx))
        st.session_state["export_qdpx_file_inputs"] = (version, include, nvivo)
    for key, name, inputs in (("export_report_file", "themes.docx", (version, include)),
                              ("export_qdpx_file", "project.qdpx", (version, include, nvivo))):
        if _still_current(key, inputs):
            st.download_button(f"Download {name}", st.session_state[key], file_name=name,
                               key=f"{key}_download")
    columns[2].download_button("Codebook (YAML)", proj.codebook_yaml(),
                               file_name=f"{codebook.id}.yaml", key="download-codebook")
    st.caption("A REFI-QDA project opens in NVivo, ATLAS.ti, MAXQDA and QualCoder; "
               "`coding export PROJECT qdc` writes the codebook alone.")


def _in_memory(write):
    """Run a writer into a buffer and return the bytes it wrote (None after an error)."""
    buffer = io.BytesIO()
    if state.safely(write, buffer) is None:
        return None
    return buffer.getvalue()
