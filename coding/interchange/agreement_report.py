"""Reliability for papers (issue 18): a rating table read and assessed, and the agreement
report a methods section needs (units, coders, statistic, level, value, interval and the exact
definition used) as a Markdown or Word paragraph, an xlsx workbook, csv or JSON."""

import io
import json
import math
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..analysis import reliability
from ..errors import CodingError
from ..files import write_to
from ..readers.ratings import read_ratings
from .exports import _MARKDOWN_SPECIAL, ExportError, to_csv, to_markdown
from .xlsx import workbook

FORMATS = ("xlsx", "csv", "md", "docx", "json")
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv", "md": "text/markdown", "json": "application/json",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
REFERENCES = {
    "alpha": "Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg "
             "School for Communication, University of Pennsylvania.",
    "bootstrap": "Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard "
                 "reliability measure for coding data. Communication Methods and Measures, "
                 "1(1), 77-89.",
    "cohen": "Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and "
             "Psychological Measurement, 20(1), 37-46.",
    "cohen-weighted": "Cohen, J. (1968). Weighted kappa: Nominal scale agreement with provision "
                      "for scaled disagreement or partial credit. Psychological Bulletin, 70(4), "
                      "213-220.",
    "fleiss": "Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. "
              "Psychological Bulletin, 76(5), 378-382.",
    "ac1": "Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the "
           "presence of high agreement. British Journal of Mathematical and Statistical "
           "Psychology, 61(1), 29-48.",
    "gwet": "Gwet, K. L. (2014). Handbook of inter-rater reliability (4th ed.). Advanced "
            "Analytics.",
    "brennan-prediger": "Brennan, R. L., & Prediger, D. J. (1981). Coefficient kappa: Some uses, "
                        "misuses, and alternatives. Educational and Psychological Measurement, "
                        "41(3), 687-699.",
}
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def assess_file(path, coders_in="columns", metrics=None, level="nominal", weights=None,
                order=None, bootstrap=0, seed=None, warn=None):
    """Read a rating table (.csv/.tsv/.xlsx; readers.ratings) and assess it
    (reliability.assess). `order` is a list of labels or one comma-separated text."""
    notes = []
    table = read_ratings(path, coders_in, warnings=notes)
    for note in notes:
        (warn or (lambda _: None))(note)
    if isinstance(order, str):
        order = [label.strip() for label in order.split(",") if label.strip()]
    try:
        return reliability.assess(table, metrics, level, weights, order or None, bootstrap, seed,
                                  source=f"the {len(table)} units of {Path(path).name}")
    except reliability.ReliabilityError as exc:
        raise reliability.ReliabilityError(exc.message, path=path) from exc


def assess_upload(name, content, **options):
    """assess_file for a rating table given as bytes (an upload called `name`): read from a
    scratch folder, and messages name the upload, not the scratch file."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".xlsx", ".xlsm"):
        raise reliability.ReliabilityError(f"{name}: a rating table is .csv, .tsv or .xlsx")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"ratings{suffix}"
        path.write_bytes(content)
        try:
            found = assess_file(path, **options)
        except CodingError as exc:
            message = str(exc).replace(str(path), name)
            raise reliability.ReliabilityError(message) from exc
    return replace(found, source=found.source.replace(path.name, name))


def methods_paragraph(assessment, markdown=False):
    """A paragraph ready for a methods section: who rated what, each statistic with its level,
    value and (alpha) bootstrapped interval, and the statistics' definitions.

    >>> methods_paragraph(project.category_reliability("intensity", ["ann", "bo"]))
    """
    plain = _escaped if markdown else str
    coders = assessment.coders
    count = _NUMBERS[len(coders)] if len(coders) < len(_NUMBERS) else str(len(coders))
    sentences = [f"{count.capitalize()} coders ({plain(_listed(coders))}) independently coded "
                 f"{plain(assessment.source or f'{assessment.units} units')}."]
    sentences += [plain(note) for note in assessment.notes]
    figures = [_figure(result) for result in assessment.results]
    if figures:
        sentences.append("Inter-coder reliability: " + "; ".join(figures) + ".")
    sentences.append("Definitions: " + "; ".join(
        result.definition for result in assessment.results) + ".")
    return " ".join(sentences)


def _figure(result):
    if math.isnan(result.value):
        text = f"{result.name} undefined ({result.warning or 'no variation'})"
    elif result.metric == "percent":
        text = f"{result.name} {result.value:.1%}"
    else:
        symbol = {"alpha": "α", "cohen": "κ", "fleiss": "κ"}.get(result.metric)
        text = f"{result.name}, {symbol} = {result.value:.3f}" if symbol else \
            f"{result.name} = {result.value:.3f}"
    text += f" over {result.units} unit{'s' if result.units != 1 else ''}"
    boot = result.bootstrap
    if boot is not None:
        below = " and ".join(f"{p:.3f} that α < {m:g}" for m, p in boot.below.items())
        text += (f", {boot.confidence:.0%} CI [{boot.low:.3f}, {boot.high:.3f}] from "
                 f"{boot.samples:,} bootstrap samples of {boot.draws} pairable values each "
                 f"(Hayes & Krippendorff 2007{f'; seed {boot.seed}' if boot.seed is not None else ''}), "
                 f"with a probability of {below}")
    return text


def _listed(names):
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _escaped(text):
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def references(assessment):
    """The works the report's statistics come from, in alphabetical order."""
    keys = set()
    for result in assessment.results:
        keys.add("cohen-weighted" if result.metric == "cohen" and result.weights
                 else result.metric)
        if result.metric in ("ac1", "percent", "brennan-prediger"):
            keys.add("gwet")
        if result.bootstrap is not None:
            keys.add("bootstrap")
    return sorted(REFERENCES[k] for k in keys if k in REFERENCES)


def report_tables(assessment):
    """{"Reliability": one row per statistic, "Methods": the paragraph, warnings and
    references, one line per row} for a workbook."""
    lines = [("methods", methods_paragraph(assessment))]
    lines += [("warning", warning) for warning in assessment.warnings]
    lines += [("reference", reference) for reference in references(assessment)]
    return {"Reliability": assessment.table(),
            "Methods": pd.DataFrame(lines, columns=["part", "text"])}


def report_bytes(assessment, fmt):
    """The report as a file's content: xlsx (both tables), csv (the statistics), md or docx (the
    paragraph, the table, warnings and references), json (the statistics and the paragraph)."""
    if fmt not in FORMATS:
        raise ExportError(f"an agreement report is one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "xlsx":
        return workbook(report_tables(assessment))
    if fmt == "csv":
        return to_csv(assessment.table()).encode("utf-8")
    if fmt == "json":
        return json.dumps({"results": assessment.as_dicts(), "units": assessment.units,
                           "coders": list(assessment.coders),
                           "warnings": list(assessment.warnings),
                           "methods": methods_paragraph(assessment)},
                          indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "md":
        return _markdown(assessment).encode("utf-8")
    return _docx(assessment)


def write_report(assessment, target, fmt=None):
    """Write the report to `target` (a path, written atomically, or a binary file); the format
    is `fmt` or the path's extension. Returns the format."""
    fmt = (fmt or str(getattr(target, "name", target)).rsplit(".", 1)[-1]).lower()
    write_to(target, report_bytes(assessment, fmt))
    return fmt


def _shown(assessment):
    """The statistics as text for a document: values to three decimals, the interval's
    columns only when there is an interval."""
    frame = assessment.table()
    columns = ["statistic", "value", "ci_low", "ci_high", "units", "coders"]
    frame = frame[[c for c in columns if c not in ("ci_low", "ci_high")
                   or frame[c].notna().any()]].copy()
    for column in ("value", "ci_low", "ci_high"):
        if column in frame:
            frame[column] = [("undefined" if column == "value" else "") if pd.isna(v)
                             else f"{v:.3f}" for v in frame[column]]
    return frame.rename(columns={"ci_low": "95% CI low", "ci_high": "95% CI high"})


def _markdown(assessment):
    parts = ["## Inter-coder reliability", "", methods_paragraph(assessment, markdown=True), "",
             to_markdown(_shown(assessment))]
    if assessment.warnings:
        parts += ["**Warnings**", ""] + [f"- {_escaped(w)}" for w in assessment.warnings] + [""]
    parts += ["**References**", ""] + [f"- {r}" for r in references(assessment)]
    return "\n".join(parts) + "\n"


def _docx(assessment):
    import docx

    document = docx.Document()
    document.add_heading("Inter-coder reliability", level=1)
    document.add_paragraph(methods_paragraph(assessment))
    frame = _shown(assessment)
    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Light List Accent 1"
    for cell, column in zip(table.rows[0].cells, frame.columns):
        cell.text = str(column)
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = str(value)
    for warning in assessment.warnings:
        document.add_paragraph(warning, style="List Bullet")
    document.add_heading("References", level=2)
    for reference in references(assessment):
        document.add_paragraph(reference)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
