"""Named groups of codes and of documents (issue 15, item 6): ATLAS.ti's code and document
groups and NVivo's sets, which REFI-QDA carries as Sets, and a researcher's own. They filter
the Themes and Review pages and the analysis exports (`--code-group`, `--document-group`).

Groups live in the project's settings (`settings["groups"]`, JSON, no table of their own):
`{"code": {name: {"members": [code ids], "description": ...}}, "document": {name:
{"members": [document ids], ...}}}`. Documents are kept by id (ids are never reused), codes by
their code id; members that no longer exist are left out when groups are read. Every change is
one event (`set_group`) holding the group before and after, so `undo` can put it back.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import StoreError
from ..storage.schema import CodeRow, DocumentRow, ProjectRow

SETTINGS_KEY = "groups"
KINDS = ("code", "document")


@dataclass(frozen=True)
class Group:
    """A named group: `kind` ("code" or "document"), its name, its members (code ids, or
    document names) and a description."""

    kind: str
    name: str
    members: tuple
    description: str = ""


def read_groups(session, kind=None):
    """The project's groups (of one kind, or both), members that still exist, by kind and
    name: [Group]."""
    stored = _stored(session)
    codes = set(session.scalars(select(CodeRow.key)))
    names = dict(session.execute(select(DocumentRow.id, DocumentRow.name)).all()) \
        if stored.get("document") else {}
    groups = []
    for group_kind in KINDS:
        if kind not in (None, group_kind):
            continue
        for name, value in sorted(stored.get(group_kind, {}).items()):
            members = value.get("members", [])
            shown = [m for m in members if m in codes] if group_kind == "code" else \
                [names[m] for m in members if m in names]
            groups.append(Group(group_kind, name, tuple(shown), value.get("description", "")))
    return groups


def store_group(session, kind, name, members, description=None, merge=False):
    """Set the group `name` of `kind` inside the caller's transaction: `members` are code ids
    or document row ids (checked by the caller); with `merge`, added to the members it has.
    Returns (before, after): the stored group before and after (None when there is none)."""
    _check_kind(kind)
    row = session.scalars(select(ProjectRow)).one()
    settings = dict(row.settings or {})
    groups = {k: dict(v) for k, v in (settings.get(SETTINGS_KEY) or {}).items()}
    before = groups.get(kind, {}).get(name)
    listed = list(before["members"]) if merge and before else []
    listed += [m for m in members if m not in listed]
    after = {"members": listed,
             "description": description if description is not None else
             (before or {}).get("description", "")}
    groups.setdefault(kind, {})[name] = after
    row.settings = {**settings, SETTINGS_KEY: groups}
    return before, after


def drop_group(session, kind, name):
    """Remove the group `name` of `kind`; returns what it was (None when there was none)."""
    _check_kind(kind)
    row = session.scalars(select(ProjectRow)).one()
    settings = dict(row.settings or {})
    groups = {k: dict(v) for k, v in (settings.get(SETTINGS_KEY) or {}).items()}
    before = groups.get(kind, {}).pop(name, None)
    row.settings = {**settings, SETTINGS_KEY: groups}
    return before


def stored_group(session, kind, name):
    """The group as stored ({"members": [...], "description": ...}), or None."""
    return _stored(session).get(kind, {}).get(name)


def _stored(session):
    row = session.scalars(select(ProjectRow)).one()
    return (row.settings or {}).get(SETTINGS_KEY) or {}


def _check_kind(kind):
    if kind not in KINDS:
        raise StoreError(f"a group is of codes or documents: kind must be 'code' or "
                         f"'document', not {kind!r}")


class GroupUseCases:
    """Project methods for groups of codes and documents."""

    def groups(self, kind=None):
        """The project's groups of codes and documents (or of one `kind`), [Group]."""
        with self.store.reading() as session:
            return read_groups(session, kind)

    def group(self, kind, name):
        """The group called `name` of `kind` ("code" or "document"); a StoreError naming the
        groups there are when there is none."""
        _check_kind(kind)
        for group in self.groups(kind):
            if group.name == name:
                return group
        known = ", ".join(f"'{g.name}'" for g in self.groups(kind)) or "none yet"
        raise StoreError(f"no {kind} group named '{name}' (the {kind} groups: {known})",
                         path=self.store.label)

    def set_group(self, kind, name, members, description=None):
        """Make the group `name` of `kind` hold `members` (code ids, or document names),
        replacing what it held. Returns the Group.

        >>> project.set_group("code", "Barriers", ["cost", "transport"])
        """
        _check_kind(kind)
        name = " ".join(str(name).split())
        if not name:
            raise StoreError("a group needs a name")
        with self.store.transaction() as session:
            ids = _member_ids(session, kind, members, self.store.label)
            before, after = store_group(session, kind, name, ids, description)
            self.store.log(session, self.coder, "set_group", "project", None, kind=kind,
                           name=name, previous=before, group=after)
        return self.group(kind, name)

    def remove_group(self, kind, name):
        """Delete the group `name` of `kind` (its codes and documents stay)."""
        self.group(kind, name)
        with self.store.transaction() as session:
            before = drop_group(session, kind, name)
            self.store.log(session, self.coder, "set_group", "project", None, kind=kind,
                           name=name, previous=before, group=None)


def _member_ids(session, kind, members, label):
    """Code ids as they are, document names as document ids; unknown ones are a StoreError
    naming them all."""
    members = list(dict.fromkeys(str(m) for m in members))
    if kind == "code":
        known = set(session.scalars(select(CodeRow.key).where(CodeRow.key.in_(members))))
        ids = members
    else:
        found = dict(session.execute(select(DocumentRow.name, DocumentRow.id).where(
            DocumentRow.name.in_(members))).all())
        known, ids = set(found), [found.get(m) for m in members]
    missing = [m for m in members if m not in known]
    if missing:
        raise StoreError(f"no {kind}{'s' if len(missing) > 1 else ''} "
                         + ", ".join(f"'{m}'" for m in missing) + " in this project",
                         path=label)
    return ids
