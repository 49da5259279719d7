"""The codebook of a project: import a codebook file, read the current one, and edit it (add,
change, move and merge codes).

Every change stores a new codebook version (so history is kept) in one transaction with its
event. Each edit reads the codebook inside that transaction, under the write lock, so two
sessions editing different codes at once both keep their change; an edit that says which state
of the code it was based on (`based_on`) is refused when someone changed the code since (issue
13, item 3), instead of silently overwriting their change.

The edits themselves are pure functions of a Codebook (`with_code_added`, ...), validated by a
round trip through the file format, so a cycle, a duplicate id or an unknown parent gets the
same message in the app as in a file.
"""

from dataclasses import replace

from sqlalchemy import delete, select, update

from ..errors import CodebookError, StoreError
from ..files import write_atomic
from ..readers.codebooks import dump_codebook, load_codebook, parse_codebook
from ..records import Code, Codebook
from ..storage.backup import auto_backup
from ..storage.schema import CodebookVersionRow, CodeRow, CodingRow, EventRow
from .writing import write_codebook

EDITS = ("add_code", "update_code", "move_code", "merge_codes")


class CodebookUseCases:
    """Mixed into Project (self.store, self.coder)."""

    def import_codebook(self, path):
        """Validate a codebook file and store it as a new codebook version.

        Codes are matched by id: existing ones are updated, new ones added, and codes missing
        from the new version are retired (kept, with their codings, but hidden).
        Returns (codebook, changed): changed is False when the content was already current.
        """
        codebook = load_codebook(path)
        auto_backup(self.store, "import_codebook")
        return codebook, self.save_codebook(codebook, origin=str(path))

    def save_codebook(self, codebook, origin=""):
        """Store a Codebook as the current version; returns False when nothing changed."""
        if self.codebook_or_none() == codebook:
            return False
        with self.store.transaction() as session:
            write_codebook(session, self.store, self.coder, codebook, origin)
        return True

    def codebook_or_none(self):
        with self.store.reading() as session:
            return read_codebook(session)

    def codebook(self):
        """The current codebook; StoreError when none has been imported."""
        codebook = self.codebook_or_none()
        if codebook is None:
            raise StoreError("has no codebook yet; import one with `coding codebook import`",
                             path=self.store.label)
        return codebook

    def codebook_yaml(self):
        """The current codebook as the YAML text `export_codebook` writes."""
        return dump_codebook(self.codebook())

    def export_codebook(self, path):
        """Write the current codebook as YAML (atomically: temporary file, then rename)."""
        write_atomic(path, dump_codebook(self.codebook()))

    # -- edits ----------------------------------------------------------------------------

    def add_code(self, code_id, name, parent=None, **fields):
        codebook = self._edit_codebook(
            lambda current: with_code_added(current, code_id, name, parent, **fields),
            "add_code", code=code_id)
        return codebook.get(code_id.strip())

    def update_code(self, code_id, based_on=None, **fields):
        """Edit name, definition, inclusion, exclusion, examples, keywords, patterns, colour.

        `based_on`: the code as the editor loaded it (a Code, or a dict of some of its fields,
        `code_state(code)`). When the stored code differs from it in any of
        those fields, someone changed it since: CodebookError "changed by X at T since you
        opened it", and nothing is stored. Without it, the edit applies to whatever is stored.
        """
        def edit(current, session):
            if based_on is not None:
                self._check_unchanged(session, current, code_id, based_on)
            return with_code_updated(current, code_id, **fields)

        codebook = self._edit_codebook(edit, "update_code", with_session=True, code=code_id,
                                       fields=sorted(fields))
        return codebook.get(code_id)

    def move_code(self, code_id, parent=None):
        codebook = self._edit_codebook(
            lambda current: with_code_moved(current, code_id, parent),
            "move_code", code=code_id, parent=parent)
        return codebook.get(code_id)

    def merge_codes(self, source, target):
        """Move every coding of `source` to `target` (dropping exact duplicates), then retire
        `source`. Returns how many codings moved."""
        with_codes_merged(self.codebook(), source, target)  # refuse before a backup
        auto_backup(self.store, "merge_codes")
        with self.store.transaction() as session:
            codebook = with_codes_merged(read_codebook(session, lock=True), source, target)
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
            write_codebook(session, self.store, self.coder, codebook, f"merge {source} into {target}")
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
            write_codebook(session, self.store, self.coder, codebook, action)
            self.store.log(session, self.coder, action, "codebook", None, **detail)
        return codebook

    def _check_unchanged(self, session, codebook, code_id, based_on):
        code = codebook.get(code_id)
        if code is None:
            return  # update_code names the missing code
        base = code_state(based_on)
        now = code_state(code)
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
    # `ordered` (issue 18) lives in the newest version's content, not in a column of its own
    ordered = {code["id"] for code in (header.content or {}).get("codes", ())
               if code.get("ordered")} if header is not None else set()
    codes = tuple(Code(id=row.key, name=row.name, parent=keys.get(row.parent_id),
                       definition=row.definition, inclusion=row.inclusion,
                       exclusion=row.exclusion, examples=tuple(row.examples),
                       keywords=tuple(row.keywords), patterns=tuple(row.patterns),
                       colour=row.colour, ordered=row.key in ordered) for row in rows)
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


# -- pure edits of a Codebook ------------------------------------------------------------

EDITABLE = ("name", "definition", "inclusion", "exclusion", "examples", "keywords",
            "patterns", "colour")


def code_state(code):
    """The editable fields of a code as plain data, for telling whether it changed since an
    editor loaded it (Project.update_code's `based_on`). `code` is a Code, or such a dict
    (possibly of some fields only: those are the ones compared).

    >>> code_state(Code(id="trust", name="Trust"))["name"]
    'Trust'
    """
    if isinstance(code, Code):
        fields = {field: getattr(code, field) for field in EDITABLE}
    elif isinstance(code, dict):
        unknown = set(code) - set(EDITABLE)
        if unknown:
            raise CodebookError(f"based_on names {', '.join(sorted(unknown))}, which are not "
                                f"editable fields of a code (those are {', '.join(EDITABLE)})")
        fields = code
    else:
        raise CodebookError(f"based_on must be a Code or a dict of its fields, not "
                            f"{type(code).__name__}")
    return {field: list(value) if isinstance(value, (list, tuple)) else value
            for field, value in fields.items()}


def validated_codebook(codebook):
    """The codebook as the file loader would read it back; CodebookError when it is invalid."""
    return parse_codebook(dump_codebook(codebook), path=f"codebook '{codebook.name}'")


def with_code_added(codebook, code_id, name, parent=None, **fields):
    code_id = (code_id or "").strip()
    if not code_id:
        raise CodebookError("a new code needs an id")
    if codebook.get(code_id) is not None:
        raise CodebookError(f"there is already a code with id '{code_id}'")
    if parent and codebook.get(parent) is None:
        raise CodebookError(f"parent '{parent}' is not a code in this codebook")
    code = Code(id=code_id, name=(name or code_id).strip(), parent=parent or None,
                **_clean_fields(fields))
    return validated_codebook(replace(codebook, codes=codebook.codes + (code,)))


def with_code_updated(codebook, code_id, **fields):
    """Change a code's name, definition, rules, examples, keywords, patterns or colour."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise CodebookError(f"cannot edit {', '.join(sorted(unknown))} of a code "
                            f"(editable: {', '.join(EDITABLE)})")
    code = _existing_code(codebook, code_id)
    return _with_code(codebook, code_id, replace(code, **_clean_fields(fields)))


def with_code_moved(codebook, code_id, parent):
    """Put a code under another parent (None: top level); a move into its own subtree fails."""
    code = _existing_code(codebook, code_id)
    if parent is not None:
        _existing_code(codebook, parent)
        path = codebook.path(parent).split("/")
        if code_id in path:
            raise CodebookError(f"cannot move '{code_id}' under '{parent}': "
                                f"'{parent}' is inside '{code_id}'")
    return _with_code(codebook, code_id, replace(code, parent=parent or None))


def with_codes_merged(codebook, source, target):
    """The codebook without `source`; its children move under `target`. The project moves the
    codings (Project.merge_codes)."""
    _existing_code(codebook, source)
    _existing_code(codebook, target)
    if source == target:
        raise CodebookError("cannot merge a code into itself")
    if source in codebook.path(target).split("/"):
        raise CodebookError(f"cannot merge '{source}' into '{target}', which is inside it")
    codes = tuple(replace(c, parent=target) if c.parent == source else c
                  for c in codebook.codes if c.id != source)
    return validated_codebook(replace(codebook, codes=codes))


def _existing_code(codebook, code_id):
    code = codebook.get(code_id)
    if code is None:
        raise CodebookError(f"no code '{code_id}' in the codebook")
    return code


def _with_code(codebook, code_id, new_code):
    return validated_codebook(replace(codebook, codes=tuple(new_code if c.id == code_id else c
                                                   for c in codebook.codes)))


def _clean_fields(fields):
    """Lists become tuples of non-empty stripped strings, text is stripped."""
    cleaned = {}
    for key, value in fields.items():
        if key in ("examples", "keywords", "patterns"):
            if isinstance(value, str):
                value = value.splitlines()
            cleaned[key] = tuple(v.strip() for v in value or () if v and v.strip())
        elif key == "colour":
            cleaned[key] = (value or "").strip() or None
        else:
            cleaned[key] = (value or "").strip()
    return cleaned
