"""Importing a transcript coded with Word comments (the comments are read by
`coding.readers.word_comments`): the .docx is ingested once and each code a comment names
becomes a coding, all or nothing."""

from pathlib import Path

from sqlalchemy import select

from ..errors import CodingsFileError, StoreError
from ..readers.transcripts import ingest_file
from ..readers.word_comments import (ORIGIN, code_index, code_key, did_you_mean, first_words,
                                     locate_comment, read_comment_codings)
from ..records import MANUAL, STATUSES
from ..storage.backup import auto_backup
from ..storage.schema import CodeRow, DocumentRow
from .lookup import match_document
from .writing import add_codings


def import_word_comments(project, path, status=MANUAL):
    """Ingest a coded .docx as a transcript (unless its text is already in the project) and store
    one coding per code its comments name: origin "word-comment", coder the comment's author.

    Every comment is checked first; a code not in the codebook or a comment that marks no text
    fails the whole import with each such comment named, and nothing (not even the transcript)
    is stored. Codings already present are skipped, so importing twice adds nothing.
    Returns (added, skipped, document name).

    >>> import_word_comments(project, "p01_coded.docx")
    (12, 0, 'p01_coded.docx')
    """
    if status not in STATUSES:
        raise StoreError(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    path = Path(path)
    comment_codings = read_comment_codings(path)
    parsed = ingest_file(path, project.speaker_rules())
    codes = code_index(project.codebook())
    problems, failed, planned = [], set(), []
    for item in comment_codings:
        problem, code, span = None, codes.get(code_key(item.code)), None
        if not item.code:
            problem = "names no code"
        elif code is None:
            problem = f"no code \"{item.code}\" in the codebook" + did_you_mean(item.code,
                                                                                 codes)
        elif not item.quote.strip():
            problem = ("marks no text of the transcript (is it on a header, a footnote or a "
                       "text box?)")
        else:
            span = locate_comment(parsed, item)
            if span is None:
                problem = ("marked text not found in the transcript: "
                           + first_words(item.quote, 60))
        if problem:
            problems.append(f"comment {item.comment_id} ({first_words(item.comment)}): "
                            + problem)
            failed.add(item.comment_id)
        else:
            planned.append((code, span, item.author or project.coder))
    if problems:
        failed, total = len(failed), len({item.comment_id for item in comment_codings})
        raise CodingsFileError(f"{failed} of {total} comments cannot be applied; nothing was "
                               "imported:\n" + "\n".join("  " + line for line in problems),
                               path=path)
    auto_backup(project.store, "import_word_comments")
    with project.store.reading() as session:  # a coded copy of a transcript already here
        existing, _ = match_document(session, parsed.name, parsed.sha256, by_content=True)
        name = existing.name if existing is not None else None
    if name is None:
        result = project.ingest([path])[0]
        if result.status == "failed":  # the file changed since it was read above
            raise CodingsFileError(result.error)
        name = result.document
    with project.store.transaction() as session:
        document_id = session.scalars(select(DocumentRow.id).where(
            DocumentRow.name == name, DocumentRow.sha256 == parsed.sha256)).one()
        code_ids = dict(session.execute(select(CodeRow.key, CodeRow.id).where(
            CodeRow.key.in_({code for code, _, _ in planned}))).all())
        _, added = add_codings(session, [
            dict(document_id=document_id, code_id=code_ids[code], start=start, end=end,
                 coder=coder, status=status, origin=ORIGIN)
            for code, (start, end), coder in planned])
        added, skipped = sum(added), len(added) - sum(added)
        project.store.log(session, project.coder, "import_word_comments", "coding", None,
                          file=str(path), document=name, added=added, skipped=skipped)
    return added, skipped, name
