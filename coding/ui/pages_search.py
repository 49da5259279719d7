"""Search: find words, a phrase, any form of a word (lemma) or a pattern in the transcripts,
limited to documents, speaker roles, case attribute values or a code; the hits in
keyword-in-context rows, each opening its transcript at its turn; code all of them, or those
ticked, as the hit, its sentence or its turn, in one action the sidebar's Undo reverses."""

import json

import streamlit as st

from ..errors import CodingError
from . import state

MODES = {"words": "Words", "phrase": "Phrase", "lemma": "Any form (lemma)",
         "regex": "Regular expression"}
UNITS = {"hit": "the hit", "sentence": "its sentence", "turn": "its turn"}
ANY = "(any)"
HITS_PER_PAGE = 50
CONFIRM_OVER = 100  # coding more hits than this at once asks for a tick first


def search_page(proj):
    label, version = proj.store.label, state.version(proj)
    st.title("Search")
    query = _form(proj, label, version)
    if query is None:
        st.caption("Words: any of them, whole words (support* for any ending). Phrase: the "
                   "words in this order. Any form: support finds supported and supports. "
                   "Regular expression: Python's, per turn.")
        return
    if query["mode"] == "lemma":
        with st.spinner("Building the lemma index (once: later searches use it)..."):
            built = proj.index_lemmas()
        if built:
            st.info(f"Built the lemma index of {built} documents; later searches use it.")
    try:
        hits = _search(proj, label, version, json.dumps(query, sort_keys=True))
    except CodingError as exc:
        st.error(state.message(exc))
        return
    hits.attrs["search"] = {"pattern": query["pattern"], "mode": query["mode"]}
    documents = hits["document"].nunique()
    st.subheader(f"{len(hits):,} hits in {documents:,} documents")
    if hits.empty:
        return
    codebook = state.codebook(proj, label, version)
    if codebook is not None:
        _code_form(proj, hits, codebook)
    _hit_list(hits)


def _form(proj, label, version):
    """The search form; returns the query last searched (a dict), or None before the first."""
    documents = [d.name for d in state.documents(proj, label, version)]
    cases = state.cases(proj, label, version)
    attributes = [c for c in cases.columns if c not in ("case", "documents")]
    codebook = state.codebook(proj, label, version)
    codes = {code.id: code.name for code in codebook.walk()} if codebook else {}
    with st.form("search-form"):
        pattern = st.text_input("Find", key="search_pattern",
                                placeholder="support*, peer support, ^I think")
        mode = st.radio("Match", list(MODES), format_func=MODES.get, horizontal=True,
                        key="search_mode")
        left, middle, right = st.columns(3)
        chosen = left.multiselect("Documents (none: all)", documents, key="search_documents")
        roles = middle.multiselect("Speaker roles (none: all)", _roles(proj, label, version),
                                   key="search_roles")
        if state.blind():  # which passages others coded is theirs to show
            code = ANY
            right.caption("The code filter is off in blind coding.")
        else:
            code = right.selectbox("In passages coded", [ANY, *codes], key="search_in_code",
                                   format_func=lambda c: codes.get(c, c))
        left, right = st.columns(2)
        attribute = left.selectbox("Case attribute", [ANY, *attributes],
                                   key="search_attribute")
        values = sorted({str(v) for v in cases[attribute].dropna()}) if attribute != ANY else []
        wanted = right.multiselect("Values (pick the attribute, then search)", values,
                                   key="search_values")
        sensitive = st.checkbox("Match case (words, phrase, regular expression)",
                                key="search_case")
        if st.form_submit_button("Search", type="primary", key="search_go"):
            st.session_state["search_query"] = {
                "pattern": pattern, "mode": mode, "documents": chosen, "roles": roles,
                "in_code": None if code == ANY else code,
                "attributes": {attribute: wanted} if attribute != ANY and wanted else {},
                "case_sensitive": sensitive}
            st.session_state["search_run"] = st.session_state.get("search_run", 0) + 1
            st.session_state["search_picked"] = set()
            st.session_state["search_page"] = 1
    return st.session_state.get("search_query")


@st.cache_data(show_spinner=False, max_entries=8)
def _roles(_proj, label, data_version):
    return sorted(_proj.summary()["turns_by_role"])


@st.cache_data(show_spinner=False, max_entries=8)
def _search(_proj, label, data_version, query):
    """Project.search for a query (JSON), cached until the project changes."""
    q = json.loads(query)
    return _proj.search(q["pattern"], mode=q["mode"], documents=q["documents"] or None,
                        roles=q["roles"] or None, attributes=q["attributes"] or None,
                        in_code=q["in_code"], case_sensitive=q["case_sensitive"], warn=None)


def _code_form(proj, hits, codebook):
    names = {code.id: code.name for code in codebook.walk()}
    picked = sorted(st.session_state.get("search_picked", set()))
    with st.container(border=True):
        left, middle = st.columns(2)
        code = left.selectbox("Code with", list(names), key="search_code",
                              format_func=names.get)
        unit = middle.radio("Code", list(UNITS), format_func=UNITS.get, horizontal=True,
                            key="search_unit")
        sure = True
        if len(hits) > CONFIRM_OVER:
            sure = st.checkbox(f"Yes, code all {len(hits):,} hits", key="search_confirm")
        left, middle, right = st.columns(3)
        left.button(f"Code all {len(hits):,} hits", key="search_code_all", type="primary",
                    disabled=not sure, on_click=_code, args=(proj, hits, names))
        middle.button(f"Code the {len(picked)} ticked", key="search_code_picked",
                      disabled=not picked, on_click=_code, args=(proj, hits.iloc[picked], names))
        right.button("Untick all", key="search_untick", disabled=not picked, on_click=_untick)


def _code(proj, hits, names):
    """Code the hits this run showed, with the code and unit chosen now (read from the session
    state: a callback's arguments are those of the run that drew the button)."""
    code, unit = st.session_state["search_code"], st.session_state["search_unit"]
    done = state.safely(proj.code_hits, hits, code, unit)
    if done is not None:
        what = unit if done.added == 1 else f"{unit}s"
        state.flash(f"Coded {done.added} {what} with {names[code]}"
                    + (f" ({done.skipped} {'was' if done.skipped == 1 else 'were'} coded so "
                       "already)" if done.skipped else "")
                    + ". Undo in the sidebar reverses it.")
        _untick()


def _hit_list(hits):
    run = st.session_state.get("search_run", 0)
    pages = max(1, -(-len(hits) // HITS_PER_PAGE))
    page = st.number_input("Page", 1, pages, key="search_page") if pages > 1 else 1
    first = (page - 1) * HITS_PER_PAGE
    picked = st.session_state.setdefault("search_picked", set())
    for index, row in enumerate(hits.iloc[first:first + HITS_PER_PAGE].itertuples(),
                                start=first):
        tick, text, where, button = st.columns([0.5, 8, 3, 1.2], vertical_alignment="center")
        tick.checkbox("tick", key=f"pick-{run}-{index}", value=index in picked,
                      label_visibility="collapsed", on_change=_tick, args=(run, index))
        text.markdown(_in_context(row.left, row.hit, row.right))
        where.caption(state.plain(f"{row.document} · turn {row.turn} · "
                                  f"{row.speaker or '?'}"))
        button.button("Open", key=f"open-hit-{run}-{index}", on_click=state.go_to,
                      args=("Transcript",), kwargs={"doc": row.document,
                                                    "focus_turn": int(row.turn)},
                      help="Open the transcript at this turn")


def _untick():
    """No hit ticked: the set, and the tick boxes drawn for it (a callback may clear them)."""
    st.session_state["search_picked"] = set()
    for key in [key for key in st.session_state if str(key).startswith("pick-")]:
        del st.session_state[key]


def _tick(run, index):
    picked = st.session_state.setdefault("search_picked", set())
    if st.session_state.get(f"pick-{run}-{index}"):
        picked.add(index)
    else:
        picked.discard(index)


def _in_context(left, hit, right):
    """The hit in bold between its contexts, all of it shown as the characters it is."""
    core = hit.strip()
    lead, trail = hit[:len(hit) - len(hit.lstrip())], hit[len(hit.rstrip()):]
    shown = f"**{state.plain(core)}**" if core else state.plain(hit)
    return f"{state.plain(left + lead)}{shown}{state.plain(trail + right)}"
