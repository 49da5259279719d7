"""Review queue: confirm, reject, recode or reshape suggestions; every click is stored at once.
The queue can be limited to a code, a code group and a document group. One suggestion at a
time is the current one, which the keys act on (shown on the page): A accept, X reject,
N next, P previous, U undo."""

import streamlit as st

from ..project.suggestions import ORDERS, origin_in_words
from . import state
from .llm_panel import llm_panel, provenance
from .pages_themes import group_filter, memos_by_coding, show_memos
from .quality import quality_panel
from .render import code_colours, highlight

PAGE_SIZE = 10
RETRAIN_EVERY = 25  # decisions between automatic retraining, when switched on
SAMPLES = 5  # suggestions shown before "accept many" is confirmed
# Streamlit keeps C and R for itself; these work wherever the cursor is not in a text box.
KEYS = {"accept": "A", "reject": "X", "next": "N", "previous": "P", "undo": "U"}
ALL_CODES = "(all codes)"


def review_page(proj):
    label, version = proj.store.label, state.version(proj)
    st.title("Review suggestions")
    counts = state.status_counts(proj, label, version)
    waiting = counts.get("suggested", 0)
    decided = counts.get("accepted", 0) + counts.get("rejected", 0)
    total = waiting + decided
    st.progress(decided / total if total else 1.0,
                text=f"{decided:,} of {total:,} suggestions reviewed · {waiting:,} waiting")
    codebook = state.codebook(proj, label, version)
    if codebook is None:
        st.info("Import a codebook first (Codebook page or `coding codebook import`).")
        return
    llm_panel(proj, key="review_llm")
    names = {code.id: code.name for code in codebook.codes}
    left, middle, right = st.columns([2, 2, 3])
    order = left.radio("Order", ORDERS, key="review_order", horizontal=True,
                       help="uncertainty: scores nearest 0.5 first, so each decision teaches "
                            "the model most")
    code_filter = middle.selectbox("Code", [ALL_CODES, *names], key="review_code",
                                   format_func=lambda c: names.get(c, c))
    with right:
        _retrain_controls(proj)
    codes, documents = group_filter(proj, label, version, "review")
    code = None if code_filter == ALL_CODES else code_filter
    scope = (code, _frozen(codes), _frozen(documents))
    _bulk_accept(proj, names, scope, label, version)
    quality_panel(proj, names, label, version)
    length = _pending(proj, label, version, order, *scope, 1)[1]
    if not length:
        st.success("Nothing waiting for review.")
        return
    if st.session_state.get("review_scope") != (order, scope):  # another queue: its first
        st.session_state["review_scope"], st.session_state["review_position"] = (order, scope), 0
    position = min(st.session_state.get("review_position", 0), length - 1)
    st.session_state["review_position"] = position
    first = position // PAGE_SIZE * PAGE_SIZE
    queue = _with_precision(proj, label, version, order, scope, first + PAGE_SIZE).iloc[first:]
    st.caption(f"Suggestion {position + 1:,} of {length:,} · keys: **{KEYS['accept']}** "
               f"accept · **{KEYS['reject']}** reject · **{KEYS['next']}** next · "
               f"**{KEYS['previous']}** previous · **{KEYS['undo']}** undo (when the cursor is "
               "not in a text box)")
    colours = code_colours(codebook)
    models, memos = _models(proj, label, version), memos_by_coding(proj, label, version)
    for offset, item in enumerate(queue.itertuples(index=False)):
        _suggestion_card(proj, item, names, colours, version, models,
                         current=first + offset == position, length=length,
                         memos=memos.get(int(item.coding_id), []))


@st.cache_data(show_spinner=False, max_entries=8)
def _pending(_proj, label, data_version, order, code, codes, documents, limit, min_score=None):
    """The head of the review queue (one code or all, within a code group and a document
    group, scoring at least min_score) and its length."""
    return (_proj.pending(order=order, code=code, limit=limit, codes=codes,
                          documents=documents, min_score=min_score),
            _proj.pending_count(code, codes=codes, documents=documents, min_score=min_score))


@st.cache_data(show_spinner=False, max_entries=8)
def _with_precision(_proj, label, data_version, order, scope, limit):
    """The queue's head with the validation gate's precision beside each suggestion."""
    return _proj.with_precision(_pending(_proj, label, data_version, order, *scope, limit)[0])


@st.cache_data(show_spinner=False, max_entries=4)
def _models(_proj, label, data_version):
    return _proj.models()


@st.cache_data(show_spinner=False, max_entries=4)
def _llm_runs(_proj, label, data_version):
    return _proj.llm_runs()


def _frozen(members):
    return None if members is None else tuple(sorted(members))


def _suggestion_card(proj, item, names, colours, version, models, current, length, memos):
    coding_id = int(item.coding_id)
    with st.container(border=True, key=f"card-{coding_id}"):
        head, score = st.columns([5, 1])
        head.markdown(("▶ " if current else "") +
                      f"**{state.plain(names.get(item.code, item.code))}** · "
                      f"{state.plain(item.document)} · turn {item.turn} · "
                      f"{state.plain(item.speaker or '')} ({state.plain(item.case or '')})")
        score.metric("score", f"{item.score:.2f}", label_visibility="collapsed")
        turns = state.turns(proj, proj.store.label, item.document, version)
        turn = turns[turns["seq"] == item.turn]
        if not turn.empty:
            row = turn.iloc[0]
            marked = highlight(row["text"], int(row["start"]),
                               [(item.start, item.end, item.code, False)], colours)
            st.html(f'<div class="turn" style="line-height:1.5">{marked}</div>')
        source, details = st.columns([5, 1])
        runs = _llm_runs(proj, proj.store.label, version) if "llm:" in item.origin else None
        said = origin_in_words(item.origin, models, runs, item.created_at)
        source.caption(state.plain(f"Suggested by {said}. Precision so far at this score: "
                                   f"{item.precision_said} (from reviewed suggestions of this "
                                   "code and suggester; the model's own score is not trusted "
                                   "for that)."))
        with details.popover("Details", key=f"details-{coding_id}"):
            st.text(f"{item.rationale}\nscore {item.score:.4f}\norigin {item.origin}\n"
                    f"suggestion {coding_id}, characters {item.start}-{item.end}" +
                    ("\n" + provenance(runs, item.origin, item.created_at) if runs else ""))
        _card_buttons(proj, coding_id, item.code, names, current, length)
        show_memos(memos)


def _card_buttons(proj, coding_id, code, names, current, length):
    keys = KEYS if current else {}
    accept, reject, widen, narrow, recode, apply = st.columns([1, 1, 1, 1, 2, 1])
    accept.button("Accept", key=f"accept-{coding_id}", type="primary",
                  on_click=_decide, args=(proj, "accept", coding_id),
                  shortcut=keys.get("accept"))
    reject.button("Reject", key=f"reject-{coding_id}", on_click=_decide,
                  args=(proj, "reject", coding_id), shortcut=keys.get("reject"))
    widen.button("Whole turn", key=f"widen-{coding_id}", on_click=_respan,
                 args=(proj, coding_id, "turn"), help="widen the span to the whole turn")
    narrow.button("Sentence", key=f"narrow-{coding_id}", on_click=_respan,
                  args=(proj, coding_id, "sentence"),
                  help="narrow the span to the sentence where it starts")
    others = [c for c in names if c != code]
    recode.selectbox("Other code", others, key=f"recode-to-{coding_id}", index=None,
                     placeholder="Recode as...", format_func=lambda c: names.get(c, c),
                     label_visibility="collapsed")
    apply.button("Recode", key=f"recode-{coding_id}", on_click=_recode, args=(proj, coding_id),
                 disabled=st.session_state.get(f"recode-to-{coding_id}") is None)
    if current:
        back, forward, undo, _ = st.columns([1, 1, 1, 4])
        back.button("Previous", key="review_previous", on_click=_move, args=(-1, length),
                    shortcut=KEYS["previous"])
        forward.button("Next", key="review_next", on_click=_move, args=(1, length),
                       shortcut=KEYS["next"])
        undo.button("Undo", key="review_undo", on_click=_undo, args=(proj,),
                    shortcut=KEYS["undo"], help="Reverse your newest change")


def _move(step, length):
    position = st.session_state.get("review_position", 0) + step
    st.session_state["review_position"] = max(0, min(position, length - 1))


def _undo(proj):
    done = state.safely(proj.undo)
    if done:
        state.flash(f"Undone: {done[0][2]}")


def _decide(proj, decision, coding_id):
    state.safely(proj.review, decision, ids=[coding_id])
    _count_decision(proj, 1)


def _respan(proj, coding_id, unit):
    state.safely(proj.respan, coding_id, unit)


def _recode(proj, coding_id):
    code = st.session_state.get(f"recode-to-{coding_id}")
    if code is None:
        return
    state.safely(proj.recode, coding_id, code)
    _count_decision(proj, 1)


def _bulk_accept(proj, names, scope, label, version):
    """Accept every suggestion of the page's code and groups scoring at least a minimum:
    the count and five of them are shown first, and nothing is stored before the coder
    confirms exactly those."""
    code, codes, documents = scope
    which = f"of {names.get(code, code)}" if code else "of every code"
    if codes is not None or documents is not None:
        which += " in the groups chosen"
    with st.expander("Accept many at once"):
        threshold = st.slider(f"Minimum score, for the suggestions {which}", 0.0, 1.0, 0.8,
                              0.05, key="bulk_min")
        plan = (scope, threshold)
        if st.button("Show what would be accepted", key="bulk_preview"):
            st.session_state["bulk_plan"] = plan
        if st.session_state.get("bulk_plan") != plan:
            return
        samples, count = _pending(proj, label, version, "score", *scope, SAMPLES, threshold)
        if not count:
            st.info(f"No suggestions {which} score {threshold:.2f} or more.")
            return
        everything = _pending(proj, label, version, "score", *scope, None, threshold)[0]
        gates = {c: proj.gate(c, threshold) for c in sorted(set(everything["code"]))}
        shown = [c for c, g in gates.items() if g.passes]
        if len(gates) == 1:  # the validation gate, in words
            gate, = gates.values()
            (st.success if gate.passes else st.error)(state.plain(gate.explain()))
        else:
            (st.success if len(shown) == len(gates) else st.warning)(
                f"{len(shown)} of {len(gates)} codes pass the validation gate at this score.")
            st.dataframe({"code": [names.get(c, c) for c in gates],
                          "reviewed": [g.reviewed for g in gates.values()],
                          "at least (95 %)": [round(g.lower, 2) for g in gates.values()],
                          "waiting": [g.pending for g in gates.values()],
                          "why": [g.explain() for g in gates.values()]},
                         hide_index=True, width="stretch")
        override = st.checkbox("Accept them even where the gate says they are not shown to "
                               "be reliable", key="bulk_override")
        chosen = everything if override else everything[everything["code"].isin(shown)]
        count = len(chosen)
        if not count:
            st.info("No code passes the gate at this score: review more suggestions one by "
                    "one, raise the minimum score, or tick the box above.")
            return
        samples = chosen.head(SAMPLES)
        st.warning(f"Accept {count:,} suggestions {which} scoring {threshold:.2f} or more? "
                   f"{'These are' if count <= SAMPLES else f'{SAMPLES} of them, the highest'}"
                   " scoring:")
        for item in samples.itertuples(index=False):
            st.text(f"{names.get(item.code, item.code)} · {item.document} · "
                    f"{item.score:.2f}\n{' '.join(str(item.quote).split())}")
        confirm, cancel = st.columns(2)
        if confirm.button(f"Accept {count:,}", key="bulk_accept", type="primary"):
            ids = chosen["coding_id"].tolist()
            done = state.safely(proj.review, "accept", ids=ids)
            st.session_state.pop("bulk_plan", None)
            if done is not None:
                state.flash(f"Accepted {len(done):,} suggestions {which} scoring "
                            f"{threshold:.2f} or more.")
                _count_decision(proj, len(done))
            st.rerun()
        if cancel.button("Cancel", key="bulk_cancel"):
            st.session_state.pop("bulk_plan", None)
            st.rerun()


def _retrain_controls(proj):
    auto = st.checkbox(f"Retrain after every {RETRAIN_EVERY} decisions", value=True,
                       key="auto_retrain")
    due = auto and st.session_state.get("decisions_since_training", 0) >= RETRAIN_EVERY
    if st.button("Retrain now and refresh the queue", key="retrain") or due:
        _retrain(proj)
        st.rerun()  # redraw the progress and the queue from the refreshed suggestions


def _retrain(proj):
    with st.spinner("Retraining on your decisions and re-scoring the queue..."):
        result = state.safely(proj.refresh_suggestions, warn=lambda message: None)
    st.session_state["decisions_since_training"] = 0
    if result is not None:
        state.flash(result.summary())


def _count_decision(proj, n):
    st.session_state["decisions_since_training"] = \
        st.session_state.get("decisions_since_training", 0) + n
