"""Themes: code frequencies, code x case heatmap, code x attribute and co-occurrence matrices,
and the quotes behind any code, case, attribute value or cell; all of them limited to a code
group and a document group when the project has groups (`group_filter`, also used by the
Review page)."""

from collections import Counter

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from ..analysis import matrices as analysis
from ..analysis import words as wording
from . import state
from .render import escape

ALL = "(all)"
QUOTES_PER_PAGE = 20


def themes_page(proj):
    label, version = proj.store.label, state.version(proj)
    st.title("Themes")
    include = st.toggle("Include pending suggestions", key="themes_suggested",
                        help="By default only accepted and manual codings count.")
    frame = state.visible(state.codings(proj, label, version, include))
    if state.blind():
        st.caption(f"Blind coding: only {state.plain(state.coder())}'s codings count.")
    codebook = state.codebook(proj, label, version)
    codes, documents = group_filter(proj, label, version, "themes")
    if codes is not None:
        frame = frame[frame["code"].isin(codes)]
    if documents is not None:
        frame = frame[frame["document"].isin(documents)]
    if frame.empty:
        st.info("No codings to count yet: review suggestions or code a transcript first."
                if codes is None and documents is None else
                "No codings in the groups chosen.")
        return
    names = code_labels(codebook, frame)
    frequencies = analysis.code_frequencies(frame, codebook)
    frequencies["code_name"] = frequencies["code"].map(names)
    st.subheader("Code frequencies")
    st.altair_chart(alt.Chart(frequencies).mark_bar().encode(
        x=alt.X("codings:Q"), y=alt.Y("code_name:N", sort=None, title=None),
        tooltip=["code_name", "codings", "documents", "cases"]), width="stretch")
    by_case, by_attribute, together, words = st.tabs(["Code × case", "Code × attribute",
                                                      "Co-occurrence", "Words"])
    selection = {}
    with by_case:
        selection.update(_code_by_case(proj, frame, codebook, names, label, version,
                                       documents))
    with by_attribute:
        selection.update(_code_by_attribute(frame, codebook, names,
                                            state.cases(proj, label, version)))
    with together:
        _cooccurrence(frame, codebook, names)
    with words:
        _words(proj, codebook, names, label, version)
    _quotes(proj, frame, codebook, names, selection, label, version)


def code_labels(codebook, frame):
    """{code id: the name tables and charts show}: the code's name, with its id added where
    two codes (or a code no longer in the codebook) would show the same name, so rows and
    chart marks never merge and a clicked cell names one code (issue 13, item 19)."""
    names = dict(zip(frame["code"], frame["code_name"].fillna(frame["code"])))
    names.update({code.id: code.name for code in codebook.codes} if codebook else {})
    taken = Counter(names.values())
    labels = {code: f"{name} ({code})" if taken[name] > 1 else name
              for code, name in names.items()}
    if len(set(labels.values())) < len(labels):  # a name that looks like "name (id)"
        labels = {code: f"{name} ({code})" for code, name in names.items()}
    return labels


@st.cache_data(show_spinner=False, max_entries=8)
def _groups(_proj, label, data_version):
    return _proj.groups()


def group_filter(proj, label, version, key):
    """A code group and a document group to limit a page to, chosen above it when the
    project has groups (issue 15, item 6): (code ids or None, document names or None)."""
    groups = _groups(proj, label, version)
    if not groups:
        return None, None
    chosen = []
    for column, kind in zip(st.columns(2), ("code", "document")):
        named = {g.name: g.members for g in groups if g.kind == kind}
        if not named:
            chosen.append(None)
            continue
        name = column.selectbox(f"{kind.title()} group", [ALL, *named], key=f"{key}_{kind}_group",
                                format_func=state.plain)
        chosen.append(None if name == ALL else set(named[name]))
    return tuple(chosen)


def _code_by_case(proj, frame, codebook, names, label, version, documents=None):
    value = st.radio("Cells", analysis.MATRIX_VALUES, horizontal=True, key="case_value",
                     format_func={"count": "codings", "presence": "present (0/1)",
                                  "words": "words coded",
                                  "percent": "% of participant words"}.get)
    cases = state.cases(proj, label, version)
    if documents is not None:  # a document group: its documents' cases only
        owners = {d.case for d in state.documents(proj, label, version) if d.name in documents}
        cases = cases[cases["case"].isin(owners)]
    words = state.case_words(proj, label, tuple((d.id, d.sha256, d.case) for d in
                                                state.documents(proj, label, version))) \
        if value == "percent" else None
    matrix = analysis.code_by_case(frame, value, cases=list(cases["case"]), case_words=words,
                                   codebook=codebook)
    shown = matrix.rename(index=names)
    # built directly rather than by melt, which fails on a case named "code" or "value"
    long = pd.DataFrame({"code": np.repeat([names.get(c, c) for c in matrix.index],
                                           len(matrix.columns)),
                         "case": np.tile([str(c) for c in matrix.columns], len(matrix.index)),
                         "value": matrix.to_numpy().ravel()})
    chart = alt.Chart(long).mark_rect().encode(
        x=alt.X("case:N", sort=None), y=alt.Y("code:N", sort=None, title=None),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues")),
        tooltip=["code", "case", "value"]).add_params(
        alt.selection_point(fields=["code", "case"], name="cell"))
    event = st.altair_chart(chart, width="stretch", on_select="rerun", key="case_heatmap")
    st.dataframe(shown, width="stretch")
    return _picked_cell(event, names)


def _picked_cell(event, names):
    """A clicked heatmap cell, as {code, case}; Altair returns display names."""
    points = ((event or {}).get("selection") or {}).get("cell") or []
    if not points:
        return {}
    by_name = {name: key for key, name in names.items()}
    return {"cell_code": by_name.get(points[0].get("code"), points[0].get("code")),
            "cell_case": points[0].get("case")}


def _code_by_attribute(frame, codebook, names, all_cases):
    fixed = set(analysis_columns(frame))
    attributes = [c for c in frame.columns if c not in fixed]
    if not attributes:
        st.info("The cases have no attributes: import a participants sheet.")
        return {}
    attribute = st.selectbox("Attribute", attributes, key="attribute")
    # every value the cases have, coded or not ("case_role" in the frame is "role" there)
    in_cases = attribute if attribute in all_cases.columns else attribute.removeprefix("case_")
    values = analysis.attribute_values(all_cases, in_cases) \
        if in_cases in all_cases.columns else None
    codings, cases = analysis.code_by_attribute(frame, attribute, codebook, values)
    left, right = st.columns(2)
    left.caption("Codings")
    left.dataframe(codings.rename(index=names), width="stretch")
    right.caption("Cases with the code")
    right.dataframe(cases.rename(index=names), width="stretch")
    return {"attribute": attribute}


def analysis_columns(frame):
    return [c for c in frame.columns if c in (
        "coding_id", "document", "case", "turn", "speaker", "role", "code", "code_name",
        "code_path", "start", "end", "quote", "coder", "status", "origin", "score", "rationale",
        "created_at") or c.startswith("level_")]


def _cooccurrence(frame, codebook, names):
    mode = st.radio("Together when", analysis.COOCCURRENCE_MODES, horizontal=True,
                    key="cooccurrence_mode",
                    format_func={"turn": "in the same turn", "overlap": "spans overlap"}.get)
    matrix = analysis.cooccurrence(frame, mode, codebook)
    st.dataframe(matrix.rename(index=names, columns=names), width="stretch")


def with_children(codebook, code):
    """A code and every code under it, as ids: what "include sub-codes" counts for a parent."""
    if codebook is None or codebook.get(code) is None:
        return {code}
    path = codebook.path(code)
    return {c.id for c in codebook.codes if c.id == code or
            codebook.path(c.id).startswith(path + "/")}


def _quotes(proj, frame, codebook, names, selection, label, version):
    st.subheader("Quotes")
    used = set(frame["code"])
    parents = {c.id for c in codebook.codes if codebook.children(c.id)} if codebook else set()
    codes = [c for c in names if c in used or c in parents]
    cell = (selection.get("cell_code"), selection.get("cell_case"))
    if cell[0] in codes and cell != st.session_state.get("_cell"):  # a newly clicked cell
        st.session_state["_cell"] = cell
        st.session_state["quotes_code"], st.session_state["quotes_case"] = cell
    left, middle, right = st.columns(3)
    code = left.selectbox("Code", [ALL, *codes], key="quotes_code",
                          format_func=lambda c: names.get(c, c))
    case = middle.selectbox("Case", [ALL, *sorted(frame["case"].dropna().unique())],
                            key="quotes_case")
    attribute, value = selection.get("attribute"), ALL
    if attribute:
        values = sorted(set(analysis.value_labels(frame[attribute])))
        value = right.selectbox(state.plain(attribute), [ALL, *values], key="quotes_value")
    children = st.toggle("Include the codings of its sub-codes", value=True,
                         key="quotes_children", disabled=code not in parents,
                         help="A theme's quotes with those of the codes under it.")
    chosen = frame if code == ALL else frame[frame["code"].isin(
        with_children(codebook, code) if children else {code})]
    quotes = analysis.quotes_for(chosen, None, None if case == ALL else case,
                                 attribute if value != ALL else None, value)
    pages = max(1, -(-len(quotes) // QUOTES_PER_PAGE))
    if st.session_state.get("quotes_page", 1) > pages:  # a smaller selection than before
        st.session_state["quotes_page"] = 1
    page = st.columns([1, 4])[0].number_input("Page", 1, pages, key="quotes_page") \
        if pages > 1 else 1
    first = (page - 1) * QUOTES_PER_PAGE
    last = min(first + QUOTES_PER_PAGE, len(quotes))
    st.caption(f"{len(quotes)} quotes" + (f" · {first + 1}–{last} shown, page {page} of "
                                          f"{pages}" if pages > 1 else ""))
    memos = memos_by_coding(proj, label, version)
    for row in quotes.iloc[first:first + QUOTES_PER_PAGE].itertuples():
        with st.container(border=True):
            st.text(row.quote)
            meta, button = st.columns([4, 1])
            meta.caption(state.plain(f"{names.get(row.code, row.code)} · {row.document} · "
                                     f"case {row.case} · {row.speaker or '?'} ({row.role}) · "
                                     f"turn {row.turn}"))
            button.button("Open transcript", key=f"open-{row.coding_id}", on_click=state.go_to,
                          args=("Transcript",), kwargs={"doc": row.document,
                                                        "focus_turn": row.turn})
            show_memos(memos.get(int(row.coding_id), []))


@st.cache_data(show_spinner=False, max_entries=4)
def _memos(_proj, label, data_version):
    return _proj.memos()


def memos_by_coding(proj, label, version):
    """{coding id: [memo rows]} of the memos this session may see."""
    memos = state.visible(_memos(proj, label, version))
    memos = memos[memos["target_type"] == "coding"]
    return {int(target): list(group.itertuples()) for target, group in memos.groupby(
        "target_id")}


def show_memos(memos):
    """Memos under a quote: each with its author and time, then its text (as text)."""
    for memo in memos:
        edited = " (edited)" if memo.updated_at and (pd.Timestamp(memo.updated_at) - pd.Timestamp(
            memo.created_at)).total_seconds() > 0.001 else ""  # older memos: microseconds apart
        st.caption(state.plain(f"Memo by {memo.coder}, {when(memo.created_at)}{edited}"))
        st.text(memo.text)


def when(moment):
    """A stored UTC time as the reader's local day and time: '5 Dec 2026, 14:02'."""
    moment = pd.Timestamp(moment)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    return moment.to_pydatetime().astimezone().strftime("%-d %b %Y, %H:%M")


@st.cache_data(show_spinner="Counting words...", max_entries=8)
def _word_table(_proj, label, data_version, by, codes, top):
    return _proj.words(by=by, codes=None if codes is None else list(codes), top=top)


def _words(proj, codebook, names, label, version):
    """The words each case or attribute value used most (lemmas, no stop words), and a word
    cloud of one group."""
    attributes = [c for c in state.cases(proj, label, version).columns
                  if c not in ("case", "documents")]
    left, middle, right = st.columns(3)
    by = left.selectbox("Compare", ["case", *attributes], key="words_by",
                        format_func=lambda b: "cases" if b == "case" else f"values of {b}")
    code = middle.selectbox("Words of", [ALL, *names], key="words_code",
                            format_func=lambda c: "what participants said" if c == ALL else
                            f"the quotes of {names.get(c, c)}")
    top = right.slider("Words per group", 10, 100, 30, 10, key="words_top")
    codes = None if code == ALL else tuple(sorted(with_children(codebook, code)))
    table = _word_table(proj, label, version, by, codes, top)
    if table.empty:
        st.info("No words to count here yet.")
        return
    st.caption("Lemmas (“supported” counts as “support”), without stop words, numbers or "
               "punctuation; in brackets how often each was said.")
    st.dataframe(wording.side_by_side(table), width="stretch")
    groups = list(dict.fromkeys(table["group"]))
    group = st.selectbox("Word cloud of", groups, key="words_group")
    shown = table[table["group"] == group]
    counts = dict(zip(shown["word"], shown["count"]))
    st.html('<div class="word-cloud" style="line-height:1.6;text-align:center">' + " ".join(
        f'<span style="font-size:{size}em;margin:0 .3em" title="{counts[word]}">'
        f"{escape(word)}</span>" for word, size in wording.cloud_sizes(counts).items())
        + "</div>")
