"""Bytes -> frozen text: decoding, Unicode NFC, "\\n" line ends (DESIGN.md, "Text and offsets")."""

import codecs
import hashlib
import unicodedata

import charset_normalizer

from .errors import TranscriptError

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


def decode_bytes(data, path):
    """Decode a text file's bytes: BOM, then strict UTF-8, then a detected legacy encoding.

    Returns (text, encoding). Raises TranscriptError for binary data or an unknown encoding.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise TranscriptError(f"starts with a {encoding} byte-order mark but is not valid "
                                      f"{encoding} (byte {exc.start})", path=path) from exc
    if data.startswith(_ZIP_MAGIC):
        raise TranscriptError("is a zip archive (a .docx?) saved with a text extension; "
                              "give it its real extension", path=path)
    if data.startswith(_PDF_MAGIC):
        raise TranscriptError("is a PDF saved with a text extension; rename it to .pdf", path=path)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None or best.encoding is None:
        raise TranscriptError("cannot tell the text encoding (binary file?); "
                              "save it as UTF-8 text", path=path)
    encoding = _prefer_cp1252(matches, best)
    return data.decode(encoding), encoding


def _prefer_cp1252(matches, best):
    """Windows-1252 is what Word and Windows tools write in the English-speaking world. When
    the detector scores it as high as a cousin code page (cp1250 turns '£' into 'Ł'), take it."""
    for match in matches:
        tied = (match.chaos, match.coherence) == (best.chaos, best.coherence)
        if tied and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return best.encoding


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
    control = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t\f")
    if control > max(2, len(text) // 100):
        raise TranscriptError("looks like binary data, not text "
                              f"({control} control characters)", path=path)


def sha256_text(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
