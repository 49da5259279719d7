"""Word comments as codings: a transcript .docx whose comments name codes on the text they mark.

Many teams code in Word before they adopt a tool: select a passage, add a comment, type the code.
`read_comment_codings` reads those comments and the text each one marks (this module, no
database); `coding.project.word_comments.import_word_comments` ingests the .docx as a transcript
and stores one coding per code a comment names.

The comment text rule:
- A comment names one or more codes, separated by `;` or line breaks: "Empowering",
  "Code: Empowering", "empowering; building confidence". Commas do not separate codes, because
  code names hold commas ("Flexible, sensitive and responsive").
- A leading `code:` or `codes:` (any case) is dropped from each part; blank parts are ignored.
- A name matches a code of the project's codebook by id ("building_confidence"), then by id with
  spaces for underscores ("building confidence"), then by name ("Empowering and supportive"),
  each ignoring case and runs of white space.
- Replies to a comment (Word's threaded replies, marked in word/commentsExtended.xml) are
  discussion, not codes: they are skipped.

The marked text is read from the body between `w:commentRangeStart` and `w:commentRangeEnd` with
the comment's id, exactly as the transcript reader sees it (runs and hyperlinks of body
paragraphs and table cells): paragraphs are joined with "\\n", cells of one table row with " | ".
python-docx 1.2 gives the comments but not what they mark (TECH-NOTES.md section 4).
"""

import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CodingsFileError, TranscriptError
from .codings_file import locate_quote
from .text import normalise
from .transcripts import MAX_FILE_BYTES, _check_zip, _table_rows

ORIGIN = "word-comment"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W14_PARA_ID = "{http://schemas.microsoft.com/office/word/2010/wordml}paraId"
_W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
_PREFIX = re.compile(r"^\s*codes?\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class CommentCoding:
    """One code named by one Word comment, with the text the comment marks.

    `code` is the name as written (prefix stripped; "" when the comment names none), `quote` the
    marked text as it reads in the document ("" when the comment marks no body text), `comment`
    the comment's whole text. `paragraph` is the transcript line (body paragraph or table row,
    0-based, in the order `coding ingest` reads them) where the marked text starts, and
    `position` the character offset in the ingested transcript text where it starts (a table
    row's start inside a table); both None when the comment marks no body text.
    """

    comment_id: int
    code: str
    quote: str
    author: str
    comment: str
    paragraph: int | None = None
    position: int | None = None


def split_code_names(comment_text):
    """The code names a comment's text gives, in order, without repeats (ignoring case).

    >>> split_code_names("Code: Empowering; building confidence")
    ['Empowering', 'building confidence']
    """
    names = {}
    for part in re.split(r"[;\n]", comment_text or ""):
        name = " ".join(_PREFIX.sub("", part).split())
        if name:
            names.setdefault(code_key(name), name)
    return list(names.values())


def read_comment_codings(path):
    """Every Word comment of a .docx as CommentCodings: one per code it names (one with code ""
    when it names none), in comment order. Replies to comments are skipped.

    >>> [(c.code, c.quote) for c in read_comment_codings("p01_coded.docx")]
    [('empowering', 'they believed in me'), ...]
    """
    import docx  # python-docx; imported here so the rest of the package stays light

    path = Path(path)
    document = _open_docx(path, docx)
    replies = _reply_ids(document)
    comments = [c for c in document.comments if c.comment_id not in replies]
    if not comments:
        raise CodingsFileError("has no Word comments to import; in Word, select a passage and "
                               "add a comment (Review > New Comment) naming its code",
                               path=path)
    lines, where = _transcript_lines(document, docx)
    offsets, total = [], 0
    for line in lines:
        offsets.append(total)
        total += len(line) + 1
    anchors = _anchors(document.element.body, where)
    result = []
    for comment in comments:
        quote, paragraph, position = "", None, None
        parts, before = anchors.get(str(comment.comment_id), ([], 0))
        while parts and not parts[0][1]:  # the anchor starts at the very end of a paragraph
            parts, before = parts[1:], 0
        while parts and not parts[-1][1]:
            parts = parts[:-1]
        if parts:
            quote = _join_parts(parts)
            paragraph, cell = where[parts[0][0]]
            position = offsets[paragraph] + (before if cell is None else 0)
        text = comment.text or ""
        # author is a required attribute, but read it leniently: a missing one is not fatal
        author = (comment._comment_elm.get(_W + "author") or "").strip()
        for code in split_code_names(text) or [""]:
            result.append(CommentCoding(comment_id=comment.comment_id, code=code, quote=quote,
                                        author=author, comment=text, paragraph=paragraph,
                                        position=position))
    return result


def _open_docx(path, docx):
    if path.suffix.lower() != ".docx":
        raise CodingsFileError(f"Word comments are read from .docx files, not "
                               f"'{path.suffix or '(none)'}'; save it as a Word Document "
                               "(.docx)", path=path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CodingsFileError(f"is {size / 1e6:.0f} MB, over the "
                                   f"{MAX_FILE_BYTES // 2**20} MB limit for one transcript",
                                   path=path)
        data = path.read_bytes()
    except OSError as exc:
        raise CodingsFileError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    try:
        _check_zip(data, path, required="word/document.xml", kind=".docx")
    except TranscriptError as exc:
        raise CodingsFileError(exc.message, path=path) from exc
    try:
        document = docx.Document(io.BytesIO(data))
        list(document.comments)  # comments.xml is parsed lazily; a damaged one fails here
    except Exception as exc:  # python-docx raises several types for damaged packages
        raise CodingsFileError(f"is not a readable .docx (damaged or truncated?): {exc}",
                               path=path) from exc
    return document


def _reply_ids(document):
    """Ids of comments that are replies to another comment (w15:commentEx with paraIdParent).

    A comment is keyed by the w14:paraId of its last paragraph ([MS-DOCX] 2.5.3.1).
    """
    from lxml import etree

    replies = set()
    for rel in document.part.rels.values():
        if rel.is_external or not rel.reltype.endswith("/commentsExtended"):
            continue
        try:
            root = etree.fromstring(rel.target_part.blob)
        except etree.XMLSyntaxError:
            return replies  # an unreadable extension part: treat every comment as a comment
        replies = {e.get(_W15 + "paraId") for e in root.iter(_W15 + "commentEx")
                   if e.get(_W15 + "paraIdParent")}
    if not replies:
        return set()
    ids = set()
    for comment in document.comments:
        paragraphs = comment._comment_elm.findall(_W + "p")
        if paragraphs and paragraphs[-1].get(_W14_PARA_ID) in replies:
            ids.add(comment.comment_id)
    return ids


def _transcript_lines(document, docx):
    """The transcript reader's lines (coding.readers.transcripts._read_docx: one per body paragraph, one per
    table row) and, for every paragraph it reads, (line index, cell element or None)."""
    lines, where = [], {}
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            for row, text in zip(block._tbl.tr_lst, _table_rows(block)):
                for cell in row.tc_lst:
                    for p in cell.p_lst:
                        where[p] = (len(lines), cell)
                lines.append(text)
        else:
            where[block._p] = (len(lines), None)
            lines.append(normalise(block.text))
    return lines, where


def _anchors(body, where):
    """Comment id -> ([(paragraph, marked text)], characters of the first paragraph before the
    anchor), walking the body in document order.

    Only runs the transcript reader reads count: runs and hyperlink runs of paragraphs in
    `where`, so deleted text, text boxes and content controls are left out here as there.
    """
    anchors, open_ids, seen = {}, set(), {}
    for element in body.iter():
        tag = element.tag
        if tag == _W + "commentRangeStart":
            cid = element.get(_W + "id")
            p = _paragraph_of(element, where)
            anchors[cid] = ([(p, "")] if p is not None else [],
                            len(normalise(seen.get(p, ""))) if p is not None else 0)
            open_ids.add(cid)
        elif tag == _W + "commentRangeEnd":
            open_ids.discard(element.get(_W + "id"))
        elif tag == _W + "p" and element in where:
            seen[element] = ""
            for cid in open_ids:
                parts = anchors[cid][0]
                if not parts or parts[-1][0] is not element:
                    parts.append((element, ""))
        elif tag == _W + "r":
            p = element.getparent()
            if p is not None and p.tag == _W + "hyperlink":
                p = p.getparent()
            if p is None or p.tag != _W + "p" or p not in where:
                continue
            text = element.text  # python-docx's CT_R.text: w:t, tabs and breaks as text
            seen[p] = seen.get(p, "") + text
            for cid in open_ids:
                parts = anchors[cid][0]
                if parts and parts[-1][0] is p:
                    parts[-1] = (p, parts[-1][1] + text)
                else:
                    parts.append((p, text))
    return anchors


def _paragraph_of(element, where):
    for ancestor in element.iterancestors(_W + "p"):
        return ancestor if ancestor in where else None
    return None  # a marker between paragraphs: the anchor starts with the next paragraph


def _join_parts(parts):
    """Paragraph texts joined as the transcript reader joins them: "\\n" between paragraphs,
    " | " between cells of one table row."""
    text = ""
    for i, (p, part) in enumerate(parts):
        if i:
            cell, previous = p.getparent(), parts[i - 1][0].getparent()
            same_row = cell.tag == previous.tag == _W + "tc" and cell is not previous \
                and cell.getparent() is previous.getparent()
            text += " | " if same_row else "\n"
        text += part
    return normalise(text)


def locate_comment(parsed, item):
    """[start, end) of the marked text: searched from where the comment's anchor starts (so a
    phrase said twice is coded where it was marked), trimmed of white space and of a speaker
    label at its start (a turn's span excludes its label)."""
    quote = item.quote.strip()
    span = None
    if item.position is not None:
        span = locate_quote(parsed.text, quote, start=min(item.position, len(parsed.text)))
    if span is None:
        span = locate_quote(parsed.text, quote)
    if span is None:
        return None
    start, end = span
    if not any(turn.start <= start < turn.end for turn in parsed.turns):
        following = next((t.start for t in parsed.turns if start < t.start < end), None)
        if following is not None and "\n" not in parsed.text[start:following]:
            start = following  # the marked text starts with the turn's speaker label
    while start < end and parsed.text[start].isspace():
        start += 1
    while end > start and parsed.text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def code_key(name):
    return " ".join(name.casefold().split())


def code_index(codebook):
    """Lookup key -> code id: ids first, then ids with spaces, then names (an id wins)."""
    codes = list(codebook.walk())
    index = {}
    for keys in ([c.id for c in codes], [c.id.replace("_", " ") for c in codes],
                 [c.name for c in codes]):
        for code, key in zip(codes, keys):
            index.setdefault(code_key(key), code.id)
    return index


def did_you_mean(name, codes):
    close = difflib.get_close_matches(code_key(name), list(codes), n=1, cutoff=0.75)
    return f"; did you mean \"{codes[close[0]]}\"?" if close else ""


def first_words(text, limit=40):
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return f"\"{text}\""
    return "\"" + text[:limit + 1].rsplit(" ", 1)[0] + "...\""
