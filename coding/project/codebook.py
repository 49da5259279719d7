"""Use cases that change the codebook from the app or a notebook: add, edit, move, merge codes.

Every edit stores a new codebook version (so history is kept) in one transaction with its event.
Each edit reads the codebook inside that transaction, under the write lock, so two sessions
editing different codes at once both keep their change; an edit that says which state of the
code it was based on (`based_on`) is refused when someone changed the code since (issue 13,
item 3), instead of silently overwriting their change.
"""

from sqlalchemy import delete, select, update

from ..errors import CodebookError, StoreError
from ..records import Code, Codebook
from ..storage.schema import CodebookVersionRow, CodeRow, CodingRow, EventRow
from . import codebook_edits as codebook_edit

EDITS = ("add_code", "update_code", "move_code", "merge_codes")


class CodebookUseCases:
    """Mixed into Project; needs self.store, self.coder, self._write_codebook."""

    def add_code(self, code_id, name, parent=None, **fields):
        codebook = self._edit_codebook(
            lambda current: codebook_edit.add_code(current, code_id, name, parent, **fields),
            "add_code", code=code_id)
        return codebook.get(code_id.strip())

    def update_code(self, code_id, based_on=None, **fields):
        """Edit name, definition, inclusion, exclusion, examples, keywords, patterns, colour.

        `based_on`: the code as the editor loaded it (a Code, or a dict of some of its fields,
        `codebook_edit.code_state(code)`). When the stored code differs from it in any of
        those fields, someone changed it since: CodebookError "changed by X at T since you
        opened it", and nothing is stored. Without it, the edit applies to whatever is stored.
        """
        def edit(current, session):
            if based_on is not None:
                self._check_unchanged(session, current, code_id, based_on)
            return codebook_edit.update_code(current, code_id, **fields)

        codebook = self._edit_codebook(edit, "update_code", with_session=True, code=code_id,
                                       fields=sorted(fields))
        return codebook.get(code_id)

    def move_code(self, code_id, parent=None):
        codebook = self._edit_codebook(
            lambda current: codebook_edit.move_code(current, code_id, parent),
            "move_code", code=code_id, parent=parent)
        return codebook.get(code_id)

    def merge_codes(self, source, target):
        """Move every coding of `source` to `target` (dropping exact duplicates), then retire
        `source`. Returns how many codings moved."""
        codebook_edit.merge_codes(self.codebook(), source, target)  # refuse before a backup
        self._auto_backup("merge_codes")
        with self.store.transaction() as session:
            codebook = codebook_edit.merge_codes(read_codebook(session, lock=True), source, target)
            ids = dict(session.execute(select(CodeRow.key, CodeRow.id).where(
                CodeRow.key.in_([source, target]))).all())
            fields = (CodingRow.document_id, CodingRow.start, CodingRow.end, CodingRow.coder,
                      CodingRow.status)
            existing = set(session.execute(select(*fields).where(
                CodingRow.code_id == ids[target])).all())
            moving = session.execute(select(CodingRow.id, *fields).where(
                CodingRow.code_id == ids[source])).all()
            duplicates = [row.id for row in moving if tuple(row[1:]) in existing]
            dropped = [_coding_record(row) for row in session.scalars(
                select(CodingRow).where(CodingRow.id.in_(duplicates)))] if duplicates else []
            if duplicates:
                session.execute(delete(CodingRow).where(CodingRow.id.in_(duplicates)))
            moved = session.execute(update(CodingRow).where(CodingRow.code_id == ids[source])
                                    .values(code_id=ids[target])).rowcount
            self._write_codebook(session, codebook, origin=f"merge {source} into {target}")
            self.store.log(session, self.coder, "merge_codes", "code", ids[target],
                           source=source, target=target, moved=moved,
                           duplicates_dropped=len(duplicates),
                           moved_ids=[row.id for row in moving if row.id not in duplicates],
                           dropped=dropped)
        return moved

    def _edit_codebook(self, edit, action, with_session=False, **detail):
        """Apply `edit` (current codebook -> new codebook) to the codebook as stored when the
        write lock is held, and store the result with its event. Returns the new codebook."""
        with self.store.transaction() as session:
            current = read_codebook(session, lock=True)
            if current is None:
                raise StoreError("has no codebook yet; import one with `coding codebook import`",
                                 path=self.store.label)
            codebook = edit(current, session) if with_session else edit(current)
            self._write_codebook(session, codebook, origin=action)
            self.store.log(session, self.coder, action, "codebook", None, **detail)
        return codebook

    def _check_unchanged(self, session, codebook, code_id, based_on):
        code = codebook.get(code_id)
        if code is None:
            return  # update_code names the missing code
        base = codebook_edit.code_state(based_on)
        now = codebook_edit.code_state(code)
        changed = sorted(field for field in base if base[field] != now.get(field))
        if changed:
            who, when = _last_change(session, code_id)
            raise CodebookError(
                f"code '{code_id}' was changed by {who} at {when} since you opened it "
                f"({', '.join(changed)}); your edit was not saved. Compare your text with the "
                "stored one, merge them, and save again.", path=self.store.label)


def read_codebook(session, lock=False):
    """The current codebook (codes not retired, and the newest version's header) as `session`
    sees it, or None. With `lock` (an edit's own transaction) the code rows are locked first
    (SELECT ... FOR UPDATE), so on PostgreSQL two edits are serialised as SQLite's write lock
    serialises them."""
    query = select(CodeRow).order_by(CodeRow.position)
    rows = [row for row in session.scalars(query.with_for_update() if lock else query)
            if not row.retired]
    if not rows:
        return None
    header = session.scalars(select(CodebookVersionRow).order_by(
        CodebookVersionRow.id.desc())).first()
    keys = {row.id: row.key for row in rows}
    codes = tuple(Code(id=row.key, name=row.name, parent=keys.get(row.parent_id),
                       definition=row.definition, inclusion=row.inclusion,
                       exclusion=row.exclusion, examples=tuple(row.examples),
                       keywords=tuple(row.keywords), patterns=tuple(row.patterns),
                       colour=row.colour) for row in rows)
    if header is None:
        return Codebook(id="codebook", name="Codebook", codes=codes)
    return Codebook(id=header.codebook_id, name=header.name, version=header.version,
                    description=header.description, source=header.source, codes=codes)


def _last_change(session, code_id):
    """(coder, time) of the newest event that changed `code_id`: an edit naming it, a merge
    into or out of it, a codebook file imported, or an undo of one of those."""
    events = session.scalars(select(EventRow).where(
        EventRow.action.in_((*EDITS, "import_codebook", "undo", "restore")))
        .order_by(EventRow.id.desc()).limit(1000))
    for event in events:
        if _touches(session, event, code_id):
            return event.coder, f"{event.at:%Y-%m-%d %H:%M} UTC" if event.at else "an unknown time"
    return "another session", "an unknown time"


def _touches(session, event, code_id):
    detail = event.detail or {}
    if event.action in ("add_code", "update_code", "move_code"):
        return detail.get("code") == code_id
    if event.action == "merge_codes":
        return code_id in (detail.get("source"), detail.get("target"))
    if event.action == "import_codebook":  # a file, not the version record an edit wrote
        origin = str(detail.get("origin") or "")
        return origin not in EDITS and not origin.startswith("merge ")
    if event.action == "undo":
        undone = session.get(EventRow, detail.get("undone")) if detail.get("undone") else None
        return undone is not None and _touches(session, undone, code_id)
    return event.action == "restore"


def _coding_record(row):
    """Every column of a coding, as the event log keeps it (so undo can put it back)."""
    return {column.key: getattr(row, column.key) for column in CodingRow.__table__.columns}
