"""What a coder selected in a transcript, as spans of the stored text. Pure: no database.

A browser counts positions in UTF-16 code units; we store code points (ARCHITECTURE.md, "Text
and offsets"). The two differ after a character outside the Basic Multilingual Plane (an
emoji: two UTF-16 units, one code point), so every position crossing the browser is converted
here, both ways. A selection may run across turns: it is cut into one span per turn, each
without the speaker label, the gap between turns or the white space at its edges (issue 16,
item 1), and may be widened to whole words.
"""

import re
import unicodedata

_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def to_utf16(text, offsets):
    """Code point offsets into `text` as UTF-16 code unit offsets (what JavaScript counts).

    >>> to_utf16("a😀b", [0, 1, 2, 3])
    [0, 1, 3, 4]
    """
    if not _ASTRAL.search(text):
        return list(offsets)
    astral = [match.start() for match in _ASTRAL.finditer(text)]
    result = []
    for offset in offsets:
        before = _count_below(astral, offset)
        result.append(offset + before)
    return result


def from_utf16(text, offset):
    """A UTF-16 code unit offset into `text` as a code point offset; ValueError when it falls
    outside the text or between the two halves of one character.

    >>> from_utf16("a😀b", 3)
    2
    """
    if offset < 0:
        raise ValueError(f"position {offset} is before the text")
    if not _ASTRAL.search(text):
        if offset > len(text):
            raise ValueError(f"position {offset} is past the end of the text ({len(text)})")
        return offset
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            raise ValueError(f"position {offset} falls inside the character at {index}")
    if units == offset:
        return len(text)
    raise ValueError(f"position {offset} is past the end of the text ({units} units)")


def _count_below(sorted_values, limit):
    low, high = 0, len(sorted_values)
    while low < high:
        middle = (low + high) // 2
        if sorted_values[middle] < limit:
            low = middle + 1
        else:
            high = middle
    return low


def split_by_turns(text, turns, start, end, seqs=None):
    """[start, end) of `text` cut into [(seq, start, end)], one span per turn it touches: only
    turn text (never a speaker label or what lies between turns), white space at each span's
    edges left out, turns outside `seqs` (when given: the turns the coder could see) skipped.
    `turns` are (seq, start, end) in text order.

    >>> text = "I: Hi there.\\nP1: Fine, thanks."
    >>> split_by_turns(text, [(0, 3, 12), (1, 17, 30)], 6, 22)
    [(0, 6, 12), (1, 17, 22)]
    """
    pieces = []
    for seq, turn_start, turn_end in turns:
        if turn_end <= start or turn_start >= end or (seqs is not None and seq not in seqs):
            continue
        a, b = max(start, turn_start), min(end, turn_end)
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            pieces.append((seq, a, b))
    return pieces


def snap_to_words(text, start, end, low=0, high=None):
    """[start, end) widened to whole words, never past [low, high): a selection that begins or
    ends inside a word takes in the whole word. Letters, digits, marks and an apostrophe or
    hyphen between two of them make a word.

    >>> snap_to_words("we don't know", 5, 10)
    (3, 13)
    """
    high = len(text) if high is None else high
    while start > low and _inside_word(text, start, low, high):
        start -= 1
    while end < high and _inside_word(text, end, low, high):
        end += 1
    return start, end


def _inside_word(text, i, low, high):
    """True when the boundary before text[i] cuts a word (both sides are word characters)."""
    return low < i < high and _wordy(text, i - 1, low, high) and _wordy(text, i, low, high)


def _wordy(text, i, low, high):
    char = text[i]
    if char.isalnum() or char == "_" or _is_mark(char):
        return True
    if char in "'\u2019-\u2010" and low < i < high - 1:
        return text[i - 1].isalnum() and text[i + 1].isalnum()
    return False


def _is_mark(char):
    return unicodedata.category(char).startswith("M")


def code_id_for(name, taken):
    """An id for a code made from `name` (an "in vivo" code: the coder's selected words), not
    among `taken`: lower-case letters, digits and `_`, starting with a letter, at most 40.

    >>> code_id_for("Naïve joy, really!", {"naive_joy_really"})
    'naive_joy_really_2'
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:40].strip("_")
    if not base or not base[0].isalpha():
        base = "in_vivo" + (f"_{base}" if base else "")
    found, n = base, 1
    while found in taken:
        n += 1
        found = f"{base}_{n}"
    return found
