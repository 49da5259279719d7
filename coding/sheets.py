"""Rows of a small spreadsheet (.csv or .xlsx), for participants sheets and codings files."""

import csv
import io
import re
from pathlib import Path

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


def read_rows(path, error, what="sheet"):
    """All rows of the first worksheet (or the CSV) as lists of cell values.

    CSV is read as UTF-8 (with or without a byte-order mark) or else Windows-1252, which is
    what Excel on Windows writes. Problems raise `error` (a CodingError class) naming the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = path.read_bytes()
            try:
                content = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                content = raw.decode("cp1252", errors="replace")
            # newline="": the csv module splits records itself, so classic-Mac "\r" line ends
            # and binary junk do not fail with "new-line character seen in unquoted field"
            return list(csv.reader(io.StringIO(content, newline="")))
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            try:
                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
                raise error(f"is not a readable .xlsx workbook: {exc}", path=path) from exc
            rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            book.close()
            return rows
    except OSError as exc:
        raise error(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    except csv.Error as exc:
        raise error(f"is not valid CSV: {exc}", path=path) from exc
    raise error(f"unsupported {what} type '{suffix}' (expected .csv or .xlsx)", path=path)
