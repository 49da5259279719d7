"""A Word report for a paper: per theme, counts by case group and exemplar quotes with the
participant's attributes; the codebook as an appendix."""

import io
from datetime import date

from ..analysis import matrices as analysis
from ..files import write_to
from ..records import COUNTED_STATUSES, WITH_SUGGESTIONS
from .exports import ExportError, check_attribute, first_attribute


def write_report(project, target, group=None, exemplars=3, include_suggestions=False):
    """Write the report to `target`: a path (written atomically) or a binary file object. group: the case attribute to compare (default:
    role when the cases have one, else the first attribute). Returns the number of themes."""
    import docx
    from docx.shared import Pt

    frame = project.codings_frame(statuses=WITH_SUGGESTIONS if include_suggestions
                                  else COUNTED_STATUSES)
    if frame.empty:
        raise ExportError("has no codings to report yet", path=project.store.label)
    codebook = project.codebook()
    cases = project.cases()
    group = group or first_attribute(project)
    check_attribute(project, group)
    column = analysis.attribute_column(frame, group)
    case_groups = analysis.value_labels(cases.set_index("case")[group])
    frame = frame.assign(_theme=frame["code_path"].str.split("/").str[0])
    summary = project.summary()
    counted = "accepted, manual and pending" if include_suggestions else "accepted and manual"

    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10.5)
    document.add_heading(f"Themes: {summary['project']}", level=0)
    document.add_paragraph(
        f"{summary['documents']} documents, {len(cases)} cases, {len(frame)} codings by "
        f"{frame['coder'].nunique()} coder(s); codebook {codebook.name} {codebook.version}. "
        f"Counts include {counted} codings. "
        f"Made {date.today().isoformat()}.")
    themes = analysis.themes(codebook)
    for theme in themes:
        coded = frame[frame["_theme"] == theme.id]
        document.add_heading(theme.name, level=1)
        if theme.definition:
            document.add_paragraph(theme.definition).italic = True
        _group_table(document, coded, case_groups, column, group)
        for child in codebook.children(theme.id):
            n = int((coded["code_path"].str.split("/").str[1] == child.id).sum())
            document.add_paragraph(f"{child.name}: {n} codings", style="List Bullet")
        quotes = analysis.exemplar_quotes(coded, exemplars)
        if len(quotes):
            document.add_heading("Exemplar quotes", level=2)
        for quote in quotes.itertuples():
            paragraph = document.add_paragraph(style="Quote")
            paragraph.add_run(f"\u201c{' '.join(quote.quote.split())}\u201d")
            attribution = document.add_paragraph()
            attribution.add_run(f"\u2014 {quote.case}{_attributes(quote, cases)}; "
                                f"{quote.document}, turn {quote.turn}").italic = True
    _memos(document, project.memos())
    _codebook_appendix(document, codebook)
    buffer = io.BytesIO()
    document.save(buffer)
    write_to(target, buffer.getvalue())
    return len(themes)


def _group_table(document, coded, case_groups, column, group):
    values = sorted(case_groups.unique())
    table = document.add_table(rows=1, cols=3)
    table.style = "Light List Accent 1"
    for cell, text in zip(table.rows[0].cells, (group, "codings", "cases with the theme")):
        cell.text = text
    for value in values:
        in_group = coded[analysis.value_labels(coded[column]) == value] \
            if column in coded.columns else coded.head(0)
        row = table.add_row().cells
        row[0].text = value
        row[1].text = str(len(in_group))
        row[2].text = f"{in_group['case'].nunique()} of {int((case_groups == value).sum())}"


def _attributes(quote, cases):
    row = cases[cases["case"] == quote.case]
    if row.empty:
        return ""
    values = [f"{k}: {_plain(v)}" for k, v in row.iloc[0].items()
              if k not in ("case", "documents") and v == v and v not in ("", None)]
    return f" ({', '.join(values)})" if values else ""


def _plain(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value.date() if hasattr(value, "date") and hasattr(value, "hour") else value)


MEMO_SECTIONS = (("project", "On the project"), ("document", "On documents"),
                 ("case", "On cases"), ("code", "On codes"), ("coding", "On coded passages"))


def _memos(document, memos):
    """The memos, by what they are on: what (the quote of a coded passage, a document's or
    code's name), the title and text, and who wrote it when (issue 16, item 7)."""
    if memos.empty:
        return
    document.add_heading("Memos", level=1)
    for kind, heading in MEMO_SECTIONS:
        chosen = memos[memos["target_type"] == kind]
        if chosen.empty:
            continue
        document.add_heading(heading, level=2)
        for memo in chosen.itertuples():
            if kind != "project":
                document.add_paragraph().add_run(memo.about).bold = True
            if memo.title:
                document.add_paragraph().add_run(memo.title).italic = True
            document.add_paragraph(memo.text)
            edited = " (edited)" if _edited(memo) else ""
            document.add_paragraph().add_run(
                f"\u2014 {memo.coder}, {_day(memo.created_at)}{edited}").italic = True


def _day(moment):
    return f"{moment.day} {moment:%B %Y}" if hasattr(moment, "strftime") else str(moment)


def _edited(memo):
    """Changed after it was written (memos from before issue 16 got two times microseconds
    apart)."""
    try:
        return (memo.updated_at - memo.created_at).total_seconds() > 0.001
    except TypeError:  # a time missing
        return False


def _codebook_appendix(document, codebook):
    document.add_page_break()
    document.add_heading("Appendix: codebook", level=1)
    for code in codebook.walk():
        depth = codebook.path(code.id).count("/")
        document.add_heading(code.name, level=min(2 + depth, 4))
        for label, text in (("Definition", code.definition), ("Include when", code.inclusion),
                            ("Exclude when", code.exclusion)):
            if text:
                paragraph = document.add_paragraph()
                paragraph.add_run(f"{label}: ").bold = True
                paragraph.add_run(text)
        for example in code.examples:
            document.add_paragraph(f"\u201c{example}\u201d", style="List Bullet")
