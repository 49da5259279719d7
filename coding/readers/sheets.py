"""Rows of a small spreadsheet (.csv or .xlsx), for participants sheets and codings files."""

import csv
import io
import re
from pathlib import Path

from ..errors import CodingError
from ..files import check_regular_file, open_regular_file
from .text import decode_bytes

# Text a spreadsheet would run as a formula gets a leading apostrophe in our xlsx files. Text
# that already starts with apostrophes before such a character gets one too, so that reading
# the file back can remove exactly the one that was added.
FORMULA_LIKE = r"^'*[=+\-@\t\r]"  # also valid for pyarrow's regular expressions (RE2)


def needs_apostrophe(text):
    return re.match(FORMULA_LIKE, text) is not None


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and needs_apostrophe(value) else value


def undo_neutralise(text):
    """Text from one of our xlsx files as it was before `neutralise`."""
    return text[1:] if text.startswith("'") and needs_apostrophe(text[1:]) else text


def read_rows(path, error, what="sheet", warnings=None):
    """All rows of the first worksheet (or the CSV) as lists of cell values.

    CSV is decoded as transcripts are (text.decode_bytes: a byte-order mark, UTF-8 with stray
    Windows-1252 bytes repaired, UTF-16 as Excel's "Unicode text" writes it, else a detected
    encoding), and split on commas, or on tabs or semicolons when the header has those and no
    comma. Anything chosen or repaired is appended to `warnings` (a list) when given. Problems
    raise `error` (a CodingError class) naming the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):  # .txt: Excel's "Unicode text" (tabs, UTF-16)
            with open_regular_file(path, error) as handle:  # never a FIFO or a device
                raw = handle.read()
            try:
                content, _, notes = decode_bytes(raw, path)
            except CodingError as exc:
                raise error(exc.message, path=path) from exc
            if warnings is not None:
                warnings.extend(notes)
            delimiter = _delimiter(content, suffix)
            if delimiter != "," and warnings is not None and suffix == ".csv":
                warnings.append(f"{path}: columns are separated by "
                                f"{_DELIMITER_NAMES[delimiter]}, not commas; read that way")
            # newline="": the csv module splits records itself, so classic-Mac "\r" line ends
            # and binary junk do not fail with "new-line character seen in unquoted field"
            rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""),
                                   delimiter=delimiter))
            return _clean_header(rows)
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            check_regular_file(path, error)
            try:
                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
                raise error(f"is not a readable .xlsx workbook: {exc}", path=path) from exc
            rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            book.close()
            return _clean_header(rows)
    except OSError as exc:
        raise error(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    except csv.Error as exc:
        raise error(f"is not valid CSV: {exc}", path=path) from exc
    raise error(f"unsupported {what} type '{suffix}' (expected .csv, .tsv or .xlsx)", path=path)


_DELIMITER_NAMES = {"\t": "tabs", ";": "semicolons", ",": "commas"}


def _delimiter(content, suffix):
    """Commas, unless the header line has none and has tabs (Excel's "Unicode text", a .tsv)
    or semicolons (Excel's CSV where the decimal mark is a comma)."""
    header = content.lstrip("\ufeff").split("\n", 1)[0]
    if suffix == ".tsv" or ("," not in header and "\t" in header):
        return "\t"
    if "," not in header and ";" in header:
        return ";"
    return ","


def _clean_header(rows):
    """The header row without byte-order marks or surrounding spaces in its cells."""
    if rows:
        rows[0] = [cell.replace("\ufeff", "").strip() if isinstance(cell, str) else cell
                   for cell in rows[0]]
    return rows


def check_header(header, path, error):
    """Refuse a header that names a column twice (which one would count?)."""
    seen = {}
    for number, name in enumerate(header, start=1):
        key = str(name or "").strip().lower()
        if not key:
            continue
        if key in seen:
            raise error(f"column '{str(name).strip()}' appears twice in the header (columns "
                        f"{seen[key]} and {number}); rename or remove one", path=path, line=1)
        seen[key] = number
