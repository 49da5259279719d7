"""A file in or out, its kind chosen by its extension (or the table asked for): the one place
that routes, so the CLI's `import` and `export`, the app and notebooks behave the same.

>>> print(import_file(project, "study.qdpx", warn=print))
>>> print(export(project, "code-by-case", "presence.xlsx", Options(value="presence")))
"""

from pathlib import Path

from ..errors import CodingError
from . import exports, refi
from .exports import Options
from .llm_calls import write_llm_calls
from .report import write_report

REFI_PROJECTS = (".qdpx", ".qde")
IMPORTS = {".qdpx": "a REFI-QDA project", ".qde": "a REFI-QDA project",
           ".qdc": "a REFI-QDA codebook", ".yaml": "a codebook", ".yml": "a codebook",
           ".csv": "codings", ".xlsx": "codings", ".docx": "a transcript coded with Word comments"}
EXPORTS = (*exports.TABLES, "report", "qdc", "qdpx", "llm-calls")


def import_file(project, path, warn=print):
    """Import `path` into `project`, the reader picked by its extension: .qdpx/.qde (a REFI-QDA
    project from NVivo, ATLAS.ti, MAXQDA, QualCoder...), .qdc (a REFI-QDA codebook),
    .yaml/.yml (a codebook), .csv/.xlsx (codings), .docx (a transcript coded with Word
    comments). `warn` is told what was left out or chosen. Returns one line saying what came
    in. A REFI-QDA project of which some source's codings were all dropped raises
    refi.IncompleteImportError after it is stored and `warn` is told why, so no interface
    reports it as a success (issue 15, item 2)."""
    suffix = Path(path).suffix.lower()
    if suffix in (*REFI_PROJECTS, ".qdc"):
        report = refi.import_refi(project, path)
        for warning in report.warnings:
            warn(warning)
        if report.dropped:
            raise refi.IncompleteImportError(report)
        return f"{path}: {report.summary()}"
    if suffix in (".yaml", ".yml"):
        book, changed = project.import_codebook(path)
        return f"codebook '{book.name}': {len(book.codes)} codes" + ("" if changed
                                                                    else " (unchanged)")
    if suffix in (".csv", ".xlsx"):
        added, skipped = project.import_codings(path, warn=warn)
        return f"{added} codings imported, {skipped} already present"
    if suffix == ".docx":
        added, skipped, document = project.import_word_comments(path)
        return f"{path}: {added} codings added to {document}, {skipped} already present"
    raise CodingError(f"cannot import '{suffix or Path(path).name}' files; use "
                      ".qdpx, .qde, .qdc, .yaml, .csv, .xlsx or .docx", path=path)


def preview_import(project, path, warn=print):
    """What import_file would do, with nothing stored: the import runs on a scratch copy of
    the project (Project.scratch_copy), and the copy's counts before and after say what it
    would add. `warn` is told what would be left out and why. Returns the lines to show."""
    with project.scratch_copy() as copy:
        before = _contents(copy)
        try:
            line = import_file(copy, path, warn)
        except refi.IncompleteImportError as exc:  # the preview says it; nothing is stored
            line = f"{path}: {exc.report.summary()}"
        after = _contents(copy)
    new_documents = sorted(after["documents"] - before["documents"])
    lines = [f"Dry run, nothing stored: {line}"]
    if new_documents:
        lines.append(f"would add {len(new_documents)} documents: " + ", ".join(new_documents[:10])
                     + (f" and {len(new_documents) - 10} more" if len(new_documents) > 10
                        else ""))
    for key, noun in (("codes", "codes"), ("cases", "cases"), ("memos", "memos")):
        if after[key] != before[key]:
            lines.append(f"would add {after[key] - before[key]} {noun}")
    coders = {coder: n - before["codings"].get(coder, 0)
              for coder, n in after["codings"].items() if n > before["codings"].get(coder, 0)}
    if coders:
        lines.append(f"would add {sum(coders.values())} codings: " + ", ".join(
            f"{n} by {coder}" for coder, n in sorted(coders.items())))
    return lines


def _contents(project):
    summary = project.summary()
    frame = project.codings_frame(statuses=None)
    return {"documents": {d.name for d in project.documents()}, "codes": summary["codes"],
            "cases": summary["cases"], "memos": summary["memos"],
            "codings": frame["coder"].value_counts().to_dict() if len(frame) else {}}


def export(project, what, target, fmt=None, options=Options(), raw=False, warn=print):
    """Write `what` (a table of exports.TABLES, "report", "qdc" or "qdpx") of `project` to
    `target`, a path or a binary file object; a table's format comes from `fmt`, else the
    path's extension. `warn` is told what a REFI export left out. `options.code_group` and
    `document_group` limit a table; `options.positions` ("codepoints" or "utf16", for NVivo)
    is the unit of a .qdpx's positions. Returns one line saying what was written."""
    if (options.code_group or options.document_group) and what not in exports.TABLES:
        raise CodingError(f"code and document groups limit the tables ({', '.join(exports.TABLES)})"
                          f", not {what}")
    if options.positions != "codepoints" and what != "qdpx":
        raise CodingError(f"positions in {options.positions} are for a qdpx project, not {what}")
    if what == "llm-calls":  # every prompt sent and answer received, as JSON Lines
        return write_llm_calls(project, target)
    if what == "report":
        themes = write_report(project, target, group=options.attribute,
                              exemplars=max(options.exemplars, 1),
                              include_suggestions=options.include_suggestions)
        return f"Report on {themes} themes written to {_name(target)}"
    if what in ("qdc", "qdpx"):
        report = refi.export_qdc(project, target) if what == "qdc" else \
            refi.export_qdpx(project, target, include_suggestions=options.include_suggestions,
                             positions=options.positions)
        for warning in report.warnings:
            warn(warning)
        groups = f", {report.groups} groups" if report.groups else ""
        unit = ", positions in UTF-16 code units" if report.positions == "utf16" else ""
        return (f"REFI-QDA {what} written to {_name(target)}: {report.documents} documents, "
                f"{report.codes} codes, {report.codings} codings, {report.memos} memos, "
                f"{report.cases} cases, {report.users} users{groups}{unit}")
    if what not in exports.TABLES:
        raise CodingError(f"cannot export '{what}'; choose one of {', '.join(EXPORTS)}")
    result = exports.tables(project, what, options)
    if hasattr(target, "write"):
        written = exports.format_of(fmt, getattr(target, "name", ""))
        target.write(exports.to_bytes(result, written, raw=raw))
    else:
        written = exports.write(result, target, fmt, raw=raw)
    main_table = next(iter(result.values()))
    return f"{what} ({main_table.shape[0]} rows) written to {_name(target)} as {written}"


def _name(target):
    return getattr(target, "name", "a file") if hasattr(target, "write") else str(target)
