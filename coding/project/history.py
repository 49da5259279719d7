"""The audit trail in words, and undo.

Every change is an event (store.Store.log), written in the transaction that made the change,
with the coder, the time and enough detail to reverse it. `history` lists events with what
each did; `undo` reverses the current coder's newest changes (never another coder's), newest
first, in one transaction (all or nothing), each reversal logged as an "undo" event naming the
event it undid. An undone event is passed over by the next undo, and so are undo events (undo
goes further back; there is no redo). Queue upkeep (train, suggest, drop_stale_suggestions),
which the app runs by itself between decisions, is passed over too: it never touches a reviewed
coding. Anything else with no reversal here (an ingest, an import) stops undo with a message
naming it; a backup from before it (backup.py) is the way back. A purge (removal.py) is
refused for good, and the events it emptied are passed over: nothing of them is left.

Undo refuses, naming the codings, when later changes built on what it would reverse (another
coder accepted the coding you added, the suggestion you widened was dropped, a memo was written
on the coding you would delete): it never overwrites someone else's work.
"""

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select

from ..errors import StoreError
from ..records import ACCEPTED, MANUAL, REJECTED, SUGGESTED, Code, Codebook
from ..storage.schema import CodebookVersionRow, CodeRow, CodingRow, DocumentRow, EventRow, MemoRow
from .groups import drop_group, store_group, stored_group
from .removal import PURGED, restore_conflict, restore_document
from .validation import undo_fully_coded, undo_switch
from .writing import write_codes

PASSED_OVER = ("train", "suggest", "drop_stale_suggestions")
CODEBOOK_EDITS = ("add_code", "update_code", "move_code")
HISTORY_COLUMNS = ["event_id", "at", "coder", "action", "what", "undone_by"]


# -- the log in words ---------------------------------------------------------------------------
def history(project, coder=None, limit=None):
    """Events newest first (of one coder, or everyone's), each with `what` it did in words and
    `undone_by`, the id of the undo event that reversed it (None if it stands)."""
    with project.store.reading() as session:
        query = select(EventRow).order_by(EventRow.id.desc())
        if coder is not None:
            query = query.where(EventRow.coder == coder)
        if limit:
            query = query.limit(int(limit))
        events = list(session.scalars(query))
        undone = _undone(session)
        names = _Names(session)
        rows = [{"event_id": e.id, "at": e.at, "coder": e.coder, "action": e.action,
                 "what": describe(e, names), "undone_by": undone.get(e.id)} for e in events]
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    frame["undone_by"] = frame["undone_by"].astype("Int64")
    return frame


def describe(event, names=None):
    """What an event did, in a line: 'accepted 3 suggestions (12, 15, 18)'."""
    d, action = event.detail or {}, event.action
    names = names or _Names(None)
    if d.get(PURGED):
        return f"{action.replace('_', ' ')} (its details were removed by a purge)"
    if action == "delete_document":
        document = d.get("document") or {}
        return f"deleted document {document.get('name')} with its " \
               f"{_plural(len(d.get('turns') or []), 'turn')}, " \
               f"{_plural(len(d.get('codings') or []), 'coding')} and " \
               f"{_plural(len(d.get('memos') or []), 'memo')}"
    if action == "rename_document":
        return f"renamed document {d.get('previous')} to {d.get('name')}"
    if action == "purge_document":
        return f"purged {', '.join(d.get('documents') or [])} (consent withdrawn): its text, " \
               f"{_plural(d.get('turns', 0), 'turn')}, {_plural(d.get('codings', 0), 'coding')}" \
               f" and {_plural(d.get('memos', 0), 'memo')} removed for good"
    passage = names.passage(d.get("document_id") or d.get("document"), d.get("start"),
                            d.get("end"))  # the quote itself, never "[833, 2271)" (issue 16)
    if action in ("accept", "reject"):
        ids = d.get("ids", [])
        return f"{action}ed {_plural(len(ids), 'suggestion')} ({_ids(ids)})"
    if action == "add_coding":
        extra = "" if d.get("status", MANUAL) == MANUAL else f", {d.get('status')}"
        if d.get("for_coder") not in (None, event.coder):
            extra += f", for {d['for_coder']}"
        return f"coded {passage} in {d.get('document')} as {d.get('code')}{extra} (coding " \
               f"{event.entity_id})"
    if action == "code_selection":
        ids = d.get("ids", [])
        return f"coded {_plural(len(ids), 'passage')} of {d.get('document')} as " \
               f"{d.get('code')} (codings {_ids(ids)})"
    if action == "code_hits":
        ids, query = d.get("ids", []), (f" for \"{d['pattern']}\" ({d.get('mode')})"
                                         if d.get("pattern") else "")
        return f"coded {_plural(d.get('hits', 0), 'search hit')}{query} as " \
               f"{d.get('unit')}s with {d.get('code')} (codings {_ids(ids)})"
    if action == "change_code":
        return f"recoded coding {event.entity_id} from {names.code(d.get('previous_code_id'))} " \
               f"to {d.get('code')}"
    if action == "remove_coding":
        memos = len(d.get("memos") or [])
        return f"removed coding {event.entity_id}: {names.code(d.get('code_id'))} on " \
               f"{passage} in {names.document(d.get('document_id'))}" + \
               (f" and its {_plural(memos, 'memo')}" if memos else "")
    if action == "recode":
        return f"recoded suggestion {d.get('replaces')} as {d.get('code')} (coding " \
               f"{event.entity_id})"
    if action == "respan":
        verb = "widened" if d.get("unit") == "turn" else "narrowed"
        return f"{verb} suggestion {event.entity_id} to its {d.get('unit')}"
    if action == "add_memo":
        return f"memo {event.entity_id} on {_target(d, names)}"
    if action == "update_memo":
        return f"edited memo {event.entity_id} on {_target(d, names)}"
    if action == "remove_memo":
        return f"deleted memo {event.entity_id} on {_target(d, names)}"
    if action == "resolve":
        return f"consensus on {d.get('code')} for {passage} in {d.get('document')}: " \
               f"{d.get('decision')} ({' vs '.join(d.get('coders') or [])})"
    if action == "merge_codes":
        return f"merged code {d.get('source')} into {d.get('target')} " \
               f"({_plural(d.get('moved', 0), 'coding')} moved)"
    if action == "add_code":
        return f"added code {d.get('code')}"
    if action == "update_code":
        return f"edited code {d.get('code')} ({', '.join(d.get('fields') or [])})"
    if action == "move_code":
        return f"moved code {d.get('code')} under {d.get('parent') or 'the top level'}"
    if action == "import_codebook":
        if _is_companion(event):
            return f"stored codebook version {event.entity_id} ({d.get('origin')})"
        return f"codebook {d.get('codebook')} ({_plural(d.get('codes', 0), 'code')}) from " \
               f"{d.get('origin') or 'an edit'}"
    if action == "ingest":
        return f"ingested {d.get('name')} (case {d.get('case')}, {d.get('turns')} turns)"
    if action == "import_cases":
        return f"imported {_plural(len(d.get('cases') or []), 'case')} from {d.get('sheet')}"
    if action in ("import_codings", "import_word_comments"):
        return f"imported {_plural(d.get('added', 0), 'coding')} from {d.get('file')} " \
               f"({d.get('skipped', 0)} already there)"
    if action == "import_refi":
        return f"imported REFI-QDA {d.get('file')}"
    if action == "merge_codings":
        return f"merged {_plural(d.get('added', 0), 'coding')} from {d.get('source')}"
    if action == "suggest":
        return f"queued {_plural(d.get('added', 0), 'suggestion')} in " \
               f"{names.document(event.entity_id)}"
    if action == "drop_stale_suggestions":
        return f"dropped {_plural(d.get('dropped', 0), 'pending model suggestion')} to " \
               "suggest again"
    if action == "train":
        return f"trained model {d.get('version')} on {d.get('units')} {d.get('unit')}s"
    if action == "settings":
        return "changed the speaker settings"
    if action == "set_group":
        if d.get("group") is None:
            return f"removed the {d.get('kind')} group '{d.get('name')}'"
        members = len((d.get("group") or {}).get("members") or [])
        verb = "made" if d.get("previous") is None else "changed"
        return f"{verb} the {d.get('kind')} group '{d.get('name')}' " \
               f"({_plural(members, 'member')})"
    if action in ("fully_coded", "not_fully_coded"):
        return f"{'marked' if action == 'fully_coded' else 'took back the mark on'} " \
               f"{d.get('document')} as coded completely"
    if action in ("suggestions_off", "suggestions_on"):
        return f"switched {action.split('_')[1]} the suggestions of {d.get('code')}"
    if action == "upgrade":
        return f"upgraded the schema from {d.get('from')} to {d.get('to')}"
    if action == "restore":
        return f"restored the project from {d.get('file')}"
    if action == "undo":
        return f"undid event {d.get('undone')}: {d.get('what') or d.get('undone_action')}"
    return ", ".join(f"{key}={value}" for key, value in d.items())


# -- undo ---------------------------------------------------------------------------------------
def undo(project, steps=1):
    """Reverse `project.coder`'s newest `steps` changes; see the module docstring.
    Returns [(event id, action, what)] of the changes undone, newest first."""
    if int(steps) < 1:
        raise StoreError("steps must be at least 1")
    coder, done = project.coder, []
    with project.store.transaction() as session:
        skip = set(_undone(session))
        names = _Names(session)
        for event in _changes(session, coder):
            if len(done) == int(steps):
                break
            if event.id in skip or event.action == "undo" or _is_companion(event) \
                    or event.action in PASSED_OVER:
                continue
            if (event.detail or {}).get(PURGED):
                continue  # about a purged document: nothing of it is left to reverse
            what = describe(event, names)
            if event.action == "purge_document":
                raise StoreError(f"cannot undo event {event.id} ({what}): a purge removes a "
                                 "withdrawn participant's words for good, and what came "
                                 "before it cannot be undone either; nothing was undone",
                                 path=project.store.label)
            reverse = REVERSALS.get(event.action)
            if reverse is None:
                raise StoreError(_cannot(event, what, done))
            try:
                also = reverse(project, session, event) or []
            except _Conflict as conflict:
                raise StoreError(f"cannot undo event {event.id} ({what}): {conflict}; "
                                 f"nothing was undone") from None
            session.flush()
            project.store.log(session, coder, "undo", event.entity, event.entity_id,
                              undone=event.id, undone_action=event.action, what=what,
                              also=also)
            done.append((event.id, event.action, what))
        if not done:
            raise StoreError(f"nothing to undo: {coder} has no changes left to undo here",
                             path=project.store.label)
    return done


class _Conflict(Exception):
    """A later change built on what undo would reverse; the message says which."""


def _changes(session, coder, page=200):
    """This coder's events, newest first, a page at a time."""
    before = None
    while True:
        query = select(EventRow).where(EventRow.coder == coder).order_by(
            EventRow.id.desc()).limit(page)
        if before is not None:
            query = query.where(EventRow.id < before)
        events = list(session.scalars(query))
        yield from events
        if len(events) < page:
            return
        before = events[-1].id


def _cannot(event, what, done):
    when = event.at.strftime("%Y-%m-%d %H:%M") if event.at else "?"
    message = (f"cannot undo '{event.action}' (event {event.id} at {when}: {what}): only "
               "codings, reviews, recodes, spans, memos, consensus decisions, groups, codebook "
               "changes, 'coded completely' marks and switched suggestions can be undone; to go back past it, restore a backup taken before it "
               "(`coding backup PROJECT --list`, then `coding restore PROJECT BACKUP`)")
    if done:
        message += (f". Nothing was undone; your {_plural(len(done), 'newer change')} can be "
                    f"undone with --steps {len(done)}")
    return message


def _undo_review(project, session, event):
    """accept / reject: the suggestions go back to the queue, each with its coder."""
    d = event.detail
    status = ACCEPTED if event.action == "accept" else REJECTED
    ids = [int(i) for i in d.get("ids", [])]
    rows = {row.id: row for row in session.scalars(select(CodingRow).where(
        CodingRow.id.in_(ids)))} if ids else {}
    gone = [i for i in ids if i not in rows]
    if gone:
        raise _Conflict(_since(gone, "removed"))
    changed = [i for i in ids if rows[i].status != status or rows[i].reviewed_by != event.coder]
    if changed:
        raise _Conflict(_since(changed, "changed"))
    previous = d.get("previous_coders") or {}
    for row in rows.values():
        row.status = d.get("previous_status", SUGGESTED)
        row.reviewed_by = row.reviewed_at = None
        if status == ACCEPTED:  # older events lack previous_coders: the suggester named it
            row.coder = previous.get(str(row.id)) or row.origin.split(":")[0]


def _undo_add_coding(project, session, event):
    d = event.detail
    row = _coding(session, event.entity_id)
    if (row.start, row.end, row.status, row.coder) != (d.get("start"), d.get("end"),
                                                       d.get("status"), d.get("for_coder")):
        raise _Conflict(_since([row.id], "changed"))
    _no_memos(session, [row.id])
    session.delete(row)


def _undo_code_selection(project, session, event):
    """code_selection: its codings go, unless one changed or has a memo since."""
    d = event.detail
    rows = [_coding(session, coding_id) for coding_id in d.get("ids", [])]
    changed = [row.id for row, span in zip(rows, d.get("spans", []))
               if [row.start, row.end] != list(span) or row.coder != event.coder
               or row.status != MANUAL]
    if changed:
        raise _Conflict(_since(changed, "changed"))
    _no_memos(session, [row.id for row in rows])
    for row in rows:
        session.delete(row)


def _undo_change_code(project, session, event):
    row = _coding(session, event.entity_id)
    if row.code_id != event.detail.get("code_id"):
        raise _Conflict(_since([row.id], "changed"))
    if session.get(CodeRow, event.detail.get("previous_code_id")) is None:
        raise _Conflict("its earlier code no longer exists")
    row.code_id = event.detail["previous_code_id"]


def _undo_remove_coding(project, session, event):
    d = event.detail
    if session.get(DocumentRow, d.get("document_id")) is None or \
            session.get(CodeRow, d.get("code_id")) is None:
        raise _Conflict("its document or code no longer exists")
    taken = session.get(CodingRow, event.entity_id) is not None
    row = CodingRow(id=None if taken else event.entity_id, document_id=d["document_id"],
                    code_id=d["code_id"], start=d["start"], end=d["end"],
                    coder=d.get("for_coder") or event.coder, status=d.get("status", MANUAL),
                    origin=d.get("origin") or "manual", score=d.get("score"),
                    rationale=d.get("rationale"), reviewed_by=d.get("reviewed_by"),
                    reviewed_at=_when(d.get("reviewed_at")))
    if d.get("created_at"):
        row.created_at = _when(d["created_at"])
    session.add(row)
    session.flush()
    for memo in d.get("memos", []):  # removed with the coding (issue 13)
        taken = session.get(MemoRow, memo["id"]) is not None
        session.add(MemoRow(id=None if taken else memo["id"], target_type="coding",
                            target_id=row.id, coder=memo["coder"], title=memo.get("title", ""),
                            text=memo["text"], created_at=_when(memo.get("created_at")),
                            updated_at=_when(memo.get("updated_at"))))


def _undo_recode(project, session, event):
    d = event.detail
    new, old = _coding(session, event.entity_id), _coding(session, d.get("replaces"))
    if new.status != ACCEPTED or old.status != REJECTED:
        raise _Conflict(_since([new.id, old.id], "changed"))
    _no_memos(session, [new.id])
    session.delete(new)
    old.status = d.get("previous_status", SUGGESTED)
    old.reviewed_by = old.reviewed_at = None


def _undo_respan(project, session, event):
    d = event.detail
    row = session.get(CodingRow, event.entity_id)
    if row is None:
        raise _Conflict(f"suggestion {event.entity_id} was removed since (retraining the "
                        "model drops its pending suggestions)")
    if row.status != SUGGESTED or [row.start, row.end] != list(d.get("span", [])):
        raise _Conflict(_since([row.id], "changed"))
    start, end = d["previous"]
    clash = session.scalars(select(CodingRow.id).where(
        CodingRow.document_id == row.document_id, CodingRow.code_id == row.code_id,
        CodingRow.start == start, CodingRow.end == end, CodingRow.id != row.id)).first()
    if clash is not None:
        raise _Conflict(f"coding {clash} now has the earlier span")
    row.start, row.end = start, end


def _undo_add_memo(project, session, event):
    memo = session.get(MemoRow, event.entity_id)
    if memo is None:
        raise _Conflict(f"memo {event.entity_id} was removed since")
    session.delete(memo)


def _undo_update_memo(project, session, event):
    """update_memo: the text (and title) before the edit come back."""
    memo = session.get(MemoRow, event.entity_id)
    after = event.detail["after"]
    if memo is None:
        raise _Conflict(f"memo {event.entity_id} was removed since")
    if (memo.text, memo.title) != (after["text"], after["title"]):
        raise _Conflict(f"memo {event.entity_id} was changed since")
    before = event.detail["before"]
    memo.text, memo.title = before["text"], before["title"]
    memo.updated_at = _when(before.get("updated_at")) or memo.updated_at


def _undo_remove_memo(project, session, event):
    """remove_memo: the memo comes back as it was, under its own id when that is free."""
    d = event.detail
    if d["target_type"] == "coding" and session.get(CodingRow, d["target_id"]) is None:
        raise _Conflict(f"the coding it was on ({d['target_id']}) was removed since")
    taken = session.get(MemoRow, event.entity_id) is not None
    memo = d["memo"]
    session.add(MemoRow(id=None if taken else event.entity_id, target_type=d["target_type"],
                        target_id=d["target_id"], coder=memo["coder"], title=memo["title"],
                        text=memo["text"], created_at=_when(memo.get("created_at")),
                        updated_at=_when(memo.get("updated_at"))))


def _undo_delete_document(project, session, event):
    """delete_document: the document comes back with its turns, codings and memos."""
    conflict = restore_conflict(session, event.detail)
    if conflict:
        raise _Conflict(conflict)
    restore_document(session, event.detail, _when)


def _undo_rename_document(project, session, event):
    document = session.get(DocumentRow, event.entity_id)
    if document is None or document.name != event.detail["name"]:
        raise _Conflict("the document was renamed or removed since")
    if session.scalar(select(DocumentRow.id).where(
            DocumentRow.name == event.detail["previous"])) is not None:
        raise _Conflict(f"another document is named '{event.detail['previous']}' now")
    document.name = event.detail["previous"]


def _undo_resolve(project, session, event):
    ids = [int(i) for i in event.detail.get("ids", [])]
    rows = [_coding(session, i) for i in ids]
    _no_memos(session, ids)
    for row in rows:
        session.delete(row)


def _undo_codebook_edit(project, session, event):
    """add_code, update_code, move_code, a codebook import: the previous codebook version
    comes back. Returns the companion event (the version record) it undid too."""
    if event.action == "import_codebook":
        _restore_codebook(project, session, event.entity_id)
        return []
    version = _companion(session, event)
    _restore_codebook(project, session, version.entity_id)
    return [version.id]


def _undo_merge_codes(project, session, event):
    d = event.detail
    if "moved_ids" not in d:
        raise _Conflict("this merge was logged before merges kept the codings they moved")
    keys = dict(session.execute(select(CodeRow.key, CodeRow.id).where(
        CodeRow.key.in_([d["source"], d["target"]]))).all())
    moved = [int(i) for i in d["moved_ids"]]
    rows = list(session.scalars(select(CodingRow).where(CodingRow.id.in_(moved)))) \
        if moved else []
    changed = sorted(set(moved) - {r.id for r in rows if r.code_id == keys[d["target"]]})
    if changed:
        raise _Conflict(_since(changed, "changed"))
    for row in rows:
        row.code_id = keys[d["source"]]
    for record in d.get("dropped", []):
        if session.get(CodingRow, record["id"]) is not None:
            raise _Conflict(f"coding id {record['id']} is taken again")
        session.add(CodingRow(**{key: _when(value) if key.endswith("_at") else value
                                 for key, value in record.items()}))
    session.flush()
    version = _companion(session, event)
    _restore_codebook(project, session, version.entity_id)
    return [version.id]


def _undo_code_hits(project, session, event):
    """code_hits: the codings it added go (a thousand ids at a time: SQLite caps a query's
    parameters), unless one was changed or given a memo since."""
    ids = [int(i) for i in event.detail.get("ids", [])]
    rows = {}
    for first in range(0, len(ids), 1000):
        part = ids[first:first + 1000]
        rows.update((row.id, row) for row in session.scalars(select(CodingRow).where(
            CodingRow.id.in_(part))))
        _no_memos(session, part)
    gone = [i for i in ids if i not in rows]
    if gone:
        raise _Conflict(_since(gone, "removed"))
    changed = [i for i in ids if (rows[i].status, rows[i].coder) != (MANUAL, event.coder)]
    if changed:
        raise _Conflict(_since(changed, "changed"))
    for row in rows.values():
        session.delete(row)


def _undo_group(project, session, event):
    """set_group: the group as it was before (gone again when it was new)."""
    d = event.detail
    if stored_group(session, d["kind"], d["name"]) != d.get("group"):
        raise _Conflict(f"the {d['kind']} group '{d['name']}' has changed since")
    previous = d.get("previous")
    if previous is None:
        drop_group(session, d["kind"], d["name"])
    else:
        store_group(session, d["kind"], d["name"], previous["members"],
                    previous.get("description", ""))


REVERSALS = {"accept": _undo_review, "reject": _undo_review, "add_coding": _undo_add_coding,
             "code_selection": _undo_code_selection, "change_code": _undo_change_code,
             "remove_coding": _undo_remove_coding, "recode": _undo_recode,
             "respan": _undo_respan, "add_memo": _undo_add_memo, "resolve": _undo_resolve,
             "update_memo": _undo_update_memo, "remove_memo": _undo_remove_memo,
             "delete_document": _undo_delete_document,
             "rename_document": _undo_rename_document,
             "merge_codes": _undo_merge_codes, "import_codebook": _undo_codebook_edit,
             "set_group": _undo_group, "code_hits": _undo_code_hits,
             "fully_coded": undo_fully_coded, "not_fully_coded": undo_fully_coded,
             "suggestions_off": undo_switch, "suggestions_on": undo_switch,
             **{action: _undo_codebook_edit for action in CODEBOOK_EDITS}}


def _restore_codebook(project, session, version_id):
    """Put the codebook back as it was before version `version_id`, which must be the newest:
    codes as the previous version had them, codes first made by this version deleted (when no
    coding uses them), and the version record dropped."""
    newest = session.scalar(select(func.max(CodebookVersionRow.id)))
    if newest != version_id:
        later = session.get(CodebookVersionRow, newest)
        raise _Conflict(f"the codebook has changed since (version {newest}, by "
                        f"{later.created_by if later else '?'})")
    earlier = list(session.scalars(select(CodebookVersionRow).where(
        CodebookVersionRow.id < version_id).order_by(CodebookVersionRow.id)))
    known = {code["id"]: code for version in earlier for code in version.content["codes"]}
    rows = {row.key: row for row in session.scalars(select(CodeRow))}
    new = [row for key, row in rows.items() if key not in known]
    used = set(session.scalars(select(CodingRow.code_id).where(
        CodingRow.code_id.in_([row.id for row in new])).distinct())) if new else set()
    if used:
        keys = sorted(row.key for row in new if row.id in used)
        raise _Conflict(f"codes {', '.join(keys)} have codings now")
    if earlier:
        header = earlier[-1]
        codes = tuple(Code(**{**code, **{field: tuple(code.get(field) or ())
                                         for field in ("examples", "keywords", "patterns")}})
                      for code in header.content["codes"])
        for key, code in known.items():  # retired codes get back what they last were
            if key in rows and key not in {c.id for c in codes}:
                _set_fields(rows[key], code)
        write_codes(session, Codebook(
            id=header.codebook_id, name=header.name, version=header.version,
            description=header.description, source=header.source, codes=codes))
    for row in new:
        session.delete(row)
    session.flush()
    session.delete(session.get(CodebookVersionRow, version_id))


def _set_fields(row, code):
    row.name = code["name"]
    for field in ("definition", "inclusion", "exclusion"):
        setattr(row, field, code.get(field) or "")
    for field in ("examples", "keywords", "patterns"):
        setattr(row, field, list(code.get(field) or []))
    row.colour = code.get("colour")


def _companion(session, event):
    """The codebook version record an edit wrote just before its own event."""
    version = session.scalars(select(EventRow).where(
        EventRow.id < event.id, EventRow.coder == event.coder,
        EventRow.action == "import_codebook").order_by(EventRow.id.desc())).first()
    if version is None or not _is_companion(version):
        raise _Conflict("its codebook version is not in the log")
    return version


def _is_companion(event):
    """A codebook version record written as part of an edit or a merge (undone with it)."""
    if event.action != "import_codebook":
        return False
    origin = str((event.detail or {}).get("origin") or "")
    return origin in CODEBOOK_EDITS or origin.startswith("merge ")


def _undone(session):
    """{event id: id of the undo event that reversed it}."""
    undone = {}
    for undo_id, detail in session.execute(select(EventRow.id, EventRow.detail).where(
            EventRow.action == "undo")):
        for event_id in [detail.get("undone"), *detail.get("also", [])]:
            undone[event_id] = undo_id
    return undone


def _coding(session, coding_id):
    row = session.get(CodingRow, int(coding_id)) if coding_id is not None else None
    if row is None:
        raise _Conflict(_since([coding_id], "removed"))
    return row


def _no_memos(session, coding_ids):
    memos = list(session.scalars(select(MemoRow.id).where(
        MemoRow.target_type == "coding", MemoRow.target_id.in_(coding_ids))))
    if memos:
        one = len(memos) == 1
        raise _Conflict(f"{'memo' if one else 'memos'} {', '.join(map(str, memos))} "
                        f"{'was' if one else 'were'} written on it since; remove "
                        f"{'it' if one else 'them'} first")


def _when(value):
    """A time the event log kept as text (json default=str) back to a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class _Names:
    """Document names and code ids for event ids, read once when first needed."""

    def __init__(self, session):
        self.session, self._documents, self._codes = session, None, None
        self._texts = {}

    def document(self, document_id):
        if self._documents is None:
            self._documents = dict(self.session.execute(
                select(DocumentRow.id, DocumentRow.name)).all()) if self.session else {}
        return self._documents.get(document_id, f"document {document_id}")

    def passage(self, document, start, end, shown=60):
        """The words at [start, end) of a document (by id or name), quoted and cut to
        `shown` characters; 'characters 833-2271' when its text is not at hand."""
        if self.session is not None and start is not None and end is not None:
            column = DocumentRow.id if isinstance(document, int) else DocumentRow.name
            if document not in self._texts:
                self._texts[document] = self.session.scalar(
                    select(DocumentRow.text).where(column == document))
            text = self._texts[document]
            if text is not None:
                words = " ".join(text[start:end].split())
                return "\u201c" + (words if len(words) <= shown else
                                    words[:shown - 1].rstrip() + "\u2026") + "\u201d"
        return f"characters {start}-{end}"

    def code(self, code_id):
        if self._codes is None:
            self._codes = dict(self.session.execute(
                select(CodeRow.id, CodeRow.key)).all()) if self.session else {}
        return self._codes.get(code_id, f"code {code_id}")


def _target(detail, names):
    kind, target = detail.get("target_type"), detail.get("target_id")
    if kind == "project" or target is None:
        return "the project"
    if kind == "document":
        return names.document(target)
    if kind == "code":
        return f"code {names.code(target)}"
    return f"{kind} {target}"


def _plural(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _ids(ids, shown=5):
    text = ", ".join(map(str, ids[:shown]))
    return text + (f", ... ({len(ids) - shown} more)" if len(ids) > shown else "")


def _since(ids, how):
    """'coding 5 was removed since', 'codings 5, 6 were changed since'."""
    if len(ids) == 1:
        return f"coding {ids[0]} was {how} since"
    return f"codings {_ids(sorted(ids))} were {how} since"
