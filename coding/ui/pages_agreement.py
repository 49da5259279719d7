"""Agreement between coders (people or the suggesters) per code and pooled, with csv/xlsx
downloads; the reliability a methods section reports (issue 18), for the children of a parent
code as one variable or for an uploaded rating table, with the report to download; then the
units where two coders differ on a code, each resolved into a consensus coding with one click.
Closed in blind coding: it shows every coder's work."""

import streamlit as st

from ..analysis.agreement import MACHINE_CODERS, MIN_CODED, MIN_UNITS, UNITS
from ..analysis.reliability import LEVELS, MINIMUMS
from ..errors import CodingError
from ..interchange import agreement_report, exports
from . import state

PAGE_SIZE = 20
RESOLVE_UNITS = ("sentence", "turn")  # one click per character would be no use
DECISIONS = {"keep_a": "Keep A", "keep_b": "Keep B", "both": "Both", "neither": "Neither"}
MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def agreement_page(proj):
    st.title("Agreement")
    if state.blind():
        st.info("Blind coding is on, so agreement and disagreements are hidden: they show the "
                "other coders' work. Switch blind coding off in the sidebar to compare coders.")
        return
    label, version = proj.store.label, state.version(proj)
    codebook = state.codebook(proj, label, version)
    if codebook is None:
        st.info("Import a codebook first (Codebook page or `coding codebook import`).")
        return
    names = {code.id: code.name for code in codebook.walk()}
    people = sorted(set(state.codings(proj, label, version)["coder"].dropna()))
    coders = [c for c in people if c not in MACHINE_CODERS] + list(MACHINE_CODERS)
    _agreement_table(proj, coders, names, label, version)
    st.divider()
    _reliability(proj, coders, codebook, names, label, version)
    st.divider()
    _disagreements(proj, coders, names, label, version)


def _agreement_table(proj, coders, names, label, version):
    left, middle, right = st.columns([3, 1, 3])
    chosen = left.multiselect("Coders", coders, key="agree_coders",
                              help="model and rules are the suggesters: every suggestion they "
                                   "made counts, whatever its review")
    unit = middle.selectbox("Unit", UNITS, key="agree_unit",
                            help="char is exact but slow on a whole project")
    codes = right.multiselect("Codes (every code when empty)", list(names), key="agree_codes",
                              format_func=names.get)
    if len(chosen) < 2:
        st.info("Pick two or more coders to compare.")
        return
    try:
        with st.spinner("Computing agreement..."):
            table = state.agreement(proj, label, version, tuple(chosen), unit, tuple(codes))
    except CodingError as exc:
        st.error(state.message(exc))
        return
    table = table.assign(code_name=table["code"].map(
        lambda c: "All codes (pooled)" if c == "ALL" else names.get(c, c)))
    table = table[["code", "code_name", *[c for c in table.columns
                                          if c not in ("code", "code_name")]]]
    st.caption(f"{state.plain(' · '.join(chosen))} · unit: {unit} · participant turns. "
               "\"all units\" "
               "counts every unit two coders saw; \"coded only\" leaves out units nobody coded.")
    st.dataframe(table, width="stretch", hide_index=True, column_config={
        "code_name": "name", "coded_units": "coded units",
        "agreement": st.column_config.NumberColumn("% agreement", format="percent"),
        "kappa": st.column_config.NumberColumn("Cohen's kappa", format="%.3f"),
        "alpha": st.column_config.NumberColumn("Krippendorff's alpha", format="%.3f")})
    _warnings(table, len(chosen))
    csv, xlsx = st.columns(2)
    for column, fmt in ((csv, "csv"), (xlsx, "xlsx")):
        column.download_button(f"Download agreement.{fmt}",
                               exports.to_bytes({"Agreement": table}, fmt),
                               file_name=f"agreement.{fmt}", mime=MIME[fmt],
                               key=f"agree_{fmt}")


def _warnings(table, n_coders):
    warned = table[table["warning"] != ""]
    if n_coders > 2:
        st.caption("Cohen's kappa is for two coders; with more, read Krippendorff's alpha.")
    if warned.empty:
        return
    lines = [f"- {state.plain(row.code_name)} ({row.variant}): {state.plain(row.warning)}"
             for row in warned.itertuples()]
    shown = lines[:12] + ([f"- and {len(lines) - 12} more"] if len(lines) > 12 else [])
    st.warning(f"{len(warned)} of {len(table)} figures rest on too little data (want at least "
               f"{MIN_UNITS} units and {MIN_CODED} coded by anyone): read them with care.\n\n"
               + "\n".join(shown))


SOURCES = {"parent": "Children of a parent code, as one variable", "table": "A rating table"}


def _reliability(proj, coders, codebook, names, label, version):
    """Every reliability statistic with alpha's bootstrapped interval, a methods paragraph and
    the report, as `coding agreement --categories` and `coding reliability` give them."""
    st.subheader("Reliability for a methods section")
    source = st.radio("Ratings", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key="rel_source")
    left, middle, right = st.columns([2, 1, 1])
    samples = middle.number_input("Bootstrap samples (0: none)", 0, 100_000, 0, step=1000,
                                  key="rel_bootstrap", help="At least 1000, as KALPHA")
    seed = right.number_input("Seed", 0, 2**31 - 1, 1, key="rel_seed",
                              help="The same seed gives the same interval")
    try:
        with st.spinner("Computing reliability..."):
            found = _parent_reliability(proj, coders, codebook, names, label, version, left,
                                        int(samples), int(seed)) if source == "parent" else                 _table_reliability(left, int(samples), int(seed))
    except CodingError as exc:
        st.error(state.message(exc))
        return
    if found is None:
        return
    shown = found.table()
    st.dataframe(shown[["statistic", "value", "ci_low", "ci_high",
                        *[f"p(alpha<{m})" for m in MINIMUMS], "units", "coders", "categories",
                        "warning"]], width="stretch", hide_index=True,
                 column_config={"value": st.column_config.NumberColumn(format="%.3f"),
                                "ci_low": st.column_config.NumberColumn("95% CI low",
                                                                        format="%.3f"),
                                "ci_high": st.column_config.NumberColumn("95% CI high",
                                                                         format="%.3f")})
    for warning in found.warnings:
        st.warning(state.message(warning))
    st.markdown("**Methods paragraph**")
    st.markdown(state.plain(agreement_report.methods_paragraph(found)))
    with st.expander("References"):
        for reference in agreement_report.references(found):
            st.markdown(state.plain(reference))
    for column, fmt in zip(st.columns(4), ("xlsx", "docx", "md", "json")):
        column.download_button(f"Download reliability.{fmt}",
                               agreement_report.report_bytes(found, fmt),
                               file_name=f"reliability.{fmt}", mime=agreement_report.MIME[fmt],
                               key=f"rel_{fmt}")


def _parent_reliability(proj, coders, codebook, names, label, version, column, samples,
                        seed):
    parents = [c.id for c in codebook.walk() if len(codebook.children(c.id)) >= 2]
    if not parents:
        st.info("No code has two or more children to read as one variable.")
        return None
    parent = column.selectbox("Parent code", parents, key="rel_parent",
                              format_func=lambda c: names[c] + (" (ordered)" if codebook.get(
                                  c).ordered else ""))
    chosen = column.multiselect("Coders", coders, key="rel_coders")
    unit = column.selectbox("Unit", [u for u in UNITS if u != "char"], key="rel_unit")
    levels = LEVELS[:3] if codebook.get(parent).ordered else LEVELS[:1]
    level = column.selectbox("Level (alpha)", levels, key="rel_level",
                             help="ordinal and interval need 'ordered: true' on the parent in "
                                  "the codebook (children lowest first)")
    if len(chosen) < 2:
        st.info("Pick two or more coders.")
        return None
    return _category_assessment(proj, label, version, parent, tuple(chosen), unit,
                                level if level in levels else "nominal", samples, seed)


@st.cache_data(show_spinner=False, max_entries=8)
def _category_assessment(_proj, label, data_version, parent, coders, unit, level, samples,
                         seed):
    """Project.category_reliability, cached by the project's data version."""
    return _proj.category_reliability(parent, list(coders), unit, level=level,
                                      bootstrap=samples, seed=seed)


def _table_reliability(column, samples, seed):
    upload = column.file_uploader("Rating table (.csv or .xlsx): the first column names the "
                                  "unit, then one column per coder; an empty cell is missing",
                                  type=["csv", "tsv", "xlsx"], key="rel_upload")
    coders_in = column.selectbox("Coders are in", ["columns", "rows"], key="rel_coders_in")
    level = column.selectbox("Level (alpha)", LEVELS, key="rel_table_level")
    order = column.text_input("Labels in order, lowest first (comma-separated)",
                              key="rel_order", help="For text labels at the ordinal, interval "
                                                    "and ratio levels")
    if upload is None:
        st.info("Upload a rating table.")
        return None
    return agreement_report.assess_upload(upload.name, upload.getvalue(), coders_in=coders_in,
                                          level=level, order=order or None, bootstrap=samples,
                                          seed=seed)


def _disagreements(proj, coders, names, label, version):
    st.subheader("Disagreements")
    a_col, b_col, code_col, unit_col = st.columns([2, 2, 2, 1])
    a = a_col.selectbox("Coder A", coders, key="disagree_a")
    b = b_col.selectbox("Coder B", coders, index=1, key="disagree_b")
    code = code_col.selectbox("Code", list(names), key="disagree_code", format_func=names.get)
    unit = unit_col.selectbox("Unit", RESOLVE_UNITS, key="disagree_unit")
    if a == b:
        st.info("Pick two different coders.")
        return
    try:
        with st.spinner("Finding disagreements..."):
            table = state.disagreements(proj, label, version, (a, b), unit, code)
    except CodingError as exc:
        st.error(state.message(exc))
        return
    st.caption(f"{len(table):,} disagreements left on {state.plain(names[code])} between A "
               f"({state.plain(a)}) and B ({state.plain(b)}); each decision is stored as a "
               "consensus coding.")
    if table.empty:
        st.success("No disagreements left on this code.")
        return
    first = 0
    if len(table) > PAGE_SIZE:
        pages = (len(table) - 1) // PAGE_SIZE + 1
        if st.session_state.get("disagree_page", 1) > pages:  # decisions emptied the last
            st.session_state["disagree_page"] = pages
        page = st.number_input(f"Page (of {pages})", 1, pages, key="disagree_page")
        first = (int(page) - 1) * PAGE_SIZE
    for row in table.iloc[first:first + PAGE_SIZE].itertuples(index=False):
        _unit_card(proj, row, (a, b), code, names, label, version)


def _unit_card(proj, row, coders, code, names, label, version):
    document, start, end = row.document, int(row.start), int(row.end)
    values = dict(zip(coders, row[3:5]))  # document, start, end, then one column per coder
    turns = state.turns(proj, label, document, version)
    turn = turns[(turns["start"] <= start) & (turns["end"] >= end)]
    where = f"turn {turn['seq'].iloc[0]} · {turn['speaker'].iloc[0] or '?'}" \
        if not turn.empty else ""
    text = turn["text"].iloc[0][start - int(turn["start"].iloc[0]):
                                end - int(turn["start"].iloc[0])] if not turn.empty else ""
    key = f"{document}-{start}-{end}"
    with st.container(border=True):
        st.markdown(f"**{state.plain(document)}** · {state.plain(where)} · characters "
                    f"{start}–{end}")
        st.text(text)
        sides = st.columns(2)
        for side, letter, coder in zip(sides, "AB", coders):
            did = "coded" if values[coder] == 1 else "did not code"
            side.markdown(f"**{letter}** · {state.plain(coder)} {did} "
                          f"**{state.plain(names.get(code, code))}**")
        buttons = st.columns(4)
        for column, (decision, caption) in zip(buttons, DECISIONS.items()):
            column.button(caption, key=f"{decision}-{key}", on_click=_resolve,
                          args=(proj, code, document, start, end, decision, coders, values,
                                names.get(code, code), where))


def _resolve(proj, code, document, start, end, decision, coders, values, name, where):
    ids = state.safely(proj.resolve, code, document, start, end, decision, coders)
    if ids is None:
        return
    a, b = coders
    outcome = {
        "keep_a": f"coded {name}, as {a} coded it" if values[a] == 1 else
                  f"not {name}, as {a} left it",
        "keep_b": f"coded {name}, as {b} coded it" if values[b] == 1 else
                  f"not {name}, as {b} left it",
        "both": f"coded {name}, keeping both coders' codings",
        "neither": f"not {name}, keeping neither coding"}[decision]
    state.flash(f"Stored the consensus for {document}, {where or f'characters {start}-{end}'}"
                f": {outcome}.")
