"""`coding suggest --llm` and `coding evaluate --llm` (issue 19), in-process with CliRunner,
against the stand-in OpenAI-compatible server on 127.0.0.1: what is printed, one line for each
failure, the remote gate, the cache, and the call log exported."""

import json
import socket

import pytest

import coding
from llm_standin import Reply, StandIn, user_text
from test_llm_run import CODEBOOK, MODEL, TRANSCRIPT, scripted


@pytest.fixture
def db(tmp_path):
    (tmp_path / "p01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "book.yaml").write_text(CODEBOOK, encoding="utf-8")
    with coding.init(tmp_path / "study.db", coder="ann") as opened:
        opened.import_codebook(tmp_path / "book.yaml")
        opened.ingest([tmp_path / "p01.txt"])
    return tmp_path / "study.db"


@pytest.fixture
def server():
    with StandIn() as standin:
        standin.answer = scripted
        yield standin


def test_suggest_with_a_local_model_queues_what_it_quoted(run, db, server):
    result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url)
    assert result.exit_code == 0, result.output
    assert f"{MODEL} at {server.url} (this computer): 3 sentences = 3 requests, 0 answered " \
           "before, 3 to send" in result.output
    assert "for the 0 left" not in result.output  # an estimate only when some are left
    assert "2 codings quoted the text (2 new suggestions); dropped 1 quoting words not in " \
           "the text and 1 naming a code not asked about." in result.output
    assert f"2 new suggestions from {MODEL}; 2 pending review" in result.output
    with coding.open_project(db) as project:
        assert sorted(project.pending()["quote"]) == ["She just listened to me.",
                                                      "The bus only comes twice a day"]
    again = run("suggest", db, "--llm", MODEL, "--llm-url", server.url)
    assert "3 requests, 3 answered before, 0 to send" in again.output
    assert "0 new suggestions from" in again.output and len(server.chats()) == 3


def test_llm_alone_runs_only_the_llm_and_with_rules_both(run, db, server):
    run("suggest", db, "--llm", MODEL, "--llm-url", server.url)
    with coding.open_project(db) as project:
        assert set(project.pending()["origin"]) == {f"llm:{MODEL}"}
    result = run("suggest", db, "--rules", "--llm", MODEL, "--llm-url", server.url,
                 "--unit", "turn")
    assert result.exit_code == 0, result.output
    assert "new suggestions;" in result.output  # the rules' own line, then the model's
    assert f"new suggestions from {MODEL}" in result.output


def test_a_remote_url_is_refused_without_allow_remote(run, db):
    result = run("suggest", db, "--llm", MODEL, "--llm-url", "http://192.168.1.20:11434/v1")
    assert result.exit_code == 1
    assert result.output == (
        "Error: http://192.168.1.20:11434/v1 is not this computer, so the words of the "
        "transcripts would leave it; add --allow-remote to send them there (a server on the "
        "local network needs it too)\n")


def test_with_allow_remote_what_leaves_the_computer_is_printed_first(run, db):
    name = socket.gethostname()  # a name, not an address: not taken for this computer
    with StandIn(host=socket.gethostbyname(name), name=name) as server:
        server.answer = scripted
        result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url, "--allow-remote")
    assert result.exit_code == 0, result.output
    said = result.output.index(f"Warning: To {server.url}, which is not this computer, go: "
                               "the words of 3 sentences from 1 document")
    assert said < result.output.index(f"{MODEL} coded 3 sentences")  # before it was sent
    assert "(elsewhere)" in result.output


@pytest.mark.parametrize("answer, said", [
    (lambda body: Reply(500, {"error": "CUDA out of memory"}),
     "the LLM server answered 500: CUDA out of memory"),
    (lambda body: Reply(delay=1.5), ("no answer from {url} within 0.3 s; a slow model needs "
                                     "a longer --llm-timeout")),
])
def test_a_failing_server_is_one_line_per_unit(run, db, server, answer, said):
    server.answer = lambda body: answer(body) if "listened" in user_text(body) \
        else scripted(body)
    result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url, "--llm-timeout", "0.3")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("Warning:")]
    assert warnings == ["Warning: p01.txt, characters 48-72: " + said.format(url=server.url)]
    assert "skipped 1 that got no answer (run again to retry them)" in result.output


def test_an_unreachable_server_and_a_missing_model_are_one_line(run, db, server):
    url = server.url
    result = run("suggest", db, "--llm", "mistral", "--llm-url", url)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: model 'mistral' is not installed on {url} (it has: llama3.1:8b); with Ollama, "
        "run `ollama pull mistral`")
    server.__exit__()
    result = run("suggest", db, "--llm", MODEL, "--llm-url", url)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: cannot reach the LLM server at {url} (connection refused); is it running? "
        "For Ollama: `ollama serve`, or open the Ollama app")


def test_malformed_json_twice_skips_the_unit_with_one_line(run, db, server):
    server.answer = lambda body: "I would code this as trust." if "bus" in user_text(body) \
        else scripted(body)
    result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url)
    assert result.exit_code == 0, result.output
    assert "Warning: p01.txt, characters 146-203: skipped after two malformed answers (the " \
           "second: the answer holds no JSON object)" in result.output
    assert len(server.chats()) == 4


def test_a_template_of_ones_own_is_used_and_its_mistakes_named(run, db, server, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("Codes:\n$codes\n=== user ===\nCode this: $text\n", encoding="utf-8")
    result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url, "--llm-template", mine)
    assert result.exit_code == 0, result.output
    assert server.chats()[0]["messages"][1]["content"] == "Code this: She just listened to me."
    mine.write_text("Codes: $codebook\n=== user ===\n$text\n", encoding="utf-8")
    result = run("suggest", db, "--llm", MODEL, "--llm-url", server.url, "--llm-template", mine)
    assert result.output == (f"Error: {mine}:1: unknown placeholder $codebook; a template may "
                             "use $codes, $code_ids, $context, $text (write $$ for a dollar "
                             "sign)\n")


def test_the_call_log_is_exported_as_json_lines(run, db, server, tmp_path):
    run("suggest", db, "--llm", MODEL, "--llm-url", server.url)
    result = run("export", db, "llm-calls", "-o", tmp_path / "calls.jsonl")
    assert result.exit_code == 0, result.output
    assert result.output == f"3 calls to language models written to {tmp_path / 'calls.jsonl'}\n"
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert [c["request"] for c in calls] == server.chats()
    assert {c["status"] for c in calls} == {"ok"} and calls[0]["run"]["model"] == MODEL


def test_evaluate_with_a_model_prints_its_scores(run, db, server, tmp_path):
    with coding.open_project(db, coder="bo") as project:
        project.add_coding("p01.txt", "trust", 48, 72)
        project.add_coding("p01.txt", "barriers", 146, 203)
    result = run("evaluate", db, "--coder", "bo", "--llm", MODEL, "--llm-url", server.url,
                 "-o", tmp_path / "llm.csv")
    assert result.exit_code == 0, result.output
    assert "on bo's documents, per sentence" in result.output
    assert f"llm:{MODEL} against bo" in result.output and "1.000" in result.output
    assert f"Wrote {tmp_path / 'llm.csv'}" in result.output
    table = (tmp_path / "llm.csv").read_text()
    assert table.splitlines()[0].startswith("suggester,code,units,support,predicted,tp,fp")
    with coding.open_project(db) as project:
        assert project.pending_count() == 0


def test_without_llm_the_commands_run_as_before(run, db):
    result = run("suggest", db, "--rules")
    assert result.exit_code == 0, result.output
    assert "from" not in result.output.splitlines()[-1] or "llm" not in result.output
    help_text = run("suggest", "--help").output
    for option in ("--llm MODEL", "--llm-url URL", "--allow-remote", "--llm-parallel",
                   "--llm-context", "--llm-template FILE", "--llm-timeout SECONDS", "--unit"):
        assert option in help_text
    assert "--llm MODEL" in run("evaluate", "--help").output
