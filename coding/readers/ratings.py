"""Rating tables (.csv/.tsv/.xlsx) for `coding reliability`: a team's ratings collected
anywhere, one row per unit and one column per coder, or transposed (`coders_in="rows"`, the
layout of Krippendorff's examples: one row per coder, one column per unit)."""

import numpy as np
import pandas as pd

from ..errors import CodingError
from .sheets import check_header, read_rows

LAYOUTS = ("columns", "rows")


def read_ratings(path, coders_in="columns", warnings=None):
    """A rating table -> DataFrame: index the units (the first column, or the header row when
    coders are in rows), one column per coder, cells as read (numbers or text), None where a
    cell is empty. An encoding chosen or a separator guessed is appended to `warnings`."""
    if coders_in not in LAYOUTS:
        raise CodingError(f"coders_in must be columns or rows, not {coders_in!r}", path=path)
    rows = [list(row) for row in read_rows(path, CodingError, "rating table", warnings)]
    rows = [row for row in rows if any(_filled(cell) for cell in row)]
    if len(rows) < 2:
        raise CodingError("has no ratings: expected a header row, then one row per "
                          f"{'unit' if coders_in == 'columns' else 'coder'}", path=path)
    width = max(len(row) for row in rows)
    rows = [row + [None] * (width - len(row)) for row in rows]
    header = [_text(cell) for cell in rows[0]]
    check_header(header[1:], path, CodingError)
    names = [name or f"column {i}" for i, name in enumerate(header[1:], start=2)]
    labels = [_text(row[0]) for row in rows[1:]]
    cells = np.array([[cell if _filled(cell) else None for cell in row[1:]]
                      for row in rows[1:]], dtype=object)
    if coders_in == "rows":
        frame = pd.DataFrame(cells.T, index=names, columns=_coders(labels, path, 2))
    else:
        frame = pd.DataFrame(cells, index=labels, columns=names)
    frame.index.name = "unit"
    if frame.shape[1] < 2:
        raise CodingError(f"has {frame.shape[1]} coder: a rating table needs two or more "
                          f"({'rows' if coders_in == 'rows' else 'columns'} after the first)",
                          path=path)
    return frame


def _coders(labels, path, first_line):
    """Coder names from the first column (coders in rows): each named once."""
    seen = {}
    for line, name in enumerate(labels, start=first_line):
        key = name.lower()
        if key and key in seen:
            raise CodingError(f"coder '{name}' has two rows (lines {seen[key]} and {line}); "
                              "rename or remove one", path=path, line=line)
        seen[key] = line
    return [name or f"row {i}" for i, name in enumerate(labels, start=first_line)]


def _filled(cell):
    return cell is not None and (not isinstance(cell, str) or cell.strip() != "")


def _text(cell):
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return " ".join(str(cell).split())
