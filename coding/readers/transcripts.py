"""Transcript files -> ParsedDocument: one reader per format, one ingest_file().

Every reader returns lines (speakers.Line); speakers.segment() turns them into the frozen text
and its turns, so offsets are counted the same way for every format. Caption files (.vtt, .srt,
.sbv) are read in subtitles.py, .odt in odt.py, Teams' .docx export in teams.py.
"""

import io
import os
import zipfile
import zlib
from pathlib import Path

from ..errors import TranscriptError
from ..files import check_regular_file, open_regular_file
from ..records import TRANSCRIPT_FORMATS, ParsedDocument
from .archive import MAX_RATIO, OLE_MAGIC, RATIO_FLOOR, declares_dtd
from .odt import read_odt
from .speakers import Line, SpeakerRules, bold_label_line, segment
from .subtitles import read_subtitles
from .teams import teams_lines
from .text import check_is_text, decode_bytes, normalise, sha256_text

MAX_FILE_BYTES = 50 * 1024 * 1024  # a 9,000-word transcript is ~60 KB; 50 MB is not a transcript
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a .docx that inflates past this is a zip bomb
FORMATS = TRANSCRIPT_FORMATS


def ingest_file(path, rules=None):
    """Read one transcript file into a ParsedDocument (nothing is stored).

    >>> doc = ingest_file("data_samples/transcripts/p02_service_manager.txt")
    >>> doc.text[doc.turns[0].start:doc.turns[0].end]
    """
    path = Path(path)
    rules = rules or SpeakerRules()
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(set(FORMATS)))
        raise TranscriptError(f"unsupported file type '{path.suffix or '(none)'}' "
                              f"(expected one of {known})", path=path)
    with open_regular_file(path, TranscriptError) as handle:  # never /dev/zero or a FIFO
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise TranscriptError(f"is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB "
                                  "limit for one transcript; split it", path=path)
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise TranscriptError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    return parse_bytes(data, path.name, fmt, rules, path=path)


def expand_paths(paths):
    """Files as given, and the transcript files inside folders (recursively, sorted). A path
    given that is a device, FIFO or socket (/dev/zero, a named pipe) raises TranscriptError
    before anything is read; inside folders only regular files are taken (issue 13, item 16)."""
    result = []
    for path in map(Path, paths):
        if path.is_dir():
            result.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                 and p.suffix.lower() in FORMATS and not p.name.startswith(".")))
        else:
            check_regular_file(path, TranscriptError)
            result.append(path)
    return result


def parse_bytes(data, name, fmt, rules=None, path=None):
    """Parse a transcript given as bytes (an upload); `fmt` is a FORMATS value."""
    rules = rules or SpeakerRules()
    path = path or name
    if not data.strip():
        raise TranscriptError("is empty (no text to code)", path=path)
    lines, metadata = _READERS[fmt](data, path, rules)
    text, turns = segment(lines, rules)
    check_is_text(text, path)
    if not turns:
        raise TranscriptError("holds no speech: no turn with text was found", path=path)
    return ParsedDocument(name=name, format=fmt, text=text, turns=turns,
                          sha256=sha256_text(text), metadata=metadata,
                          warnings=tuple(metadata.get("warnings", ())))


def _read_text(data, path, rules):
    text, encoding, warnings = decode_bytes(data, path)
    text = normalise(text)
    check_is_text(text, path)
    return [Line(line) for line in text.split("\n")], _decoded(encoding, warnings)


def _decoded(encoding, warnings):
    """Reader metadata: the encoding, and what the user must be told about it."""
    return {"encoding": encoding, **({"warnings": list(warnings)} if warnings else {})}


def _read_docx(data, path, rules):
    import docx  # python-docx; imported here so plain-text ingest stays light

    _check_not_ole(data, path, ".docx")
    _check_zip(data, path, required="word/document.xml", kind=".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for damaged packages
        raise TranscriptError(f"is not a readable .docx (damaged or truncated?): {exc}",
                              path=path) from exc
    headings = _heading_style_ids(document)
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            lines.extend(Line(row) for row in _table_rows(block))
        else:
            lines.append(_docx_paragraph(block, headings))
    teams = teams_lines(lines, path, rules)  # Teams' .docx export (issue 15, item 11)
    if teams is not None:
        return teams, {"encoding": "docx", "layout": "Microsoft Teams transcript"}
    return lines, {"encoding": "docx"}


def _heading_style_ids(document):
    """Ids of heading-like paragraph styles, read once per document.

    python-docx's `paragraph.style` scans every style on each call; on a 9,000-word transcript that
    lookup took most of the parsing time, so paragraphs are matched by style id instead.
    """
    from docx.enum.style import WD_STYLE_TYPE

    ids = {style.style_id for style in document.styles
           if style.type == WD_STYLE_TYPE.PARAGRAPH
           and (style.name or "").startswith(("Heading", "Title", "Subtitle"))}
    default = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    if default is not None and default.style_id in ids:
        ids.add(None)  # paragraphs without a style take the default one
    return ids


def _docx_paragraph(paragraph, headings):
    """A paragraph's line; the speaker is a bold leading run ("Interviewer", "Isobel:")."""
    text = normalise(paragraph.text)
    if paragraph._p.style in headings:
        return Line(text, heading=True)
    runs = [run for run in paragraph.runs if run.text]
    if len(runs) >= 2 and runs[0].bold:
        return bold_label_line(text, normalise(runs[0].text))
    return Line(text)


def _table_rows(table):
    """Each row as 'cell | cell'; merged cells appear once, not once per grid column."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(normalise(cell.text).split()))
        rows.append(" | ".join(cells))
    return rows


def _read_odt(data, path, rules):
    _check_not_ole(data, path, ".odt")  # a Word 97-2003 .doc renamed
    return read_odt(data, path, rules)


def _read_pdf(data, path, rules):
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises PdfReadError and assorted low-level errors
        raise TranscriptError(f"is not a readable PDF (damaged or encrypted?): {exc}",
                              path=path) from exc
    text = normalise("\n\n".join(pages))
    if not text.strip():
        raise TranscriptError("PDF has no text layer (a scan?); run OCR first", path=path)
    return [Line(line) for line in text.split("\n")], {"encoding": "pdf", "pages": len(pages)}


def _check_not_ole(data, path, kind):
    """Office keeps a password-protected .docx/.xlsx as an encrypted package inside an OLE
    compound file, not a zip; a Word 97-2003 .doc is one too. Say which, not "damaged zip"."""
    if not data.startswith(OLE_MAGIC):
        return
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise TranscriptError(f"is a password-protected {kind} (encrypted by Office): open it, "
                              "remove the password (File > Info > Protect Document > Encrypt "
                              "with Password), save it and try again", path=path)
    raise TranscriptError(f"is an old Office 97-2003 file (.doc), not a {kind}: open it in "
                          f"Word and save it as {kind}", path=path)


def _check_zip(data, path, required, kind):
    """Refuse a damaged or hostile Office zip before python-docx (which trusts it) opens it:
    a zip bomb (total size, or one member's compression ratio as in archive.py), or an XML
    part that declares a DTD (issue 8)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        names = [info.filename for info in infos]
        total = sum(info.file_size for info in infos)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TranscriptError(f"is not a readable {kind} (damaged or truncated zip: {exc})",
                              path=path) from exc
    if total > MAX_UNZIPPED_BYTES:
        raise TranscriptError(f"would unpack to {total / 1e6:.0f} MB (a zip bomb?); refused",
                              path=path)
    for info in infos:
        if info.file_size > RATIO_FLOOR and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise TranscriptError(f"member '{info.filename}' would unpack from "
                                  f"{info.compress_size} bytes to {info.file_size / 1e6:.0f} MB "
                                  "(a zip bomb?); refused", path=path)
    if required not in names:
        raise TranscriptError(f"is not a {kind}: the archive has no {required}", path=path)
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels")) and \
                _declares_dtd(archive, info, path, kind):
            raise TranscriptError(f"part '{info.filename}' declares a DTD (<!DOCTYPE>), "
                                  "which Word never writes and which allows entity-expansion "
                                  "and external-entity (XXE) attacks; refused", path=path)


def _declares_dtd(archive, info, path, kind):
    """True when an XML part has a <!DOCTYPE> (only its prolog is read).

    python-docx parses parts with entity resolution off, so a DTD is not expanded; it silently
    drops the text of unresolved entities instead. A DTD is refused so nothing goes unnoticed.
    """
    try:
        with archive.open(info) as handle:
            return declares_dtd(handle)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:  # bad CRC, damaged data, unknown compression, encrypted
        raise TranscriptError(f"is not a readable {kind} (damaged member "
                              f"'{info.filename}': {exc})", path=path) from exc


_READERS = {
    "txt": _read_text,
    "md": _read_text,
    "docx": _read_docx,
    "odt": _read_odt,
    "vtt": lambda data, path, rules: read_subtitles(data, path, rules, "vtt"),
    "srt": lambda data, path, rules: read_subtitles(data, path, rules, "srt"),
    "sbv": lambda data, path, rules: read_subtitles(data, path, rules, "sbv"),
    "pdf": _read_pdf,
}
