"""Code one document with a language model from the app (issue 19): choose a model and a
server, see whether the words would leave this computer, run with a progress bar. A whole
project is a run of hours on a laptop, so it is the CLI's (`coding suggest PROJECT --llm`),
resumable; the same stored calls make a document coded here cost nothing there.

Also the provenance of a model's suggestion for the Review page's Details."""

import os

import streamlit as st

from ..errors import CodingError
from ..project.llm import DEFAULT_URL, llm_details, llm_server_is_local
from . import state

DEFAULT_MODEL = "llama3.1:8b"


def llm_panel(proj, document=None, key="llm"):
    """An expander to code `document` (or one chosen in it) with a language model."""
    with st.expander("Code with a language model"):
        said = st.session_state.pop(f"{key}_said", None)
        if said:
            for kind, text in said:
                getattr(st, kind)(state.message(text))
        if document is None:
            names = [d.name for d in proj.documents()]
            if not names:
                st.info("No documents yet.")
                return
            document = st.selectbox("Document", names, key=f"{key}_document")
        runs = proj.llm_runs()
        model = st.text_input("Model", value=runs[-1]["model"] if runs else DEFAULT_MODEL,
                              key=f"{key}_model",
                              help="As the server names it; with Ollama, `ollama pull MODEL` "
                                   "first.")
        url = st.text_input("Server", value=os.environ.get("CODING_LLM_URL") or DEFAULT_URL,
                            key=f"{key}_url", help="Its OpenAI-compatible API (Ollama, "
                                                   "llama.cpp, vLLM, LM Studio).")
        unit = st.radio("Unit", ("sentence", "turn"), key=f"{key}_unit", horizontal=True)
        local = _local(url)
        allowed = local
        if not local:
            st.warning(state.message(
                f"{url} is not this computer: the words of {document} (each {unit} with the "
                "interviewer's question before it) and the codebook would be sent there."))
            allowed = st.checkbox("Send them there", key=f"{key}_allow_remote")
        if st.button("Code this document", key=f"{key}_run", disabled=not allowed,
                     type="primary"):
            _run(proj, key, document, model.strip(), url.strip(), unit, not local)
        st.caption(state.plain(
            "Its quotes become suggestions to review; its own confidence is shown, not "
            "trusted. For the whole project (hours on a laptop, resumable): "
            f"`coding suggest PROJECT --llm {model.strip() or DEFAULT_MODEL}`."))


def _local(url):
    try:
        return llm_server_is_local(url)
    except ValueError:  # a malformed address: the run says what is wrong with it
        return True


def _run(proj, key, document, model, url, unit, remote):
    bar = st.progress(0.0, text="Reading the document...")
    warnings = []

    def progress(done, total):
        bar.progress(done / total if total else 1.0, text=f"{done:,} of {total:,} requests")

    try:
        report = proj.suggest_llm(model, unit=unit, documents=[document], url=url,
                                  allow_remote=remote, on_progress=progress,
                                  warn=warnings.append)
    except CodingError as exc:
        bar.empty()
        st.error(state.message(str(exc)))
        return
    said = [("success", report.summary())] + [("warning", line) for line in warnings]
    st.session_state[f"{key}_said"] = said
    st.rerun()  # the transcript and the queue show the new suggestions


def provenance(runs, origin, at):
    """The details of a language model's suggestion (model, digest, server, run, template and
    codebook hashes, temperature, seed), for the Review page's Details; "" for others. `runs`
    is Project.llm_runs(), `at` when the suggestion was stored."""
    models = [part.partition(":")[2] for part in str(origin or "").split("+")
              if part.startswith("llm:")]
    return "\n".join(llm_details(model, runs, at) for model in models)
