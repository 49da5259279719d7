"""Codings files (gold codings, codings kept in spreadsheets) and locating quotes in text."""

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import CodingsFileError
from .archive import check_zip
from .sheets import check_header, read_rows, undo_neutralise

# Typographic variants a spreadsheet or word processor may swap in for what the transcript has.
_FOLD = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
         "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
         "\u2026": "...", "\u00a0": " "}


@dataclass(frozen=True)
class CodingsFileRow:
    line: int
    document: str
    code: str
    coder: str
    quote: str | None
    start: int | None
    end: int | None
    memo: str = ""


def read_codings_file(path, warnings=None):
    """Rows of a codings file (.csv or .xlsx): document, code, coder, and quote or start/end.
    How the file was decoded (an encoding detected, bytes repaired) goes to `warnings`."""
    path = Path(path)
    spreadsheet = path.suffix.lower() in (".xlsx", ".xlsm")
    if spreadsheet:
        check_zip(path, CodingsFileError, ".xlsx workbook")
    rows = [["" if cell is None else str(cell) for cell in row]
            for row in read_rows(path, CodingsFileError, "codings file", warnings)]
    if not rows:
        raise CodingsFileError("is empty", path=path)
    for number, row in enumerate(rows, start=1):
        if any("\x00" in cell for cell in row):
            raise CodingsFileError("contains NUL bytes: binary data, not a codings table",
                                   path=path, line=number)
    check_header(rows[0], path, CodingsFileError)
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("document", "code") if c not in header]
    if missing or ("quote" not in header and not {"start", "end"} <= set(header)):
        raise CodingsFileError("needs columns document, code, coder and either quote or "
                               f"start/end; found: {', '.join(rows[0])}", path=path, line=1)

    def get(row, name):
        i = header.index(name) if name in header else None
        return row[i].strip() if i is not None and i < len(row) and row[i] else ""

    result = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        quote = get(row, "quote") if "quote" in header else ""
        memo = get(row, "memo")
        # Our own xlsx and csv exports put an apostrophe before formula-like text (issue 13).
        quote, memo = undo_neutralise(quote), undo_neutralise(memo)
        document, coder = undo_neutralise(get(row, "document")), undo_neutralise(get(row, "coder"))
        start, end = get(row, "start"), get(row, "end")
        if not quote and not (start and end):
            raise CodingsFileError("row has neither a quote nor start/end", path=path,
                                   line=number)
        try:
            start = int(start) if start else None
            end = int(end) if end else None
        except ValueError as exc:
            raise CodingsFileError(f"start/end must be whole numbers, got {start!r}/{end!r}",
                                   path=path, line=number) from exc
        result.append(CodingsFileRow(line=number, document=document,
                                     code=get(row, "code"), coder=coder,
                                     quote=quote or None, start=start, end=end,
                                     memo=memo))
    return result


def locate_quote(text, quote, start=0):
    """[start, end) of `quote` in `text`: exact first, then ignoring case, runs of white space,
    typographic quotes/dashes and enclosing quotation marks. None when the words are not there."""
    found = text.find(quote, start)
    if found >= 0:
        return found, found + len(quote)
    folded_text, positions = _fold(text)
    folded_quote, _ = _fold(quote.strip())
    if folded_quote not in folded_text:
        folded_quote = folded_quote.strip("\"' ")  # a quote pasted with its quotation marks
    if not folded_quote:
        return None
    first = next((i for i, p in enumerate(positions) if p >= start), len(positions))
    found = folded_text.find(folded_quote, first)
    if found < 0:
        return None
    last = found + len(folded_quote) - 1
    return positions[found], positions[last] + 1


def locate_quotes(text, quote):
    """Every [start, end) of `quote` in `text`, by the rules of locate_quote (exact copies when
    there are any, else copies found ignoring case, white space and typography)."""
    spans, at = [], text.find(quote) if quote else -1
    while at >= 0:
        spans.append((at, at + len(quote)))
        at = text.find(quote, at + 1)
    if spans:
        return spans
    at = 0
    while (found := locate_quote(text, quote, at)) is not None:
        spans.append(found)
        at = found[0] + 1
    return spans


def same_words(text, quote):
    """True when `quote` is `text` but for white space (a line end, runs of spaces)."""
    return text.split() == quote.split()


def _fold(text):
    """Lower-case, fold typography and collapse white space, keeping each character's origin."""
    chars, positions = [], []
    for index, ch in enumerate(text):
        mapped = _FOLD.get(ch, ch)
        if mapped.isspace() or unicodedata.category(ch) == "Zs":
            if chars and chars[-1] == " ":
                continue
            mapped = " "
        for out in mapped.lower():
            chars.append(out)
            positions.append(index)
    return "".join(chars), positions
