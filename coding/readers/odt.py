"""OpenDocument text (.odt: LibreOffice, and what many university templates export) -> lines,
read as a .docx is (issue 15, item 9): paragraphs and headings in body order, each table row as
`cell | cell`, headings not speech, a bold leading span as the speaker ("Interviewer",
"Isobel:"), otherwise the `Name:` labels of the project's speaker rules.

The package is read in memory through `archive.SafeArchive` (unsafe names, member count, total
size, each member's compression ratio, declared sizes enforced while reading) and its XML with
defusedxml, DTDs refused; never odfpy, which has had no release since 2020 and would open the
zip itself, past those checks.
"""

import io
import re

from ..errors import RefiError, TranscriptError
from .archive import SafeArchive, declares_dtd, parse_xml
from .speakers import Line, bold_label_line
from .text import normalise

MAX_UNZIPPED_BYTES = 200 * 2**20  # as for a .docx: a transcript never unpacks past this
MAX_REPEAT = 100  # repeated spaces, cells or rows written as one element with a count
MAX_STYLE_DEPTH = 20  # parent styles followed; a loop of parents stops here

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
}
OFFICE, TEXT, TABLE, STYLE, FO, MANIFEST, DRAW = (
    f"{{{_NS[key]}}}" for key in ("office", "text", "table", "style", "fo", "manifest", "draw"))
TEXT_MIMETYPES = ("application/vnd.oasis.opendocument.text",
                  "application/vnd.oasis.opendocument.text-template",
                  "application/vnd.oasis.opendocument.text-master")
_HEADING_STYLES = {"Heading", "Title", "Subtitle"}
# Block containers whose paragraphs are read in order, as lists and sections show them.
_CONTAINERS = {TEXT + name for name in ("list", "list-item", "list-header", "section",
                                        "numbered-paragraph", "index-body", "index-title")}
# Tables of contents and other indexes: navigation, read as headings (never speech).
_INDEXES = {TEXT + name for name in ("table-of-content", "alphabetical-index",
                                     "illustration-index", "table-index", "object-index",
                                     "user-index", "bibliography")}
# Inside a paragraph: footnotes, comments, ruby annotations and change marks are not the
# paragraph's text (python-docx's paragraph text leaves them out of a .docx too).
_NOT_TEXT = {TEXT + "note", TEXT + "ruby-text", TEXT + "tracked-changes", OFFICE + "annotation",
             OFFICE + "annotation-end"}
_ROW_GROUPS = {TABLE + name for name in ("table-header-rows", "table-rows", "table-row-group")}
_WHITE_SPACE = re.compile(r"[ \t\r\n]+")


def read_odt(data, path, rules):
    """The lines of a .odt's body; raises TranscriptError naming the file for a damaged,
    hostile (zip bomb, DTD) or password-protected one."""
    try:
        archive = SafeArchive(io.BytesIO(data), kind=".odt")
    except RefiError as exc:
        raise TranscriptError(exc.message, path=path) from exc
    with archive:
        members = {member.name: member for member in archive.members}
        total = sum(member.size for member in archive.members)
        if total > MAX_UNZIPPED_BYTES:
            raise TranscriptError(f"would unpack to {total / 1e6:.0f} MB (a zip bomb?); refused",
                                  path=path)
        _check_mimetype(archive, members, path)
        if "content.xml" not in members:
            raise TranscriptError("is not a .odt: the archive has no content.xml", path=path)
        _check_not_encrypted(archive, members, path)
        parts = {}
        for name in members:
            if name.lower().endswith((".xml", ".rdf")):
                parts[name] = _read(archive, name, path)
                if declares_dtd(io.BytesIO(parts[name])):
                    raise TranscriptError(f"part '{name}' declares a DTD (<!DOCTYPE>), which "
                                          "LibreOffice never writes and which allows entity-"
                                          "expansion and external-entity (XXE) attacks; "
                                          "refused", path=path)
    content = _parse(parts["content.xml"], "content.xml", path)
    styles = _Styles(_parse(parts["styles.xml"], "styles.xml", path).find(OFFICE + "styles")
                     if "styles.xml" in parts else None,
                     content.find(OFFICE + "automatic-styles"))
    body = content.find(f"{OFFICE}body/{OFFICE}text")
    lines = []
    if body is not None:
        _blocks(body, styles, lines, heading=False)
    return lines, {"encoding": "odt"}


def _read(archive, name, path):
    try:
        return archive.read(name)
    except RefiError as exc:
        raise TranscriptError(exc.message, path=path) from exc


def _parse(data, name, path):
    try:
        return parse_xml(data, name)
    except RefiError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise TranscriptError(f"is not a readable .odt: part '{name}'{where} {exc.message}",
                              path=path) from exc


def _check_mimetype(archive, members, path):
    """An .ods or .odp renamed .odt says what it is; a package without a mimetype (written by
    hand) is read if its content.xml is there."""
    if "mimetype" not in members or members["mimetype"].size > 200:
        return
    mimetype = _read(archive, "mimetype", path).decode("ascii", "replace").strip()
    if mimetype not in TEXT_MIMETYPES:
        kind = mimetype.rsplit(".", 1)[-1] if "opendocument" in mimetype else mimetype
        raise TranscriptError(f"is not an OpenDocument text but {kind!r} ({mimetype}); save it "
                              "from LibreOffice Writer as .odt, or export it as .docx", path=path)


def _check_not_encrypted(archive, members, path):
    """LibreOffice keeps the parts of a password-protected document encrypted inside the zip
    and says so in META-INF/manifest.xml (ODF 1.2 section 3.8: `manifest:encryption-data`;
    ODF 1.3 OpenPGP: one `encrypted-package`). Say so, rather than "not well-formed XML"."""
    encrypted = "encrypted-package" in members
    if not encrypted and "META-INF/manifest.xml" in members:
        manifest = _read(archive, "META-INF/manifest.xml", path)
        if declares_dtd(io.BytesIO(manifest)):
            return  # refused with the other parts
        root = _parse(manifest, "META-INF/manifest.xml", path)
        encrypted = root.find(f".//{MANIFEST}encryption-data") is not None or \
            root.find(f".//{MANIFEST}keyinfo") is not None
    if encrypted:
        raise TranscriptError("is a password-protected .odt (encrypted by LibreOffice): open "
                              "it, save a copy without the password (File > Save As, untick "
                              "'Save with password') and try again", path=path)


class _Styles:
    """Paragraph styles that make a heading, text styles that make bold: the common styles of
    styles.xml and the automatic ones of content.xml, with their parents."""

    def __init__(self, *containers):
        self._styles = {}
        for container in containers:
            if container is None:
                continue
            for style in container.iter(STYLE + "style"):
                key = (style.get(STYLE + "family"), style.get(STYLE + "name"))
                properties = style.find(STYLE + "text-properties")
                weight = properties.get(FO + "font-weight") if properties is not None else None
                self._styles[key] = (style.get(STYLE + "parent-style-name"), weight,
                                     style.get(STYLE + "default-outline-level"))

    def _chain(self, family, name):
        """The style and its parents, nearest first."""
        seen = []
        while name and (family, name) in self._styles and len(seen) < MAX_STYLE_DEPTH:
            parent, weight, outline = self._styles[(family, name)]
            seen.append((name, weight, outline))
            name = parent if parent not in [s[0] for s in seen] else None
        return seen

    def bold(self, name, inherited):
        """Whether text in the text style `name` is bold (else as around it)."""
        for _, weight, _ in self._chain("text", name):
            if weight:
                return weight == "bold" or (weight.isdigit() and int(weight) >= 600)
        return inherited

    def heading(self, name):
        """Whether the paragraph style `name` is a heading, a title or a subtitle."""
        return any(style in _HEADING_STYLES or style.startswith("Heading_20_")
                   or outline for style, _, outline in self._chain("paragraph", name))


def _blocks(element, styles, lines, heading):
    """Append the lines of `element`'s paragraphs, headings and tables, in body order."""
    for child in element:
        tag = child.tag
        if tag == TEXT + "h":
            lines.append(Line(_paragraph(child, styles)[0], heading=True))
        elif tag == TEXT + "p":
            text, runs = _paragraph(child, styles)
            if heading or styles.heading(child.get(TEXT + "style-name")):
                lines.append(Line(text, heading=True))
            elif len(runs) >= 2 and runs[0][1]:
                lines.append(bold_label_line(text, runs[0][0]))
            else:
                lines.append(Line(text))
        elif tag == TABLE + "table":
            lines.extend(Line(row, heading=heading) for row in _table_rows(child, styles))
        elif tag in _CONTAINERS:
            _blocks(child, styles, lines, heading)
        elif tag in _INDEXES:
            _blocks(child, styles, lines, heading=True)


def _paragraph(element, styles):
    """(text, runs): the paragraph's text, and its runs as (text, bold), neighbours of the same
    weight joined. White space as ODF 1.2 section 6.1.2 has it: runs of spaces, tabs and line
    ends in the XML are one space, ignored at the paragraph's start; `text:s`, `text:tab` and
    `text:line-break` are kept as written."""
    pieces = []
    _inline(element, styles, False, pieces)
    runs, after_space = [], True
    for text, bold, literal in pieces:
        if not literal:
            text = _WHITE_SPACE.sub(" ", text)
            if after_space and text.startswith(" "):
                text = text[1:]
            if not text:
                continue
            after_space = text.endswith(" ")
        else:
            after_space = False
        if runs and runs[-1][1] == bold:
            runs[-1][0] += text
        else:
            runs.append([text, bold])
    runs = [(normalise(text), bold) for text, bold in runs if text]
    return "".join(text for text, _ in runs), runs


def _inline(element, styles, bold, pieces):
    if element.text:
        pieces.append((element.text, bold, False))
    for child in element:
        tag = child.tag
        if tag == TEXT + "s":
            pieces.append((" " * _count(child, TEXT + "c"), bold, True))
        elif tag == TEXT + "tab":
            pieces.append(("\t", bold, True))
        elif tag == TEXT + "line-break":
            pieces.append(("\n", bold, True))
        elif tag == TEXT + "span":
            _inline(child, styles, styles.bold(child.get(TEXT + "style-name"), bold), pieces)
        elif tag not in _NOT_TEXT and not tag.startswith(DRAW):  # frames: images, text boxes
            _inline(child, styles, bold, pieces)  # links, fields, ruby bases: their text
        if child.tail:
            pieces.append((child.tail, bold, False))


def _table_rows(table, styles):
    """Each row as 'cell | cell' (a cell's paragraphs joined by a space); a merged cell
    appears once, not once per grid column, as in a .docx."""
    rows = []
    for row in _rows(table):
        cells = []
        for cell in row:
            if cell.tag != TABLE + "table-cell":
                continue  # covered-table-cell: the rest of a merged cell
            inner = []
            _blocks(cell, styles, inner, heading=False)
            text = " ".join(" ".join(line.text for line in inner).split())
            cells += [text] * _count(cell, TABLE + "number-columns-repeated")
        rows += [" | ".join(cells)] * _count(row, TABLE + "number-rows-repeated")
    return rows


def _rows(element):
    """A table's rows in order, inside header rows and row groups too (not nested tables:
    those are read as their cell's text)."""
    for child in element:
        if child.tag == TABLE + "table-row":
            yield child
        elif child.tag in _ROW_GROUPS:
            yield from _rows(child)


def _count(element, attribute):
    """A repeat count (`text:c`, `table:number-columns-repeated`), 1 to MAX_REPEAT."""
    try:
        return max(1, min(int(element.get(attribute, "1")), MAX_REPEAT))
    except ValueError:
        return 1
