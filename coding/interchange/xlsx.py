"""Tables written as an xlsx workbook, fast enough for 200,000 codings.

openpyxl builds the workbook: sheets, the bold frozen header row, column widths, styles and
the package parts. The data rows are then serialised column by column with pyarrow's string
kernels (the arrays behind pandas' strings) and put into each sheet's <sheetData>. They are
the XML that openpyxl's write-only mode writes for each cell (inline strings, `t="n"`
numbers, `t="b"` booleans), made for a whole column at once instead of one Python object per
cell: the 200,000-codings sheet takes about 3 s instead of 12 s (benchmarks/bench_export.py).
"""

import io
import re
import zipfile
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..readers.sheets import FORMULA_LIKE, needs_apostrophe, neutralise

# Characters XML 1.0 cannot hold (for pyarrow's RE2, and for Python's re).
ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"
ILLEGAL_XML_PY = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# Escapes for cell text; a raw CR would come back as LF, so it is a character reference.
ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
MAX_CELL_CHARS = 32_767  # Excel's limit; longer text makes Excel "repair" the file
ROWS_PER_CHUNK = 20_000  # rows serialised at a time, to bound memory
MAX_WIDTH = 60


def workbook(sheets):
    """xlsx bytes for {sheet name: DataFrame}; a frame's named or non-default index becomes
    its first columns (and stays in view when scrolling right)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    frames = {}
    for number, (name, table) in enumerate(sheets.items(), start=1):
        sheet = book.create_sheet(sheet_name(name))
        # allow_duplicates: an index named like a column (a case called "code")
        frame = table.reset_index(allow_duplicates=True) if keeps_index(table) else table
        sheet.freeze_panes = "B2" if keeps_index(table) else "A2"
        for i, column in enumerate(frame.columns):  # by position: two codes can share a name
            sheet.column_dimensions[get_column_letter(i + 1)].width = _width(frame.iloc[:, i],
                                                                             column)
        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=neutralise(_clean(column)))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        frames[f"xl/worksheets/sheet{number}.xml"] = frame
    skeleton = io.BytesIO()
    book.save(skeleton)
    return _add_rows(skeleton.getvalue(), frames)


def keeps_index(table):
    return table.index.name is not None or not isinstance(table.index, pd.RangeIndex)


def sheet_name(name):
    name = _clean(name)
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return _cut_utf16(name, 31).strip() or "Sheet"


def _clean(text):
    """A header or sheet name as text an xlsx can hold."""
    return _cut_utf16(re.sub(ILLEGAL_XML_PY, "", str(text)), MAX_CELL_CHARS)


def _cut_utf16(text, limit):
    """Text cut to `limit` UTF-16 code units, as Excel counts (an emoji is two)."""
    if len(text) * 2 <= limit:
        return text
    return text.encode("utf-16-le")[:limit * 2].decode("utf-16-le", "ignore")


def _width(series, header):
    sample = series.head(200).astype(str).str.len()
    longest = max([len(str(header)), *(sample.tolist() or [0])])
    return min(MAX_WIDTH, max(8, longest + 2))


def _add_rows(skeleton, frames):
    """Copy the openpyxl package, writing each frame's rows before its sheet's </sheetData>."""
    source = zipfile.ZipFile(io.BytesIO(skeleton))
    out = io.BytesIO()
    # zlib's default level: level 1 saves ~1 s on 200k codings but makes the file 40 % larger.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename not in frames:
                target.writestr(info.filename, data)
                continue
            head, end, tail = data.partition(b"</sheetData>")
            if not end:
                raise ValueError(f"{info.filename} has no sheetData")  # openpyxl changed
            with target.open(info.filename, "w") as member:
                member.write(head)
                for chunk in _rows_xml(frames[info.filename]):
                    member.write(chunk)
                member.write(end + tail)
    return out.getvalue()


def _rows_xml(frame):
    """The frame's rows as <row> elements (row 1 is the header), UTF-8, a chunk at a time."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(i) for i in range(1, len(frame.columns) + 1)]
    for start in range(0, len(frame), ROWS_PER_CHUNK):
        part = frame.iloc[start:start + ROWS_PER_CHUNK]
        numbers = pa.array(np.arange(start + 2, start + 2 + len(part))).cast(pa.large_string())
        cells = [pc.fill_null(_cells(part.iloc[:, i], letter, numbers), _text_scalar(""))
                 for i, letter in enumerate(letters)]
        rows = _join(_text_scalar('<row r="'), numbers, _text_scalar('">'), *cells,
                     _text_scalar("</row>"))
        whole = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), rows)
        yield pc.binary_join(whole, _text_scalar(""))[0].as_buffer()


def _cells(column, letter, numbers):
    """One column's cells as XML strings (null for an empty cell)."""
    if pd.api.types.is_bool_dtype(column):
        return _typed(pc.cast(_arrow(column), pa.int8()), "b", letter, numbers)
    if pd.api.types.is_complex_dtype(column):
        return _text(column.astype(str), letter, numbers)
    if pd.api.types.is_numeric_dtype(column):
        values = _arrow(column)
        if pa.types.is_floating(values.type):
            values = pc.if_else(pc.is_finite(values), values, None)  # no NaN/inf in a sheet
        return _typed(values, "n", letter, numbers)
    if pd.api.types.is_datetime64_any_dtype(column):  # as text, fractions and zone kept
        return _text(column.astype(str).where(column.notna()), letter, numbers)
    if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        return _text(column, letter, numbers)
    # Mixed values (attributes typed per case): numbers stay numbers, the rest is text.
    values = column.astype(object)
    is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_)))
    numbers_text = values.map(_number_text)
    is_number = numbers_text.notna() & ~is_bool
    is_text = values.notna() & ~is_bool & ~is_number
    return pc.coalesce(
        _typed(_arrow(numbers_text.where(is_number).astype("string")), "n", letter, numbers),
        _typed(pc.cast(_arrow(values.where(is_bool, None).astype("boolean")), pa.int8()),
               "b", letter, numbers),
        _text(values.where(is_text).map(str, na_action="ignore"), letter, numbers))


def _number_text(value):
    """A finite real number as the text of an xlsx number cell, else None."""
    if isinstance(value, (bool, np.bool_, np.timedelta64)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))  # exact, however large
    if isinstance(value, (float, np.floating, Decimal)):
        return repr(float(value)) if np.isfinite(float(value)) else None
    return None


def _typed(values, kind, letter, numbers):
    return _join(_text_scalar(f'<c r="{letter}'), numbers, _text_scalar(f'" t="{kind}"><v>'),
                 pc.cast(values, pa.large_string()), _text_scalar("</v></c>"))


def _text(values, letter, numbers):
    """Inline string cells: characters XML cannot hold dropped, formula-like text neutralised,
    cut at Excel's cell limit, then escaped."""
    values = values.astype("string")
    long = (values.str.len() > MAX_CELL_CHARS // 2).fillna(False)  # may pass Excel's limit
    if long.any():
        values = values.copy()
        values[long] = values[long].map(  # room for the apostrophe added below
            lambda v: _cut_utf16(v, MAX_CELL_CHARS - needs_apostrophe(v)))
    text = pc.replace_substring_regex(_arrow(values), ILLEGAL_XML, "")
    formula = pc.match_substring_regex(text, FORMULA_LIKE)
    text = pc.if_else(formula, _join(_text_scalar("'"), text), text)
    for character, entity in ESCAPES:
        text = pc.replace_substring(text, character, entity)
    text = pc.if_else(pc.equal(text, ""), None, text)  # empty text: no cell, as openpyxl does
    return _join(_text_scalar(f'<c r="{letter}'), numbers,
                 _text_scalar('" t="inlineStr"><is><t xml:space="preserve">'), text,
                 _text_scalar("</t></is></c>"))


def _arrow(series):
    values = pa.array(series, from_pandas=True)
    if pa.types.is_string(values.type):
        return values.cast(pa.large_string())  # 64-bit offsets: no 2 GB limit per chunk
    return values


def _join(*parts):
    """Element-wise concatenation; null when any part is null (an empty cell)."""
    return pc.binary_join_element_wise(*parts, _text_scalar(""))


def _text_scalar(text):
    return pa.scalar(text, pa.large_string())
