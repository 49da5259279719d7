"""Publication exports: the analysis tables of a project written as xlsx, csv, LaTeX, Markdown
or a heatmap image. Files are written atomically (a temporary file, then a rename) by
files.write_atomic, which never replaces a device, FIFO or socket and follows symbolic links.

Text is made safe for where it goes: csv cells a spreadsheet would run as formulas get a leading
apostrophe (as in our xlsx files; `raw=True` for R and pandas), Markdown and LaTeX special
characters are escaped, so data shows as the text it is (issue 13).

`tables(project, what, ...)` builds the tables (pandas); `write(tables, path, fmt)` writes them.
A code group and a document group (`Options.code_group`, `document_group`; Project.groups)
limit a table to their codes and documents (and a code-by-case table to those documents'
cases). The docx report lives in report.py and REFI-QDA in refi/.
"""

import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import matrices as analysis
from ..errors import CodingError
from ..files import write_atomic
from ..readers.sheets import FORMULA_LIKE, neutralise
from ..records import COUNTED_STATUSES, WITH_SUGGESTIONS
from . import xlsx

TABLES = ("codings", "code-by-case", "code-by-attribute", "cooccurrence", "framework")
FORMATS = {"xlsx": "xlsx", "csv": "csv", "tex": "tex", "latex": "tex", "md": "md",
           "markdown": "md", "png": "png", "svg": "svg"}
CODING_EXPORT_COLUMNS = ["coding_id", "document", "case", "turn", "speaker", "role", "code",
                         "code_name", "code_path", "start", "end", "quote", "coder", "status",
                         "origin", "score", "memo"]
QUOTES_PER_CELL = 3  # exemplar quotes per code and case on a matrix workbook's Quotes sheet
# A spreadsheet of codings holds what a reader scans plus what `coding import-codings` needs to
# read it back (document, code id, start/end, quote, coder, memo); the full tidy frame (every
# attribute, scores, levels) goes to csv. Fewer cells also keep 200,000 codings quick to write.
SPREADSHEET_CODING_COLUMNS = ["coding_id", "document", "case", "turn", "speaker", "code",
                              "code_path", "start", "end", "quote", "coder", "status", "memo"]


class ExportError(CodingError):
    """An export that cannot be made (unknown table or format, nothing to export)."""


@dataclass(frozen=True)
class Options:
    include_suggestions: bool = False
    value: str = "count"          # code-by-case cells: count, presence, words, percent
    attribute: str | None = None  # code-by-attribute: which case attribute (default: first)
    mode: str = "turn"            # co-occurrence: turn or overlap
    exemplars: int = 2            # framework: quotes per cell
    code_group: str | None = None      # only the codes of this code group
    document_group: str | None = None  # only the documents of this document group
    positions: str = "codepoints"  # qdpx: selection positions in code points, or "utf16"


def tables(project, what, options=Options()):
    """{sheet name: DataFrame} for one export. The first table is the main one (the only one
    written to csv, LaTeX, Markdown and images); xlsx also gets Codebook and Quotes sheets."""
    if what not in TABLES:
        raise ExportError(f"cannot export '{what}': choose one of {', '.join(TABLES)}, "
                          "report, qdc or qdpx")
    frame = project.codings_frame(statuses=WITH_SUGGESTIONS if options.include_suggestions
                                  else COUNTED_STATUSES)
    codebook = project.codebook()
    names = {code.id: code.name for code in codebook.codes}
    cases = list(project.cases()["case"])
    frame, cases = in_groups(project, frame, cases, options)
    if what == "codings":
        frame = frame.assign(memo=frame["coding_id"].map(coding_memos(project)))
        extra = [c for c in frame.columns if c not in CODING_EXPORT_COLUMNS
                 and c not in ("rationale", "created_at") and not c.startswith("level_")]
        return {"Codings": frame.reindex(columns=CODING_EXPORT_COLUMNS + extra),
                "Cases": project.cases(), "Codebook": codebook_table(codebook)}
    if frame.empty and (options.code_group or options.document_group):
        within = " and ".join(f"{kind} group '{name}'" for kind, name in (
            ("code", options.code_group), ("document", options.document_group)) if name)
        raise ExportError(f"has no codings to count in {within}", path=project.store.label)
    if frame.empty:
        raise ExportError("has no codings to count yet (accepted or manual); add "
                          "--include-suggestions to count pending suggestions",
                          path=project.store.label)
    if what == "code-by-case":
        words = project.case_words() if options.value == "percent" else None
        matrix = analysis.code_by_case(frame, options.value, cases, words, codebook)
        result = {f"Code x case ({options.value})": _named(matrix, names)}
    elif what == "code-by-attribute":
        attribute = options.attribute or first_attribute(project)
        check_attribute(project, attribute)
        codings, with_code = analysis.code_by_attribute(
            frame, analysis.attribute_column(frame, attribute), codebook,
            analysis.attribute_values(project.cases(), attribute))
        combined = pd.concat({"codings": codings, "cases": with_code}, axis=1)
        combined.columns = [f"{value} ({kind})" for kind, value in combined.columns]
        result = {f"Code x {attribute}"[:31]: _named(combined, names)}
    elif what == "cooccurrence":
        matrix = analysis.cooccurrence(frame, options.mode, codebook)
        result = {f"Co-occurrence ({options.mode})": _named(matrix, names, columns=True)}
    else:
        matrix = analysis.framework_matrix(frame, codebook, project.framework_summaries(),
                                           options.exemplars, cases)
        result = {"Framework": matrix}
    result["Codebook"] = codebook_table(codebook)
    quotes = analysis.exemplar_quotes(frame, QUOTES_PER_CELL, by=["code", "case"])
    result["Quotes"] = quotes.sort_values(["code_path", "case", "document", "start"]).reindex(
        columns=["code_name", "case", "document", "turn", "speaker", "role", "quote", "coder",
                 "status"])
    return result


def in_groups(project, frame, cases, options):
    """The codings of `frame` in the options' code group and document group (all when none is
    given), and the `cases` left: with a document group, the cases of its documents. An
    unknown group is a StoreError naming the groups there are."""
    if options.code_group:
        codes = set(project.group("code", options.code_group).members)
        frame = frame[frame["code"].isin(codes)]
    if options.document_group:
        documents = set(project.group("document", options.document_group).members)
        frame = frame[frame["document"].isin(documents)]
        owners = {d.case for d in project.documents() if d.name in documents}
        cases = [case for case in cases if case in owners]
    return frame, cases


def coding_memos(project):
    """{coding id: its memos' text} (several memos joined by a blank line)."""
    memos = project.memos()
    memos = memos[memos["target_type"] == "coding"]
    return memos.groupby("target_id")["text"].agg("\n\n".join).to_dict()


def codebook_table(codebook):
    return pd.DataFrame([{"id": c.id, "name": c.name, "path": codebook.path(c.id),
                          "definition": c.definition, "include when": c.inclusion,
                          "exclude when": c.exclusion, "examples": "\n".join(c.examples)}
                         for c in codebook.walk()])


def write(result, path, fmt=None, raw=False):
    """Write tables from `tables()` to path in fmt (default: from the file's extension).
    raw=True writes csv text as it is, formula-like cells included (see `to_csv`)."""
    fmt = format_of(fmt, path)
    write_atomic(path, to_bytes(result, fmt, raw=raw))
    return fmt


def format_of(fmt, path):
    """The table format asked for (`fmt`), else the one `path`'s extension names."""
    found = FORMATS.get((fmt or str(path).rsplit(".", 1)[-1]).lower())
    if found is None:
        raise ExportError(f"unknown format for {path}: use one of "
                          f"{', '.join(sorted(set(FORMATS.values())))} (or docx for a report)")
    return found


def to_bytes(result, fmt, raw=False):
    """The file content of tables from `tables()` in fmt (xlsx, csv, tex, md, png, svg);
    raw=True: csv text untouched (see `to_csv`)."""
    title, main = next(iter(result.items()))
    if fmt == "xlsx" and "Codings" in result:
        result = {**result, "Codings": result["Codings"][SPREADSHEET_CODING_COLUMNS]}
    writers = {"xlsx": lambda: xlsx.workbook(result),
               "csv": lambda: to_csv(main, raw=raw).encode("utf-8"),
               "tex": lambda: to_latex(main).encode("utf-8"),
        "md": lambda: to_markdown(main).encode("utf-8"),
        "png": lambda: heatmap(main, "png", title), "svg": lambda: heatmap(main, "svg", title)}
    return writers[fmt]()


def to_csv(table, raw=False):
    """CSV text of a table. Text a spreadsheet would run as a formula (starting with = + - @,
    a tab or a CR, also after apostrophes) gets a leading apostrophe, as in our xlsx files, so
    `=HYPERLINK(...)` in a code name or a memo stays text when the file is opened in Excel or
    LibreOffice; `coding import-codings` removes that one apostrophe again. Numbers stay
    numbers (-3 in a number column is written -3). raw=True writes every text untouched, for R
    and pandas."""
    frame = table if raw else neutralise_frame(table)
    return frame.to_csv(index=xlsx.keeps_index(table))


def neutralise_frame(table):
    """A copy of `table` whose text cells, column headers and row labels that a spreadsheet
    would run as a formula start with an apostrophe; numbers, dates and booleans unchanged."""
    frame = table.copy()
    for i in range(frame.shape[1]):  # by position: two codes can share a name
        frame.isetitem(i, _neutralised(frame.iloc[:, i]))
    frame.columns = _neutralised_labels(frame.columns)
    frame.index = _neutralised_labels(frame.index)
    return frame


def _neutralised(column):
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return column
    try:
        formula = column.str.match(FORMULA_LIKE, na=False).to_numpy(dtype=bool)
    except AttributeError:  # no text in this column at all
        return column
    if not formula.any():
        return column
    values = column.to_numpy(dtype=object, copy=True)
    values[formula] = ["'" + value for value in values[formula]]
    return pd.Series(values, index=column.index, name=column.name)


def _neutralised_labels(labels):
    if isinstance(labels, pd.MultiIndex):
        return labels.set_levels([_neutralised_labels(level) for level in labels.levels])
    return pd.Index([neutralise(label) for label in labels], name=labels.name,
                    dtype=labels.dtype if pd.api.types.is_numeric_dtype(labels) else None)


def to_latex(table):
    """A booktabs table (\\toprule, \\midrule, \\bottomrule) with LaTeX specials escaped."""
    if xlsx.keeps_index(table):  # the corner cell names the rows ("code"), as in Markdown
        table = table.rename_axis(columns=table.index.name)
    styler = table.style.format(escape="latex", precision=2).format_index(escape="latex", axis=0) \
        .format_index(escape="latex", axis=1)
    styler = styler.hide(axis="index") if not xlsx.keeps_index(table) else \
        styler.hide(axis="index", names=True)
    numeric = ["r" if pd.api.types.is_numeric_dtype(table[c]) else "p{5cm}" for c in table.columns]
    first = "l" if xlsx.keeps_index(table) else ""
    return styler.to_latex(hrules=True, column_format=first + "".join(numeric))


# Characters that make Markdown (CommonMark, GitHub, pandoc) out of text in a table cell:
# links and images ([x](url), ![x](url)), raw HTML (<img ...>), emphasis, code, strikethrough,
# math, entities and the cell's own pipes. Each gets a backslash, so a cell shows its text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>|!~&$])")


def to_markdown(table):
    """A GitHub-style pipe table. Text from the data (code names, quotes, case names, headers)
    is shown literally: Markdown's special characters are escaped, so a code named
    `![x](http://host/p.png)` or `<img src=x>` is not an image; line breaks become <br>."""
    frame = table.reset_index() if xlsx.keeps_index(table) else table

    def cell(value):
        if pd.isna(value):
            return ""
        if isinstance(value, float):
            return f"{value:.2f}".rstrip("0").rstrip(".")
        if isinstance(value, (int, np.integer)):
            return str(value)
        text = _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))
        return text.replace("\r", "").replace("\n", "<br>")

    lines = ["| " + " | ".join(cell(c) for c in frame.columns) + " |",
             "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---"
                               for c in frame.columns) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False, name=None)]
    return "\n".join(lines) + "\n"


def heatmap(matrix, fmt="png", title=None):
    """A matrix of numbers as a labelled heatmap image (png or svg) for a paper's figure;
    the title says what the numbers are ("Code x case (percent)")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    numbers = matrix.select_dtypes("number")
    if numbers.empty:
        raise ExportError("only number matrices can be drawn as a heatmap "
                          "(code-by-case, code-by-attribute, cooccurrence)")
    height = max(2.5, 0.35 * len(numbers.index) + 1.5)
    width = max(4.0, 0.45 * len(numbers.columns) + 3.5)
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(numbers.to_numpy(dtype=float), cmap="Blues", aspect="auto")
    # parse_math=False: names are text, and "$...$" in one would be read as mathtext (and
    # "$\frac{$" would crash the drawing: issue 13)
    axes.set_xticks(range(len(numbers.columns)), [str(c) for c in numbers.columns],
                    rotation=60, ha="right", fontsize=8, parse_math=False)
    axes.set_yticks(range(len(numbers.index)), [str(i) for i in numbers.index], fontsize=8,
                    parse_math=False)
    if numbers.size <= 600:  # small enough to print the values in the cells
        top = numbers.to_numpy(dtype=float).max() or 1
        for (row, column), value in pd.DataFrame(numbers.to_numpy()).stack().items():
            axes.text(column, row, f"{value:g}", ha="center", va="center", fontsize=7,
                      color="white" if value > top * 0.6 else "black")
    figure.colorbar(image, ax=axes, shrink=0.8)
    if title:
        axes.set_title(title, fontsize=10, parse_math=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=200)
    plt.close(figure)
    return buffer.getvalue()


def _named(matrix, names, columns=False):
    named = matrix.rename(index=names)
    return named.rename(columns=names) if columns else named


def first_attribute(project):
    attributes = [c for c in project.cases().columns if c not in ("case", "documents")]
    if not attributes:
        raise ExportError("the cases have no attributes: import a participants sheet first",
                          path=project.store.label)
    return "role" if "role" in attributes else attributes[0]


def check_attribute(project, attribute):
    known = [c for c in project.cases().columns if c not in ("case", "documents")]
    if attribute not in known:
        raise ExportError(f"no case attribute '{attribute}' (the cases have: "
                          f"{', '.join(known) or 'none'})", path=project.store.label)
