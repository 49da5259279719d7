"""Export: download the codings and the theme matrices the package computes."""

import streamlit as st

from .. import analysis
from ..codebook import dump_codebook
from . import state


def export_page(proj):
    label, version = proj.store.label, state.version(proj)
    st.title("Export")
    include = st.toggle("Include pending suggestions", key="export_suggested")
    frame = state.codings(proj, label, version, include)
    codebook = state.codebook(proj, label, version)
    if frame.empty:
        st.info("No codings to export yet.")
        return
    cases = list(state.cases(proj, label, version)["case"])
    words = state.case_words(proj, label, len(state.documents(proj, label, version)))
    downloads = [("Codings (one row per coding)", "codings.csv", frame)]
    for value in analysis.MATRIX_VALUES:
        downloads.append((f"Code × case: {value}", f"code_by_case_{value}.csv",
                          analysis.code_by_case(frame, value, cases, words, codebook)))
    downloads.append(("Co-occurrence (same turn)", "cooccurrence.csv",
                      analysis.cooccurrence(frame, "turn", codebook)))
    for title, name, table in downloads:
        st.download_button(title, _csv(table, index=name != "codings.csv"), file_name=name,
                           mime="text/csv", key=f"download-{name}")
    if codebook is not None:
        st.download_button("Codebook (YAML)", dump_codebook(codebook),
                           file_name=f"{codebook.id}.yaml", key="download-codebook")


def _csv(table, index):
    return table.to_csv(index=index).encode("utf-8")
