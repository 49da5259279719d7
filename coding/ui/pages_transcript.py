"""One transcript as speaker turns with coded spans highlighted; code sentences, turns or ranges
of turns, remove codings, and write memos."""

import streamlit as st

from ..records import ACCEPTED, MANUAL, SUGGESTED
from . import state
from .render import code_colours, transcript_table

WHOLE_TURNS = "whole turns"


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
    codebook = state.codebook(proj, label, version)
    turns = state.turns(proj, label, info)
    show_suggestions = st.toggle("Show pending suggestions (dashed)", key="show_suggested")
    statuses = (ACCEPTED, MANUAL, SUGGESTED) if show_suggestions else (ACCEPTED, MANUAL)
    codings = state.visible(proj.codings_frame(statuses=statuses, documents=[document]))
    counted = f"{(codings['status'] != SUGGESTED).sum()} of your codings" if state.blind() \
        else f"{info.codings} codings"
    st.caption(f"Case {state.plain(info.case)} · {info.words:,} words · {info.turns} turns · "
               f"{counted}")
    left, right = st.columns([3, 1])
    with right:
        if codebook is None:
            st.info("Import a codebook to start coding.")
        else:
            _apply_form(proj, info, turns, codebook)
            _remove_form(proj, codings, codebook)
        _memo_form(proj, info, codings)
    with left:
        colours = code_colours(codebook)
        code_names = {c.id: c.name for c in codebook.codes} if codebook else {}
        records = codings[["start", "end", "code", "status"]].to_dict("records")
        st.html(transcript_table(turns.to_dict("records"), records, colours, code_names,
                                 focus=st.session_state.get("focus_turn")))


def _turn_label(turns):
    return {int(t.seq): f"{t.seq} · {t.speaker or '?'}: {t.text[:50]}"
            for t in turns.itertuples()}


def _apply_form(proj, info, turns, codebook):
    st.subheader("Code")
    labels = _turn_label(turns)
    names = {code.id: code.name for code in codebook.walk()}
    st.selectbox("Code", list(names), format_func=lambda c: names[c], key="apply_code")
    first = st.selectbox("From turn", list(labels), format_func=labels.get, key="apply_from")
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
    counted = codings[codings["status"] != "suggested"]
    if counted.empty:
        return
    names = {code.id: code.name for code in codebook.codes}
    labels = {int(r.coding_id): _coding_label(r, names) for r in counted.itertuples()}
    with st.expander("Remove a coding"):
        st.selectbox("Coding", list(labels), format_func=labels.get, key="remove_id")
        st.button("Remove coding", key="remove", on_click=_remove,
                  args=(proj, _shown_codings(counted)))


def _shown_codings(counted):
    """{coding id: (document, code, start, end)} of the codings this run draws."""
    return {int(r.coding_id): (r.document, r.code, int(r.start), int(r.end))
            for r in counted.itertuples()}


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
        state.flash("Memo saved.")


def _memo_form(proj, info, codings):
    document = info.name
    with st.expander("Memo"):
        targets = {"document": f"this document ({document})"}
        counted = codings[codings["status"] != "suggested"]
        targets.update({int(r.coding_id): f"coding #{r.coding_id} ({r.code})"
                        for r in counted.itertuples()})
        st.selectbox("About", list(targets), format_func=targets.get, key="memo_target")
        st.text_area("Memo", key="memo_text")
        st.button("Save memo", key="memo_save", on_click=_save_memo,
                  args=(proj, document, _shown_codings(counted)))
        memos = state.visible(proj.memos())
        about_document = (memos["target_type"] == "document") & (memos["target_id"] == info.id)
        about_codings = (memos["target_type"] == "coding") & \
            memos["target_id"].isin(list(targets)[1:])
        for memo in memos[about_document | about_codings].itertuples():
            where = "document" if memo.target_type == "document" else f"coding #{memo.target_id}"
            st.caption(f"{state.plain(memo.coder)} on {where}")
            st.text(memo.text)
