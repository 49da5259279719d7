"""Participants sheets (csv or xlsx) -> cases with typed attributes, and file-to-case linking."""

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CaseSheetError
from .archive import check_zip
from .sheets import check_header, read_rows

CASE_COLUMNS = ("case_id", "case id", "case", "participant_id", "participant id", "participant",
                "id")
FILE_COLUMNS = ("file", "files", "file name", "filename", "file_name", "document", "transcript")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOOLEANS = {"yes", "no", "true", "false", "y", "n"}


@dataclass(frozen=True)
class CaseEntry:
    """One sheet row: a case, the file names or globs it owns, and typed attributes."""

    name: str
    files: tuple[str, ...]
    attributes: dict = field(default_factory=dict, hash=False)  # name -> (type, text value)
    line: int = 0

    def owns(self, file_name):
        """True when a file belongs to this case: a listed name/glob, or, with no file column,
        a file whose name stem is the case id or starts with it ("P01" owns "p01_nurse.docx")."""
        name = Path(file_name).name.lower()
        if self.files:
            return any(fnmatch.fnmatch(name, pattern.lower()) for pattern in self.files)
        stem, case = Path(name).stem, self.name.lower()
        return stem == case or re.match(re.escape(case) + r"[\W_]", stem) is not None


def read_case_sheet(path, warnings=None):
    """Read a participants sheet; every problem names the sheet and row.

    Columns: a case id column (case_id, participant, id, ...), optionally a file column (file
    name or glob; several separated by ';'), and attribute columns whose type (number, boolean,
    date, text) is inferred from their values.
    """
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        check_zip(path, CaseSheetError, ".xlsx workbook")
    rows = read_rows(path, CaseSheetError, "sheet", warnings)
    if not rows:
        raise CaseSheetError("is empty", path=path)
    for number, row in enumerate(rows, start=1):
        if any("\x00" in str(cell) for cell in row if cell is not None):
            raise CaseSheetError("contains NUL bytes: binary data, not a participants sheet",
                                 path=path, line=number)
    check_header(rows[0], path, CaseSheetError)
    header = [str(h or "").strip() for h in rows[0]]
    lowered = [h.lower() for h in header]
    case_col = next((lowered.index(c) for c in CASE_COLUMNS if c in lowered), None)
    if case_col is None:
        raise CaseSheetError(f"has no case id column (one of: {', '.join(CASE_COLUMNS[:5])}); "
                             f"found columns: {', '.join(h for h in header if h) or 'none'}",
                             path=path, line=1)
    file_col = next((lowered.index(c) for c in FILE_COLUMNS if c in lowered), None)
    attribute_cols = [i for i, h in enumerate(header) if h and i not in (case_col, file_col)]
    body = [(number, row) for number, row in enumerate(rows[1:], start=2)
            if any(str(c or "").strip() for c in row)]
    types = {i: _infer_type([_cell(row, i) for _, row in body]) for i in attribute_cols}
    entries, seen = [], {}
    for number, row in body:
        name = _cell(row, case_col)
        if not name:
            raise CaseSheetError("row has no case id", path=path, line=number)
        if name in seen:
            raise CaseSheetError(f"case '{name}' appears twice (first on line {seen[name]})",
                                 path=path, line=number)
        seen[name] = number
        files = tuple(f.strip() for f in _cell(row, file_col).split(";") if f.strip()) \
            if file_col is not None else ()
        attributes = {header[i]: (types[i], _canonical(_cell(row, i), types[i]))
                      for i in attribute_cols}
        entries.append(CaseEntry(name=name, files=files, attributes=attributes, line=number))
    return entries


def _cell(row, index):
    if index is None or index >= len(row) or row[index] is None:
        return ""
    value = row[index]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "date") and callable(value.date):  # openpyxl datetime cells
        value = value.date().isoformat()
    return str(value).strip()


def _infer_type(values):
    present = [v for v in values if v != ""]
    if not present:
        return "text"
    if all(_NUMBER.match(v) for v in present):
        return "number"
    if all(v.lower() in _BOOLEANS for v in present):
        return "boolean"
    if all(_DATE.match(v) for v in present):
        return "date"
    return "text"


def _canonical(value, kind):
    if value == "":
        return None
    if kind == "boolean":
        return "true" if value.lower() in ("yes", "true", "y") else "false"
    return value


def typed_value(kind, value):
    """An attribute's stored text as a Python value of its type (for analysis frames)."""
    if value is None:
        return None
    if kind == "number":
        number = float(value)
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return value == "true"
    return value
