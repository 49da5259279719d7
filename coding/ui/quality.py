"""The Review page's "Suggestion quality" panel: the validation gate per code and suggester
(precision from reviewed suggestions, never from the model's own scores), codes switched off,
and the cross-validated evaluation with its learning curve, as `coding evaluate --curve`."""

import pandas as pd
import streamlit as st

from ..errors import CodingError
from . import state

MACHINES = {"model", "rules", "semantic", "consensus"}


def quality_panel(proj, names, label, version):
    with st.expander("Suggestion quality: the validation gate and the learning curve"):
        low = st.slider("Suggestions scoring at least", 0.0, 1.0, 0.5, 0.05, key="gate_min")
        gate = _validation(proj, label, version, low)
        if gate.empty:
            st.info("No suggestion has been made yet.")
        else:
            shown = pd.DataFrame({
                "code": [names.get(c, c) for c in gate["code"]],
                "suggester": gate["suggester"], "reviewed": gate["reviewed"],
                "accepted": gate["accepted"], "waiting": gate["pending"],
                "precision": [f"{p:.2f}" if n else "-"
                              for p, n in zip(gate["precision"], gate["reviewed"])],
                "at least (95 %)": [f"{p:.2f}" if n else "-"
                                    for p, n in zip(gate["lower_95"], gate["reviewed"])],
                "accept many": ["allowed" if ok else "not yet" for ok in gate["passes"]],
                "better than chance": [("-" if b is None or b != b else "yes" if b else "no")
                                       for b in gate["better_than_chance"]],
                "switched off": ["yes" if off else "" for off in gate["off"]]})
            st.dataframe(shown, hide_index=True, width="stretch")
            st.caption("Accepting a code's suggestions in bulk needs at least 30 reviewed "
                       "suggestions in that score range and a precision of at least 90 % with "
                       "95 % confidence (Wilson interval). 'Better than chance' compares it "
                       "with how often the code is used.")
        _thresholds(proj)
        _switch(proj, names)
        _evaluation(proj, label, version)


def _thresholds(proj):
    """The score thresholds the last training calibrated, per unit, as `coding train` prints."""
    for unit in ("sentence", "turn"):
        found = (proj.calibration(unit) or {}).get("model+semantic")
        if found:
            own = ", ".join(f"{code} {t:.2f}" for code, t in sorted(found["codes"].items()))
            st.caption(state.plain(
                f"Suggestions by {unit} are queued from a score of {found['shared']:.2f}"
                + (f" ({own} have thresholds of their own)" if own else "") +
                ", calibrated on this project's decisions at the last training."))


@st.cache_data(show_spinner=False, max_entries=8)
def _validation(_proj, label, data_version, low):
    return _proj.validation(low)


def _switch(proj, names):
    off = set(proj.suggestions_off())
    code = st.selectbox("Code", list(names), key="switch_code",
                        format_func=lambda c: names[c] + (" (switched off)" if c in off else ""))
    if code in off:
        if st.button("Switch its suggestions on again", key="switch_on"):
            if state.safely(proj.switch_suggestions, code, True) is not None:
                state.flash(f"Suggestions of {names[code]} are on again.")
            st.rerun()
    elif st.button("Switch its suggestions off", key="switch_off",
                   help="No suggester proposes this code any more; suggestions already "
                        "waiting stay until reviewed."):
        if state.safely(proj.switch_suggestions, code, False) is not None:
            state.flash(f"Suggestions of {names[code]} are switched off.")
        st.rerun()


def _evaluation(proj, label, version):
    people = sorted(set(state.codings(proj, label, version)["coder"].dropna()) - MACHINES)
    if not people:
        st.caption("The learning curve needs someone's codings to compare with.")
        return
    left, right = st.columns(2)
    coder = left.selectbox("Against the codings of", people, key="eval_coder")
    unit = right.radio("Units", ["turn", "sentence"], horizontal=True, key="eval_unit")
    complete = st.checkbox("Only transcripts this coder marked as coded completely (recall "
                           "and kappa are then exact)", key="eval_complete")
    if st.button("Measure (cross-validated by document; may take a minute)", key="evaluate"):
        with st.spinner("Training and scoring on held-out documents..."):
            try:
                found = proj.evaluate(coder, unit=unit, curve=True, fully_coded=complete)
            except CodingError as exc:  # said here, beside the button
                st.error(state.plain(str(exc)))
                found = None
        if found is not None:
            st.session_state["evaluation"] = (coder, unit, complete, *found)
    if st.session_state.get("evaluation", (None,) * 3)[:3] != (coder, unit, complete):
        return
    _, _, _, table, curve = st.session_state["evaluation"]
    pooled = table[table["code"].isin(["ALL", "MACRO"])].pivot(
        index="suggester", columns="code", values="f1").reindex(
        ["rules", "model", "semantic", "default", "names"]).round(3)
    pooled.columns = ["F1 pooled (micro)", "F1 per code (macro)"]
    every = table[table["code"] == "ALL"].set_index("suggester")
    pooled["recall"] = every["recall"].round(3)
    pooled["kappa"] = every["kappa"].round(3)
    st.dataframe(pooled, width="stretch")
    st.caption("default: what the app and `coding suggest` use; names: a baseline that "
               "suggests a code wherever a word of its name occurs.")
    if len(curve):
        st.line_chart(curve.set_index("documents")[["f1_micro", "f1_macro"]],
                      x_label="coded documents the suggesters learned from", y_label="F1")
