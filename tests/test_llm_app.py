"""The language-model panel in the app (issue 19), by AppTest against the stand-in server on
127.0.0.1: code the open transcript from the Transcript page, one chosen on the Review page,
the warning and the consent a remote server needs, and where a suggestion came from in words
with its provenance a click away."""

import pytest

import coding
from llm_standin import DIGEST, StandIn
from test_app import displayed, open_app, run
from test_llm_run import CODEBOOK, MODEL, TRANSCRIPT, scripted


@pytest.fixture
def db(tmp_path, monkeypatch):
    (tmp_path / "p01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "book.yaml").write_text(CODEBOOK, encoding="utf-8")
    with coding.init(tmp_path / "study.db", coder="ann") as opened:
        opened.import_codebook(tmp_path / "book.yaml")
        opened.ingest([tmp_path / "p01.txt"])
    monkeypatch.setenv("CODING_PROJECT", str(tmp_path / "study.db"))
    monkeypatch.delenv("CODING_LLM_URL", raising=False)
    return tmp_path / "study.db"


@pytest.fixture
def server():
    with StandIn() as standin:
        standin.answer = scripted
        yield standin


def test_the_transcript_page_codes_its_document_with_a_local_model(db, server):
    at = open_app("Transcript")
    assert at.text_input(key="llm_model").value == MODEL
    assert at.text_input(key="llm_url").value == "http://localhost:11434/v1"
    at.text_input(key="llm_url").set_value(server.url)
    at = run(at.text_input(key="llm_model").set_value(MODEL))
    assert not at.button(key="llm_run").disabled
    assert "llm_allow_remote" not in [c.key for c in at.checkbox]  # no consent to give
    at = run(at.button(key="llm_run").click())
    said = [displayed(s.value) for s in at.success]
    assert any(text.startswith(f"{MODEL} coded 3 sentences of 1 document") and
               "(2 new suggestions)" in text for text in said), said
    with coding.open_project(db) as project:
        queue = project.pending()
    assert sorted(queue["quote"]) == ["She just listened to me.",
                                      "The bus only comes twice a day"]
    assert set(queue["origin"]) == {f"llm:{MODEL}"}


def test_a_remote_server_is_warned_about_and_needs_consent(db):
    at = open_app("Transcript")
    at = run(at.text_input(key="llm_url").set_value("http://192.168.1.20:11434/v1"))
    [warning] = [displayed(w.value) for w in at.warning]
    assert warning == ("http://192.168.1.20:11434/v1 is not this computer: the words of "
                       "p01.txt (each sentence with the interviewer's question before it) and "
                       "the codebook would be sent there.")
    assert at.button(key="llm_run").disabled
    at = run(at.checkbox(key="llm_allow_remote").check())
    assert not at.button(key="llm_run").disabled


def test_an_unreachable_server_is_one_message_in_the_panel(db, server):
    url = server.url
    server.__exit__()
    at = open_app("Transcript")
    at = run(at.text_input(key="llm_url").set_value(url))
    at = run(at.button(key="llm_run").click())
    assert [displayed(e.value) for e in at.error] == [
        (f"cannot reach the LLM server at {url} (connection refused); is it running? For "
         "Ollama: `ollama serve`, or open the Ollama app")]


def test_review_runs_a_chosen_document_and_says_where_suggestions_came_from(db, server):
    at = open_app("Review")
    assert at.selectbox(key="review_llm_document").value == "p01.txt"
    at = run(at.text_input(key="review_llm_url").set_value(server.url))
    at = run(at.radio(key="review_llm_unit").set_value("turn"))
    at = run(at.button(key="review_llm_run").click())
    captions = [displayed(c.value) for c in at.caption]
    assert any(c.startswith(f"Suggested by the local model {MODEL} (run at ") for c in captions)
    details = [t.value for t in at.text if "origin llm:" in t.value]
    assert len(details) == 2
    assert f"model {MODEL}, 8.0B Q4_K_M, digest {DIGEST}" in details[0]
    assert "(this computer)" in details[0] and "per turn, temperature 0, seed 1" in details[0]
    assert "prompt template " in details[0] and "codebook as sent: sha256 " in details[0]
