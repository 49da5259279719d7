"""Review queue: confirm, reject, recode or reshape suggestions; every click is stored at once.
The queue can be limited to a code group and a document group."""

import streamlit as st

from ..project.suggestions import ORDERS
from . import state
from .pages_themes import group_filter
from .render import code_colours, highlight

PAGE_SIZE = 10
RETRAIN_EVERY = 25  # decisions between automatic retraining, when switched on


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
    names = {code.id: code.name for code in codebook.codes}
    left, middle, right = st.columns([2, 2, 3])
    order = left.radio("Order", ORDERS, key="review_order", horizontal=True,
                       help="uncertainty: scores nearest 0.5 first, so each decision teaches "
                            "the model most")
    code_filter = middle.selectbox("Code", ["(all codes)", *names], key="review_code",
                                   format_func=lambda c: names.get(c, c))
    with right:
        _retrain_controls(proj)
    _bulk_accept(proj, names)
    codes, documents = group_filter(proj, label, version, "review")
    code = None if code_filter == "(all codes)" else code_filter
    if codes is None and documents is None:
        queue, length = state.pending(proj, label, version, order, code, PAGE_SIZE)
    else:
        queue, length = _pending_in(proj, label, version, order, code, PAGE_SIZE,
                                    _frozen(codes), _frozen(documents))
    if queue.empty:
        st.success("Nothing waiting for review.")
        return
    st.caption(f"Showing {len(queue)} of {length:,}")
    colours = code_colours(codebook)
    for item in queue.itertuples(index=False):
        _suggestion_card(proj, item, names, colours, version)


@st.cache_data(show_spinner=False, max_entries=8)
def _pending_in(_proj, label, data_version, order, code, limit, codes, documents):
    """The head of the review queue within a code group and a document group, and its
    length (as state.pending)."""
    return (_proj.pending(order=order, code=code, limit=limit, codes=codes,
                          documents=documents),
            _proj.pending_count(code, codes=codes, documents=documents))


def _frozen(members):
    return None if members is None else tuple(sorted(members))


def _suggestion_card(proj, item, names, colours, version):
    coding_id = int(item.coding_id)
    with st.container(border=True, key=f"card-{coding_id}"):
        head, score = st.columns([5, 1])
        head.markdown(f"**{state.plain(names.get(item.code, item.code))}** · "
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
        st.caption(f"{state.plain(item.rationale)} · origin {state.plain(item.origin)}")
        accept, reject, widen, narrow, recode, apply = st.columns([1, 1, 1, 1, 2, 1])
        accept.button("Accept", key=f"accept-{coding_id}", type="primary",
                      on_click=_decide, args=(proj, "accept", coding_id))
        reject.button("Reject", key=f"reject-{coding_id}", on_click=_decide,
                      args=(proj, "reject", coding_id))
        widen.button("Whole turn", key=f"widen-{coding_id}", on_click=_respan,
                     args=(proj, coding_id, "turn"), help="widen the span to the whole turn")
        narrow.button("Sentence", key=f"narrow-{coding_id}", on_click=_respan,
                      args=(proj, coding_id, "sentence"),
                      help="narrow the span to the sentence where it starts")
        others = [c for c in names if c != item.code]
        recode.selectbox("Other code", others, key=f"recode-to-{coding_id}",
                         format_func=lambda c: names.get(c, c), label_visibility="collapsed")
        apply.button("Recode", key=f"recode-{coding_id}", on_click=_recode,
                     args=(proj, coding_id))


def _decide(proj, decision, coding_id):
    state.safely(proj.review, decision, ids=[coding_id])
    _count_decision(proj, 1)


def _respan(proj, coding_id, unit):
    state.safely(proj.respan, coding_id, unit)


def _recode(proj, coding_id):
    state.safely(proj.recode, coding_id, st.session_state[f"recode-to-{coding_id}"])
    _count_decision(proj, 1)


def _bulk_accept(proj, names):
    with st.expander("Accept many at once"):
        code = st.selectbox("Code", list(names), key="bulk_code",
                            format_func=lambda c: names.get(c, c))
        threshold = st.slider("Minimum score", 0.0, 1.0, 0.8, 0.05, key="bulk_min")
        if st.button("Accept all above the score", key="bulk_accept"):
            done = state.safely(proj.review, "accept", code=code, min_score=threshold)
            if done is not None:
                state.flash(f"Accepted {len(done)} suggestions of {names[code]} scoring "
                            f"{threshold:.2f} or more.")
                _count_decision(proj, len(done))
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
        summary, waiting = result
        state.flash(f"Model {summary['version']} trained on {summary['positive_units']} coded "
                    f"units; {waiting:,} suggestions waiting, in a new order.")


def _count_decision(proj, n):
    st.session_state["decisions_since_training"] = \
        st.session_state.get("decisions_since_training", 0) + n
