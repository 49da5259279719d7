"""Bytes -> frozen text: decoding, NFC, "\\n" line ends (ARCHITECTURE.md, "Text and offsets")."""

import codecs
import re
import unicodedata
from typing import NamedTuple

import charset_normalizer

from ..errors import TranscriptError
from ..records import sha256_text  # noqa: F401 - readers hash what they read

# Longest BOMs first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
# Unicode category Cc except tab, line feed and form feed; a regex, not a loop over characters
# with unicodedata.category, which took 2 s per call on a 5 MB transcript (issue 8).
_CONTROL = re.compile("[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f]")


class Decoded(NamedTuple):
    """Decoded text, the encoding it was read as, and what the reader should be told about it
    (an encoding that was detected or assumed, bytes that were repaired): never a silent guess."""

    text: str
    encoding: str
    warnings: tuple = ()


# A file that is UTF-8 but for a few stray bytes (a Windows-1252 apostrophe pasted into UTF-8
# text) is read as UTF-8, the stray bytes as Windows-1252 characters: decoding the whole file
# as a legacy code page turns every other accented letter into mojibake (issue 13).
MOSTLY_UTF8 = 0.99
_SHOWN_REPAIRS = 10  # lines named one by one in the warning, the rest counted


def decode_bytes(data, path):
    """Decode a text file's bytes: BOM, then UTF-8 (stray non-UTF-8 bytes repaired as
    Windows-1252 and reported), then a detected legacy encoding (reported).

    Returns a Decoded (text, encoding, warnings). Raises TranscriptError for binary data or an
    unknown encoding.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise TranscriptError(f"starts with a {encoding} byte-order mark but is not valid "
                                      f"{encoding} (byte {exc.start})", path=path) from exc
    if data.startswith(_ZIP_MAGIC):
        raise TranscriptError("is a zip archive (a .docx?) saved with a text extension; "
                              "give it its real extension", path=path)
    if data.startswith(_PDF_MAGIC):
        raise TranscriptError("is a PDF saved with a text extension; rename it to .pdf", path=path)
    sniffed = _utf16_without_bom(data)
    if sniffed is not None:
        text, encoding = sniffed
        return Decoded(text, encoding, (f"{path}: no byte-order mark; read as "
                                        f"{encoding.upper()} (every other byte is zero)",))
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    repaired = _repair_mostly_utf8(data, path)
    if repaired is not None:
        return repaired
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None or best.encoding is None:
        raise TranscriptError("cannot tell the text encoding (binary file?); "
                              "save it as UTF-8 text", path=path)
    encoding = _prefer_cp1252(data, matches, best)
    return Decoded(data.decode(encoding), encoding,
                   (f"{path}: not UTF-8; read as {_encoding_name(encoding)} (detected from its "
                    "bytes); if characters look wrong, save the file as UTF-8 and ingest it "
                    "again",))


def _repair_mostly_utf8(data, path):
    """A Decoded for UTF-8 text with a few stray bytes, each read as its Windows-1252 character
    and named by line in a warning; None when the file is not mostly UTF-8.

    Mostly UTF-8: at least MOSTLY_UTF8 of the bytes decode as UTF-8, or the file holds valid
    multi-byte UTF-8 sequences at least as often as stray bytes (a short answer with one
    pasted apostrophe). A legacy file with no multi-byte sequence and more stray bytes goes
    to detection instead."""
    text = data.decode("utf-8", errors="surrogateescape")
    stray = [m.start() for m in _STRAY.finditer(text)]
    multibyte = len(_MULTIBYTE.findall(text))  # characters decoded from 2-4 valid bytes
    if len(stray) > (1 - MOSTLY_UTF8) * len(data) and multibyte < len(stray):
        return None
    pieces, last, lines, line, scanned = [], 0, [], 1, 0
    for at in stray:
        byte = ord(text[at]) - 0xDC00
        char = bytes([byte]).decode("cp1252", errors="replace")
        pieces += [text[last:at], char]
        last = at + 1
        line += text.count("\n", scanned, at)
        scanned = at
        lines.append((line, byte, char))
    pieces.append(text[last:])
    shown = ", ".join(f"line {n} (byte 0x{b:02X} as {c!r})" for n, b, c in lines[:_SHOWN_REPAIRS])
    more = f" and {len(lines) - _SHOWN_REPAIRS} more" if len(lines) > _SHOWN_REPAIRS else ""
    warning = (f"{path}: read as UTF-8, but {len(lines)} byte{'s' if len(lines) != 1 else ''} "
               f"{'are' if len(lines) != 1 else 'is'} not UTF-8 and "
               f"{'were' if len(lines) != 1 else 'was'} read as Windows-1252: {shown}{more}")
    return Decoded("".join(pieces), "utf-8", (warning,))


_STRAY = re.compile("[\udc80-\udcff]")  # bytes surrogateescape could not decode
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _encoding_name(encoding):
    names = {"cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1251": "Windows-1251",
             "latin_1": "Latin-1", "mac_roman": "Mac-Roman"}
    return names.get(encoding.lower().replace("-", "_"), encoding)


def _utf16_without_bom(data):
    """(text, encoding) for UTF-16 saved without a byte-order mark, else None.

    Latin-script text in UTF-16 has a zero byte in every other position: valid UTF-8 (as NUL
    characters), so it must be recognised before UTF-8 is tried (issue 8).
    """
    sample = data[:8192]
    pairs = len(sample) // 2
    if pairs < 2 or len(data) % 2 or b"\x00" not in sample:
        return None
    high_first, low_first = sample[0::2].count(0), sample[1::2].count(0)
    if low_first >= 0.4 * pairs and high_first <= 0.05 * pairs:
        encoding = "utf-16-le"
    elif high_first >= 0.4 * pairs and low_first <= 0.05 * pairs:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return (text, encoding) if "\x00" not in text else None


# The detector's "chaos" scores cousin code pages close together and sometimes the wrong way
# (French in Windows-1252 as the Baltic Windows-1257, "Où" -> "Oł"; Russian in Windows-1251 as
# Mac Cyrillic); among the readings within this margin of the best, the one that reads least
# oddly wins (see _oddities), then a Windows code page, Windows-1252 first.
CHAOS_MARGIN = 0.2


def _prefer_cp1252(data, matches, best):
    """The encoding to read `data` with, from the detector's candidates. Windows-1252 is what
    Word and Windows tools write in the English-speaking world, Windows code pages what
    Windows writes elsewhere; a cousin reading that turns '£5' into 'Ł5' or 'mały' into
    'ma³y' reads more oddly and loses."""
    if _width(data, best.encoding) != 1:
        return best.encoding  # a multi-byte encoding (Shift JIS, GB18030, ...): as detected
    candidates = {best.encoding}
    for match in matches:
        if match.chaos <= best.chaos + CHAOS_MARGIN:
            candidates.update(name for name in (match.encoding, *match.could_be_from_charset)
                              if name in ("cp1252", match.encoding) or name.startswith("cp125"))
    high = [m.start() for m in re.finditer(b"[\x80-\xff]", data)]
    scored = []
    for encoding in candidates:
        if _width(data, encoding) != 1:
            continue
        text = data.decode(encoding)
        windows = 0 if encoding == "cp1252" else 1 if encoding.startswith("cp125") else 2
        scored.append((_oddities(text, high), windows, encoding != best.encoding, encoding))
    return min(scored)[-1] if scored else best.encoding


def _width(data, encoding):
    """1 when `encoding` reads `data` one byte per character, else 0 (or it cannot read it)."""
    try:
        return 1 if len(data.decode(encoding)) == len(data) else 0
    except (UnicodeDecodeError, LookupError):
        return 0


def _char(byte, encoding):
    return bytes([byte]).decode(encoding, errors="replace")


def _oddities(text, positions):
    """How oddly `text` reads at `positions` (its non-ASCII bytes): a lone letter against a
    digit or symbol ('Ł5' for '£5'), a symbol or number sign between letters ('ma³y' for
    'mały'), box drawing; punctuation between letters is normal ("It’s", "l·l")."""
    count = 0
    for i in positions:
        char = text[i]
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if char.isalpha():  # a lone letter against a digit or symbol: 'Ł5' (a lone 'à' is fine)
            count += not (before.isalpha() or after.isalpha()) and any(
                unicodedata.category(c)[0] in "NS" for c in (before, after))
        elif "\u2500" <= char <= "\u259f":  # box drawing (DOS code pages): never in speech
            count += 1
        elif unicodedata.category(char)[0] in "SN":
            count += before.isalpha() and after.isalpha()
    return count


def normalise(text):
    """NFC and "\\n" line ends; removes stray byte-order marks. Offsets are counted after this."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return unicodedata.normalize("NFC", text)


def check_is_text(text, path):
    """Refuse decoded text that is mostly control characters: binary data that decoded by luck."""
    if not text.strip():
        raise TranscriptError("is empty (no text to code)", path=path)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError("contains NUL bytes: binary data, not a transcript", path=path,
                              line=line)
    control = len(_CONTROL.findall(text))
    if control > max(2, len(text) // 100):
        raise TranscriptError("looks like binary data, not text "
                              f"({control} control characters)", path=path)

