"""Offsets of REFI-QDA selections, mapped onto the text as we store it. Pure.

Units. REFI positions count Unicode characters, and we write code points (Python `str`
indices), which is what our offsets already are. Some producers count UTF-16 code units
instead: NVivo for Windows does (issue 15: 290 of 303 codings of an NVivo 12 project landed
mid-word after the first emoji). The two readings differ only after a character outside the
Basic Multilingual Plane (an emoji), which is two UTF-16 units and one code point. So each
source's unit is decided on its own (`choose_unit`): the producer's unit as its `origin` names
it (`unit_of_origin`), checked against the text by the share of selection boundaries that fall
on word edges under each reading; when the other reading scores at least `SWITCH_MARGIN` points
higher it is used (and the report says so), and a source whose selections fit neither reading
(`FIT_SHARE`) is reported, not stored wrong. `to_utf16` converts our offsets for an export to
a producer that counts UTF-16 units.

Normalisation. Imported source text is normalised by ingest (byte-order mark dropped,
`\\r\\n` and `\\r` to `\\n`, NFC), so each selection is then mapped from the source's characters
to the stored text's characters through an offset map built while normalising (or, failing
that, a difflib alignment): the imported span covers the same words.
"""

import bisect
import difflib
import re
import unicodedata
from dataclasses import dataclass

from ...readers.codings_file import locate_quote

_GENERIC_NAME = re.compile(r"^(quotation|selection|segment)\s*[\d:.\s]*$", re.I)
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")

CODE_POINTS, UTF16 = "codepoints", "utf16"
UNIT_NAMES = {CODE_POINTS: "code points", UTF16: "UTF-16 code units"}
SWITCH_MARGIN = 20  # points of word-edge share by which the text overrules the origin
FIT_SHARE = 70  # % of boundaries on word edges for a reading to fit: right ~95+, shifted 30-50
MIN_JUDGED = 4  # selections a source needs before it can be judged to fit neither reading
# Scripts written without spaces between words: any boundary between their letters is an edge.
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF),
             (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F),
             (0x20000, 0x3FFFF))


@dataclass(frozen=True)
class UnitChoice:
    """How a source's positions are read: `unit` (CODE_POINTS or UTF16), the word-edge share
    of each reading in % (None when the readings cannot differ: no emoji before a boundary),
    the unit the origin implied, and whether the chosen reading fits the text at all."""

    unit: str
    prior: str
    scores: dict
    fits: bool
    boundaries: int

    @property
    def switched(self):
        return self.unit != self.prior

    @property
    def differs(self):
        """Whether the two readings give different spans in this source."""
        return self.scores.get(UTF16) is not None


def unit_of_origin(origin):
    """The unit a producer counts positions in, by the `origin` the file names: UTF16 for
    NVivo for Windows (NVivo without 'Mac' in its origin) and for our own exports made with
    `positions="utf16"`, else CODE_POINTS (the REFI-QDA standard's characters)."""
    folded = (origin or "").casefold()
    if "nvivo" in folded and "mac" not in folded:
        return UTF16
    if folded.startswith("coding") and "utf-16" in folded:
        return UTF16
    return CODE_POINTS


def origin_is_ours(origin):
    """True for a file this toolkit wrote: its positions are in the unit its origin says,
    whatever the text looks like (researchers' selections need not fall on word edges)."""
    return (origin or "").casefold().startswith("coding")


def choose_unit(text, spans, prior, certain=False):
    """How to read the positions `spans` ([(start, end)] as the file gives them) of a source
    whose text is `text`, when its origin implies `prior`; returns a UnitChoice.

    Each reading is scored by the share of span boundaries that are valid positions on a word
    edge (not between two letters or digits of a spaced script; never inside a surrogate
    pair). The text overrules the origin when the other reading scores SWITCH_MARGIN points
    higher; a reading fits when it scores at least FIT_SHARE, and a source is judged to fit
    neither only from MIN_JUDGED selections on (fewer prove nothing), and only when the two
    readings differ: with no emoji before a boundary there is no unit to doubt. `certain`
    (the file is our own) takes `prior` as it is.
    """
    boundaries = [p for span in spans for p in span]
    if not boundaries:
        return UnitChoice(prior, prior, {}, True, 0)
    scores = {CODE_POINTS: _score(text, boundaries)}
    table = utf16_table(text) if _ASTRAL.search(text) else None
    if table is not None and any(p > len(text) or table[min(p, len(table) - 1)] != p
                                 for p in boundaries):
        scores[UTF16] = _score(text, boundaries, table)
    else:
        scores[UTF16] = None  # no emoji before any boundary: both readings are the same
    unit = prior
    if scores[UTF16] is not None and not certain:
        other = UTF16 if prior == CODE_POINTS else CODE_POINTS
        if scores[other] >= scores[prior] + SWITCH_MARGIN:
            unit = other
    chosen = scores[unit] if scores[UTF16] is not None else scores[CODE_POINTS]
    fits = certain or scores[UTF16] is None or chosen >= FIT_SHARE or len(spans) < MIN_JUDGED
    return UnitChoice(unit if scores[UTF16] is not None else prior, prior, scores, fits,
                      len(boundaries))


def utf16_table(text):
    """For each UTF-16 index of `text` (0 to its length in units): the code point index there,
    or -1 between the two halves of a surrogate pair."""
    table = []
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(-1)
    table.append(len(text))
    return table


def from_utf16(table, start, end):
    """A span given in UTF-16 units as code points, or None when a boundary is not a position
    of the text (inside a surrogate pair, or past its end)."""
    if end >= len(table) or table[start] < 0 or table[end] < 0:
        return None
    return table[start], table[end]


def to_utf16(text):
    """A function giving, for a code point offset of `text`, its offset in UTF-16 units."""
    astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
    return lambda offset: offset + bisect.bisect_left(astral, offset)


def _score(text, boundaries, table=None):
    """% of `boundaries` that are positions of `text` on a word edge, read as code points or
    through `table` (index in the file's unit -> code point index, -1 for none)."""
    hits = 0
    for position in boundaries:
        if table is not None:
            position = table[position] if 0 <= position < len(table) else -1
        if 0 <= position <= len(text) and _word_edge(text, position):
            hits += 1
    return round(100 * hits / len(boundaries))


def _word_edge(text, i):
    if i <= 0 or i >= len(text):
        return True
    return not (_wordy(text[i - 1]) and _wordy(text[i]))


def _wordy(ch):
    if unicodedata.category(ch)[0] not in "LNM":
        return False
    code = ord(ch)
    return not any(low <= code <= high for low, high in _UNSPACED)


def offset_map(source, stored):
    """For each character of `stored`: the [start, end) of `source` it comes from.

    Ingest normalises text (drops byte-order marks, makes `\\r\\n` and `\\r` into `\\n`,
    NFC); the map follows those steps. When the result is not exactly `stored`, a difflib
    alignment of the two texts is used instead.
    """
    mapped = _normalise_with_map(source)
    if mapped is not None and mapped[0] == stored:
        return mapped[1], mapped[2]
    return _diff_map(source, stored)


def _normalise_with_map(source):
    chars, starts, ends = [], [], []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "\r":
            step = 2 if source.startswith("\r\n", i) else 1
            chars.append("\n")
            starts.append(i)
            ends.append(i + step)
            i += step
            continue
        if ch != "\ufeff":
            chars.append(ch)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    text = "".join(chars)
    if unicodedata.is_normalized("NFC", text):
        return text, starts, ends
    # NFC segment by segment, each starting at a character of combining class 0.
    out, out_starts, out_ends = [], [], []
    bounds = [k for k, ch in enumerate(text) if unicodedata.combining(ch) == 0] + [len(text)]
    if bounds[0] != 0:
        bounds.insert(0, 0)
    for a, b in zip(bounds, bounds[1:]):
        piece = text[a:b]
        normal = unicodedata.normalize("NFC", piece)
        if normal == piece:
            out.append(piece)
            out_starts.extend(starts[a:b])
            out_ends.extend(ends[a:b])
        else:
            out.append(normal)
            out_starts.extend([starts[a]] * len(normal))
            out_ends.extend([ends[b - 1]] * len(normal))
    result = "".join(out)
    if result != unicodedata.normalize("NFC", text):
        return None  # a composition across segments (Hangul jamo): let difflib align it
    return result, out_starts, out_ends


def _diff_map(source, stored):
    starts, ends = [0] * len(stored), [0] * len(stored)
    matcher = difflib.SequenceMatcher(None, source, stored, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for j in range(j1, j2):
            if tag == "equal":
                starts[j], ends[j] = i1 + (j - j1), i1 + (j - j1) + 1
            else:
                starts[j], ends[j] = i1, i2
    return starts, ends


def to_stored(starts, ends, start, end):
    """The stored-text span of source characters [start, end), or None when it is empty."""
    first = bisect.bisect_right(ends, start)
    stop = bisect.bisect_left(starts, end)
    return (first, stop) if first < stop else None


def docx_span(text, start, end, name):
    """A span in text read from a .docx, when the tool's plain text is missing: its positions,
    moved to where the selection's name (the quoted words, as ATLAS.ti writes) is found."""
    quote = (name or "").strip().rstrip("\u2026").strip()
    truncated = (name or "").strip().endswith("\u2026")
    if len(quote) >= 8 and not _GENERIC_NAME.match(quote):
        found = locate_quote(text, quote, max(0, start - 200)) or locate_quote(text, quote)
        if found is not None:
            return (found[0], min(len(text), found[0] + (end - start))) if truncated \
                else found
    end = min(end, len(text))
    return (start, end) if start < end else None
