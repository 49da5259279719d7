"""Offsets of REFI-QDA selections, mapped onto the text as we store it. Pure.

REFI positions count Unicode characters; we write and read them as code points (Python `str`
indices), which is what our offsets already are. Exported sources are exactly our frozen text,
so exported positions are our offsets unchanged. Imported source text is normalised by ingest
(byte-order mark dropped, `\\r\\n` and `\\r` to `\\n`, NFC), so each selection is mapped from
the source's characters to the stored text's characters through an offset map built while
normalising (or, failing that, a difflib alignment): the imported span covers the same words.
Tools that count UTF-16 code units differ from us only after a character outside the Basic
Multilingual Plane (an emoji) in a source.
"""

import bisect
import difflib
import re
import unicodedata

from ...readers.codings_file import locate_quote

_GENERIC_NAME = re.compile(r"^(quotation|selection|segment)\s*[\d:.\s]*$", re.I)


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
