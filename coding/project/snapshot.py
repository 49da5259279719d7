"""The whole project read at once, in one consistent snapshot, for writers that need all of
it (a REFI-QDA export): the project row, the codebook, documents, cases with attributes,
codings of some statuses, memos, groups and the event log's coders and times. The rows are
read-only data once the session has closed."""

from dataclasses import dataclass

from sqlalchemy import select

from ..storage.schema import CaseRow, CodeRow, CodingRow, DocumentRow, EventRow, MemoRow, ProjectRow
from .codebook import read_codebook
from .groups import read_groups


@dataclass(frozen=True)
class Snapshot:
    project: ProjectRow        # name, created_at, settings
    codebook: object           # records.Codebook or None
    code_keys: dict            # code row id -> code id
    documents: list            # DocumentRow, by name
    cases: list                # CaseRow with attributes, by name
    codings: list              # CodingRow of the statuses asked for, in document order
    memos: list                # MemoRow, oldest first
    events: list               # (coder, at, action, entity, entity_id), oldest first
    groups: list = ()          # groups.Group of codes and documents


def read_snapshot(store, statuses):
    """A Snapshot of the project in `store`, codings limited to `statuses`."""
    with store.reading() as session:
        codebook = read_codebook(session)
        row = session.scalars(select(ProjectRow)).one()
        documents = list(session.scalars(select(DocumentRow).order_by(DocumentRow.name)))
        cases = list(session.scalars(select(CaseRow).order_by(CaseRow.name)))
        for case in cases:
            case.attributes  # noqa: B018 - load them while the session is open
        code_keys = dict(session.execute(select(CodeRow.id, CodeRow.key)).all())
        codings = list(session.scalars(select(CodingRow).where(
            CodingRow.status.in_(list(statuses))).order_by(
            CodingRow.document_id, CodingRow.start, CodingRow.end, CodingRow.id)))
        memos = list(session.scalars(select(MemoRow).order_by(MemoRow.id)))
        events = [tuple(e) for e in session.execute(
            select(EventRow.coder, EventRow.at, EventRow.action, EventRow.entity,
                   EventRow.entity_id).order_by(EventRow.id))]
        groups = read_groups(session)
    return Snapshot(project=row, codebook=codebook, code_keys=code_keys, documents=documents,
                    cases=cases, codings=codings, memos=memos, events=events, groups=groups)
