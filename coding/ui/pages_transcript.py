"""One transcript as a coding workbench (issue 16): select words to code them, act on codings
and pending suggestions where they are, filter the turns and move between coded passages, with
the code panel kept in view. "Code by turn" keeps the selectbox form for coding from the
keyboard; memos are written, edited and deleted in the panel."""

import streamlit as st

from ..project.selection import code_id_for
from ..records import ACCEPTED, MANUAL, SUGGESTED
from . import state
from .llm_panel import llm_panel
from .render import code_colours
from .workbench import document_offset, safe_colour, show, workbench_data

WHOLE_TURNS = "whole turns"
ACTIONS = ("remove", "accept", "reject", "recode", "memo")  # on a coding, from the workbench
NOT_DONE = "Nothing was changed: see the message at the top of the page."
EVERY_CODE = ""
# The code panel (the right-hand column) stays in view while the transcript scrolls.
PANEL_CSS = """<style>
[data-testid="stColumn"]:has(.st-key-code_panel) {
  position: sticky; top: 3.75rem; align-self: flex-start;
  max-height: calc(100vh - 4.5rem); overflow-y: auto;
}
</style>"""


def transcript_page(proj):
    label, version = proj.store.label, state.version(proj)
    documents = state.documents(proj, label, version)
    if not documents:
        st.info("No documents yet: add transcripts on the Documents page.")
        return
    names = [d.name for d in documents]
    if st.session_state.get("doc") not in names:
        st.session_state["doc"] = names[0]
    document = st.selectbox("Transcript", names, key="doc")
    st.query_params["doc"] = document
    info = next(d for d in documents if d.name == document)
    _turn_from_url()
    codebook = state.codebook(proj, label, version)
    turns = state.turns(proj, label, info)
    st.session_state.setdefault("show_suggested", True)
    statuses = (ACCEPTED, MANUAL, SUGGESTED) if st.session_state["show_suggested"] \
        else (ACCEPTED, MANUAL)
    codings = state.visible(state.document_codings(proj, label, version, document, statuses))
    counted = f"{(codings['status'] != SUGGESTED).sum()} of your codings" if state.blind() \
        else f"{info.codings} codings"
    st.caption(f"Case {state.plain(info.case)} · {info.words:,} words · {info.turns} turns · "
               f"{counted}")
    _fully_coded(proj, document, label, version)
    st.html(PANEL_CSS)
    left, right = st.columns([4, 1])
    with right, st.container(key="code_panel"):
        shown_turns = _filters(turns, codings, codebook)
        if codebook is None:
            st.info("Import a codebook to start coding.")
        else:
            with st.expander("Code by turn (keyboard)"):
                _apply_form(proj, info, turns, codebook)
            _remove_form(proj, codings, codebook)
            llm_panel(proj, info.name)
        _memo_panel(proj, info, codings)
    with left:
        _workbench(proj, info, turns, shown_turns, codings, codebook)


def _fully_coded(proj, document, label, version):
    """A coder's mark that they coded this transcript completely: there every passage they
    did not code is a known miss, which lets the validation gate measure recall."""
    marks = _marks(proj, label, version)
    done = (document, proj.coder) in marks
    key = f"fully_coded-{document}"
    ticked = st.checkbox("I have coded this transcript completely", value=done, key=key,
                         help="Documents marked so measure what suggestions miss (recall "
                              "and kappa in `coding evaluate --fully-coded`).")
    if ticked != done and state.safely(proj.mark_fully_coded, document, ticked) is not None:
        st.toast("Marked as coded completely." if ticked else "Mark taken back.")
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=4)
def _marks(_proj, label, data_version):
    return {(row.document, row.coder) for row in _proj.fully_coded().itertuples()}


def _turn_from_url():
    """`?turn=N` in the address (a link to a passage) brings turn N into view, once."""
    if st.session_state.get("_turn_read"):
        return
    st.session_state["_turn_read"] = True
    try:
        st.session_state["focus_turn"] = int(st.query_params["turn"])
    except (KeyError, ValueError):
        pass


# -- the workbench ------------------------------------------------------------------------------
def _filters(turns, codings, codebook):
    """The filter widgets; returns the turns to show."""
    names = {code.id: code.name for code in codebook.walk()} if codebook else {}
    st.toggle("Show pending suggestions", key="show_suggested")
    st.toggle("Snap selections to whole words", key="snap_words",
              help="A selection that starts or ends inside a word takes in the whole word.")
    code = st.selectbox("Only turns coded", [EVERY_CODE, *names], key="filter_code",
                        format_func=lambda c: names.get(c, c) if c else "(any code or none)")
    speakers = sorted({s for s in turns["speaker"].fillna("") if s})
    chosen = st.multiselect("Only speakers", speakers, key="filter_speakers")
    shown = turns
    if chosen:
        shown = shown[shown["speaker"].isin(chosen)]
    if code:
        spans = codings.loc[codings["code"] == code, ["start", "end"]].to_numpy()
        shown = shown[[bool(((spans[:, 0] < end) & (spans[:, 1] > start)).any())
                       for start, end in zip(shown["start"], shown["end"])]] \
            if len(spans) else shown.iloc[0:0]
    if len(shown) < len(turns):
        st.caption(f"Showing {len(shown)} of {len(turns)} turns.")
    return shown


def _workbench(proj, info, turns, shown_turns, codings, codebook):
    colours = code_colours(codebook)
    codes = [(code.id, code.name, safe_colour(colours.get(code.id)))
             for code in codebook.walk()] if codebook else []
    label, version = proj.store.label, state.version(proj)
    recent = [*st.session_state.get("recent_codes", []),
              *state.recent_codes(proj, label, version, state.coder())]
    known = {code_id for code_id, _, _ in codes}
    memos = state.visible(state.memos(proj, label, version))
    on_codings = memos[(memos["target_type"] == "coding") &
                       memos["target_id"].isin(set(codings["coding_id"]))]
    focus = st.session_state.get("focus_turn")
    data = workbench_data(
        info.name, info.sha256, shown_turns.to_dict("records"),
        codings[["coding_id", "start", "end", "code", "coder", "status", "score"]]
        .to_dict("records"),
        codes, memos=on_codings[["target_id", "coder", "text"]].itertuples(index=False),
        recent=list(dict.fromkeys(c for c in recent if c in known))[:8],
        focus=None if focus is None else [int(focus), f"{info.name}:{focus}"],
        notice=st.session_state.get("workbench_notice"), can_add=codebook is not None,
        step_code=st.session_state.get("filter_code") or None,
        empty="No turn matches the filters." if len(turns) else "This transcript has no "
                                                                 "turns.")
    context = dict(info=info, seqs=None if len(shown_turns) == len(turns)
                   else [int(s) for s in shown_turns["seq"]],
                   turns={int(t.seq): (int(t.start), t.text) for t in turns.itertuples()},
                   shown=_shown_codings(codings), statuses=dict(zip(codings["coding_id"],
                                                                    codings["status"])),
                   names={code_id: name for code_id, name, _ in codes})
    show(data, lambda payload: _act(proj, context, payload))


def _act(proj, context, payload):
    """What the coder did in the workbench, done through the API (a callback: runs before the
    next run draws the page)."""
    kind, names = payload.get("kind"), context["names"]
    if kind == "code":
        _code(proj, context, payload)
        return
    try:
        coding_id = int(payload.get("id"))
    except (TypeError, ValueError):
        coding_id = None
    if coding_id not in context["shown"] or kind not in ACTIONS:
        _notice("Nothing was changed: that coding is not on the page any more.", "error")
        return
    if not _still_shown(proj, coding_id, context["shown"]):  # says why at the top
        _notice(NOT_DONE, "error", flash=False)
        return
    name = names.get(context["shown"][coding_id][1], context["shown"][coding_id][1])
    if kind == "remove":
        done = state.safely(proj.remove_coding, coding_id)
        said = f"Removed the {name} coding."
    elif kind in ("accept", "reject"):
        done = state.safely(proj.review, kind, ids=[coding_id])
        said = f"{kind.capitalize()}ed the {name} suggestion."
    elif kind == "recode":
        code = payload.get("code")
        recode = proj.recode if context["statuses"].get(coding_id) == SUGGESTED \
            else proj.change_code
        done = state.safely(recode, coding_id, code)
        said = f"Recoded {name} as {names.get(code, code)}."
    else:
        done = state.safely(proj.add_memo, str(payload.get("text", "")), "coding", coding_id)
        said = "Memo saved."
    if done is None:
        _notice(NOT_DONE, "error", flash=False)
    else:
        _notice(said)


def _code(proj, context, payload):
    info, turns = context["info"], context["turns"]
    try:
        (first, a16), (last, b16) = payload["start"], payload["end"]
        start = document_offset(*turns[int(first)], a16)
        end = document_offset(*turns[int(last)], b16)
    except (KeyError, TypeError, ValueError):
        _notice("The selection does not match the transcript shown; select the words again.",
                "error")
        return
    if not payload.get("code") and not payload.get("name"):
        _notice("Pick a code for the selected words.", "error")
        return
    code = payload.get("code")
    if payload.get("name"):
        name = " ".join(str(payload["name"]).split())[:120]
        codebook = proj.codebook_or_none()
        taken = {c.id for c in codebook.codes} if codebook else set()
        added = state.safely(proj.add_code, code_id_for(name, taken), name)
        if added is None:
            _notice(NOT_DONE, "error", flash=False)
            return
        code, context["names"][added.id] = added.id, added.name
    ids = state.safely(proj.code_selection, info.name, start, end, code,
                       snap=bool(st.session_state.get("snap_words")), turns=context["seqs"],
                       expected_sha256=info.sha256)
    if ids is None:
        _notice(NOT_DONE, "error", flash=False)
        return
    name = context["names"].get(code, code)
    recent = st.session_state.setdefault("recent_codes", [])
    st.session_state["recent_codes"] = [code, *[c for c in recent if c != code]][:8]
    if ids:
        _notice(f"Coded {len(ids)} passage{'s' if len(ids) > 1 else ''} as {name}.")
    else:
        _notice(f"Already coded as {name}: nothing new stored.")


def _notice(text, kind="success", flash=True):
    """A message in the workbench's toolbar, in view however far the transcript is scrolled
    (a success message at the top of the page would push the text down under the mouse);
    an error shows at the top too, unless it is there already (`flash=False`). Every action
    ends with one, so the toolbar never stays at "Saving…"."""
    if kind == "error" and flash:
        state.flash(text, kind)
    st.session_state["workbench_notice"] = [text, _next_notice(), kind]


def _next_notice():
    count = st.session_state.get("workbench_notices", 0) + 1
    st.session_state["workbench_notices"] = count
    return count


# -- the keyboard form: code turns or a sentence ------------------------------------------------
def _turn_label(turns):
    return {int(t.seq): f"{t.seq} · {t.speaker or '?'}: {t.text[:50]}"
            for t in turns.itertuples()}


def _same_last_turn():
    """A new "From turn" starts a new range: "To turn" follows it (issue 16: it kept an old
    value and coded turns never chosen)."""
    st.session_state["apply_to"] = st.session_state["apply_from"]


def _apply_form(proj, info, turns, codebook):
    labels = _turn_label(turns)
    names = {code.id: code.name for code in codebook.walk()}
    st.selectbox("Code", list(names), format_func=lambda c: names[c], key="apply_code")
    first = st.selectbox("From turn", list(labels), format_func=labels.get, key="apply_from",
                         on_change=_same_last_turn)
    last = st.selectbox("To turn", [s for s in labels if s >= first], format_func=labels.get,
                        key="apply_to")
    if last == first:  # the widgets' values are read by _apply from the session state
        sentences = state.sentences(proj, proj.store.label, info.name, info.id, info.sha256,
                                    first)
        options = [WHOLE_TURNS, *range(len(sentences))]
        st.selectbox("Part", options, key="apply_part",
                     format_func=lambda o: o if o == WHOLE_TURNS else
                     f"sentence {o + 1}: {sentences[o][2][:60]}")
    # A callback, so the click codes what this run drew (the document's content and the
    # turns the choices were made on), whatever the next run finds stored (issue 13, item 4).
    st.button("Apply code", key="apply", type="primary", on_click=_apply,
              args=(proj, info, turns, names))


def _apply(proj, info, turns, names):
    """Code the chosen turns or sentence of the document as it was shown: the project refuses
    the coding when the stored text is no longer that (a restored backup, a re-ingested file),
    and a sentence must lie inside its turn."""
    code, first = st.session_state["apply_code"], st.session_state["apply_from"]
    last = st.session_state.get("apply_to", first)
    turn = turns[turns["seq"] == first].iloc[0]
    scope = st.session_state.get("apply_part", WHOLE_TURNS) if last == first else WHOLE_TURNS
    if scope == WHOLE_TURNS:
        start = int(turn["start"])
        end = int(turns.loc[turns["seq"] == last, "end"].iloc[0])
        expected = turn["text"] if last == first else None
    else:
        start, end, expected = state.sentences(proj, proj.store.label, info.name, info.id,
                                               info.sha256, first)[scope]
        if not int(turn["start"]) <= start < end <= int(turn["end"]):
            state.flash(f"sentence {scope + 1} of turn {first} crosses the turn's end; "
                        "code the whole turn instead", "error")
            return
    done = state.safely(proj.add_coding, info.name, code, start, end, status=MANUAL,
                        expected_text=expected, expected_sha256=info.sha256)
    if done is not None:
        state.flash(f"Coded {names[code]} in turn {first}"
                    + (f"-{last}" if last != first else "") + ".")
        st.session_state["focus_turn"] = first


def _coding_label(row, names):
    quote = row.quote.replace("\n", " ")
    return f"#{row.coding_id} {names.get(row.code, row.code)}: {quote[:45]}"


def _remove_form(proj, codings, codebook):
    counted = codings[codings["status"] != SUGGESTED]
    if counted.empty:
        return
    names = {code.id: code.name for code in codebook.codes}
    labels = {int(r.coding_id): _coding_label(r, names) for r in counted.itertuples()}
    with st.expander("Remove a coding"):
        st.selectbox("Coding", list(labels), format_func=labels.get, key="remove_id")
        st.button("Remove coding", key="remove", on_click=_remove,
                  args=(proj, _shown_codings(counted)))


def _shown_codings(codings):
    """{coding id: (document, code, start, end)} of the codings this run draws."""
    return {int(r.coding_id): (r.document, r.code, int(r.start), int(r.end))
            for r in codings.itertuples()}


def _still_shown(proj, coding_id, shown):
    """True when coding `coding_id` is still the coding the page showed under that number (a
    restored backup can hold another coding under it); else an error message, and False."""
    now = proj.codings_frame(statuses=None, ids=[coding_id])
    if not now.empty:
        row = now.iloc[0]
        if (row["document"], row["code"], int(row["start"]), int(row["end"])) == \
                shown.get(coding_id):
            return True
    state.flash(f"coding #{coding_id} is no longer the coding shown (the project changed "
                "meanwhile); nothing was changed: check the transcript and try again", "error")
    return False


def _remove(proj, shown):
    chosen = st.session_state["remove_id"]
    if _still_shown(proj, chosen, shown) and \
            state.safely(proj.remove_coding, chosen) is not None:
        state.flash(f"Removed coding #{chosen}.")


# -- memos ----------------------------------------------------------------------------------------
def _save_memo(proj, document, shown):
    text, target = st.session_state.get("memo_text", ""), st.session_state["memo_target"]
    if not text.strip():
        return
    if target == "document":
        done = state.safely(proj.add_memo, text, "document", document)
    elif _still_shown(proj, target, shown):
        done = state.safely(proj.add_memo, text, "coding", target)
    else:
        return
    if done is not None:
        st.session_state["memo_text"] = ""  # the box clears once the memo is stored
        state.flash("Memo saved.")


def _load_memo(texts):
    st.session_state["memo_edit_text"] = texts.get(st.session_state.get("memo_edit_id"), "")


def _update_memo(proj, texts):
    memo_id, text = st.session_state.get("memo_edit_id"), st.session_state["memo_edit_text"]
    if memo_id is None or not text.strip():
        return
    if text == texts.get(memo_id):
        return
    if state.safely(proj.update_memo, memo_id, text) is not None:
        state.flash("Memo changed.")


def _remove_memo(proj):
    memo_id = st.session_state.get("memo_edit_id")
    if memo_id is not None and state.safely(proj.remove_memo, memo_id) is not None:
        st.session_state.pop("memo_edit_id", None)
        state.flash("Memo deleted.")


def _memo_label(row, names):
    quote = " ".join(str(row.quote).split())
    quote = quote if len(quote) <= 50 else quote[:49] + "…"
    return f"{names.get(row.code, row.code)}: “{quote}”"


def _memo_panel(proj, info, codings):
    """Write a memo on this document or one of its codings (named by its quote), and edit or
    delete your own (issue 16, item 7)."""
    document = info.name
    codebook = state.codebook(proj, proj.store.label, state.version(proj))
    names = {code.id: code.name for code in codebook.codes} if codebook else {}
    counted = codings[codings["status"] != SUGGESTED]
    with st.expander("Memos"):
        targets = {"document": f"this document ({document})"}
        targets.update({int(r.coding_id): _memo_label(r, names) for r in counted.itertuples()})
        st.selectbox("About", list(targets), format_func=targets.get, key="memo_target")
        st.text_area("Memo", key="memo_text")
        st.button("Save memo", key="memo_save", on_click=_save_memo,
                  args=(proj, document, _shown_codings(counted)))
        memos = state.visible(state.memos(proj, proj.store.label, state.version(proj)))
        about_document = (memos["target_type"] == "document") & (memos["target_id"] == info.id)
        about_codings = (memos["target_type"] == "coding") & \
            memos["target_id"].isin(list(targets)[1:])
        here = memos[about_document | about_codings]
        for memo in here.itertuples():
            edited = " · edited" if memo.updated_at is not None and memo.created_at is not None \
                and (memo.updated_at - memo.created_at).total_seconds() > 1 else ""
            when = f" · {memo.created_at:%d %b %Y %H:%M}" if memo.created_at is not None else ""
            st.caption(f"{state.plain(memo.coder)} on {state.plain(memo.about)}{when}{edited}")
            st.text(memo.text)
        mine = here[here["coder"] == state.coder()]
        if mine.empty:
            return
        texts = {int(m.memo_id): m.text for m in mine.itertuples()}
        labels = {int(m.memo_id): f"{m.about}: {' '.join(m.text.split())[:40]}"
                  for m in mine.itertuples()}
        if st.session_state.get("memo_edit_id") not in texts:
            st.session_state["memo_edit_id"] = next(iter(texts))
            st.session_state["memo_edit_text"] = texts[st.session_state["memo_edit_id"]]
        st.selectbox("Edit your memo", list(labels), format_func=labels.get, key="memo_edit_id",
                     on_change=_load_memo, args=(texts,))
        st.text_area("Text", key="memo_edit_text")
        save, delete = st.columns(2)
        save.button("Save changes", key="memo_update", on_click=_update_memo,
                    args=(proj, texts))
        delete.button("Delete memo", key="memo_delete", on_click=_remove_memo, args=(proj,))
