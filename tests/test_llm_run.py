"""The language-model coder over a stored project (issue 19), against a stand-in
OpenAI-compatible server on 127.0.0.1 that answers as each test scripts it: what is sent,
what becomes a suggestion, what is dropped and counted, the stored calls as the cache and the
audit log, provenance, and `evaluate_llm`."""

import json

import pytest

import coding
from coding import StoreError, SuggesterError
from coding.interchange.transfer import export
from coding.project.llm import llm_details, llm_in_words
from coding.project.suggestions import origin_in_words
from llm_standin import DIGEST, Reply, StandIn, user_text

MODEL = "llama3.1:8b"
TRANSCRIPT = """Interviewer: How did the service help you?
P01: She just listened to me. I felt “heard” for once.
Interviewer: Anything that got in the way?
P01: The bus only comes twice a day, so I missed appointments.
"""
CODEBOOK = """codebook:
  id: small
  name: Small
codes:
  - id: support
    name: Support
    definition: Help given by staff.
    inclusion: Practical or emotional help.
    exclusion: Money alone.
    examples: ["She helped me fill in the forms."]
  - id: trust
    name: Trust
    parent: support
    definition: Feeling able to rely on someone.
  - id: barriers
    name: Barriers
    definition: What gets in the way of using the service.
"""


def scripted(body):
    """The stand-in model: grounded quotes, one invented quote and one unknown code."""
    text = user_text(body)
    if "listened" in text:
        return {"codings": [
            {"code": "trust", "quote": "She just listened to me.", "rationale": "felt heard",
             "confidence": 0.9},
            {"code": "support", "quote": "She gave me money", "rationale": "help",
             "confidence": 0.7},
            {"code": "housing", "quote": "listened", "rationale": "?", "confidence": 0.2}]}
    if "bus" in text:
        return {"codings": [{"code": "barriers", "quote": "The bus only  comes twice a day",
                             "rationale": "transport", "confidence": 0.8}]}
    return {"codings": []}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "p01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "book.yaml").write_text(CODEBOOK, encoding="utf-8")
    opened = coding.init(tmp_path / "study.db", coder="ann")
    opened.import_codebook(tmp_path / "book.yaml")
    opened.ingest([tmp_path / "p01.txt"])
    yield opened
    opened.close()


@pytest.fixture
def server():
    with StandIn() as standin:
        standin.answer = scripted
        yield standin


def options(server, **more):
    return {"url": server.url, "retries": 0, "backoff": 0, **more}


def test_the_request_carries_the_codebook_and_the_unit_with_its_context(project, server):
    report = project.suggest_llm(MODEL, **options(server))
    bodies = server.chats()
    assert len(bodies) == report.requests == report.sent == 3  # three sentences, one group
    listened = next(b for b in bodies if user_text(b) == "She just listened to me.")
    system, user = listened["messages"][0]["content"], listened["messages"][1]["content"]
    for text in ("id: support", "definition: Help given by staff.",
                 "apply when: Practical or emotional help.", "do not apply when: Money alone.",
                 "example: She helped me fill in the forms.", "id: trust",
                 "definition: Feeling able to rely on someone.", "id: barriers"):
        assert text in system
    assert "The interviewer asked before it: How did the service help you?" in user
    assert "The participant's whole turn: She just listened to me. I felt “heard” for once." \
        in user
    assert "P01" not in user and "p01" not in user  # no speaker or document names
    assert listened["model"] == MODEL and listened["temperature"] == 0.0 and \
        listened["seed"] == 1
    assert listened["response_format"]["type"] == "json_schema"


def test_grounded_quotes_become_suggestions_and_the_rest_is_dropped_and_counted(project,
                                                                                server):
    report = project.suggest_llm(MODEL, unit="turn", **options(server))
    queue = project.pending(order="document")
    assert queue[["code", "quote", "origin", "score"]].values.tolist() == [
        ["trust", "She just listened to me.", f"llm:{MODEL}", 0.9],
        ["barriers", "The bus only comes twice a day", f"llm:{MODEL}", 0.8]]
    assert queue["rationale"].tolist()[0] == "felt heard (the model's own confidence: 0.90)"
    assert (report.proposed, report.added, report.invented, report.unknown) == (2, 2, 1, 1)
    assert report.summary() == (
        f"{MODEL} coded 2 turns of 1 document: 2 requests, 0 answered before, 2 sent in "
        f"{report.seconds:.1f} s; 2 codings quoted the text (2 new suggestions); dropped 1 "
        "quoting words not in the text and 1 naming a code not asked about.")
    frame = project.codings_frame(statuses=None)
    assert "She gave me money" not in " ".join(frame["quote"])  # never stored
    assert set(frame["coder"]) == {"llm"}


def test_a_second_run_sends_nothing_and_an_edited_definition_asks_again(project, server):
    first = project.suggest_llm(MODEL, **options(server))
    asked = len(server.chats())
    second = project.suggest_llm(MODEL, **options(server))
    assert len(server.chats()) == asked  # the stored calls are the cache
    assert [r for r in server.requests[-3:] if r[1] == "/v1/models"] == []  # not even asked
    assert (second.cached, second.sent, second.added, second.proposed) == \
        (first.requests, 0, 0, first.proposed)
    project.update_code("barriers", definition="Anything that stops people using it.")
    third = project.suggest_llm(MODEL, **options(server))
    assert third.sent == third.requests == 3 and len(server.chats()) == asked + 3
    assert "definition: Anything that stops people using it." in \
        server.chats()[-1]["messages"][0]["content"]


def test_a_few_timed_calls_estimate_the_rest_and_progress_counts_every_request(project,
                                                                               server, tmp_path):
    (tmp_path / "p02.txt").write_text(TRANSCRIPT.replace("P01", "P02"), encoding="utf-8")
    project.ingest([tmp_path / "p02.txt"])
    estimates, progress, plans = [], [], []
    report = project.suggest_llm(MODEL, on_plan=plans.append, on_estimate=estimates.append,
                                 on_progress=lambda done, total: progress.append((done, total)),
                                 parallel=2, **options(server))
    assert [(p.requests, p.to_send) for p in plans] == [(6, 6)]
    [estimate] = estimates
    assert estimate.remaining == 3 and estimate.seconds_left == \
        pytest.approx(3 * estimate.seconds_each)
    assert progress == [(i, 6) for i in range(1, 7)] and report.sent == 6


def test_an_interrupted_run_resumes_with_what_was_answered(project, server):
    calls = []

    def interrupt(done, total):
        calls.append(done)
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project.suggest_llm(MODEL, on_progress=interrupt, **options(server))
    [run] = project.llm_runs()
    assert run["summary"]["stopped"] == "KeyboardInterrupt" and run["finished_at"]
    answered = len([c for c in project.llm_calls() if c["status"] == "ok"])
    assert answered >= 1
    report = project.suggest_llm(MODEL, **options(server))
    assert report.cached == answered and report.sent == 3 - answered
    assert report.added == 2


def test_malformed_json_gets_one_retry_then_the_unit_is_skipped(project, server):
    tries = {}

    def answer(body):
        text = user_text(body)
        tries[text] = tries.get(text, 0) + 1
        if "listened" in text and tries[text] == 1:
            return "Sure! trust applies here."
        if "bus" in text:
            return '{"codings": [{"code": "barriers", '  # cut off, every time
        return scripted(body)

    server.answer = answer
    warnings = []
    report = project.suggest_llm(MODEL, warn=warnings.append, **options(server))
    assert tries["She just listened to me."] == 2 and tries[
        "The bus only comes twice a day, so I missed appointments."] == 2
    retry = [b for b in server.chats() if len(b["messages"]) == 4]
    assert retry[0]["messages"][3]["content"] == (
        "Your answer was not the JSON object asked for: the answer holds no JSON object. "
        "Answer again with only that JSON object.")
    assert report.malformed == 1 and report.added == 1
    assert warnings == [("p01.txt, characters 146-203: skipped after two malformed answers "
                         "(the second: the answer is not valid JSON (Expecting property name "
                         "enclosed in double quotes at character 33))")]
    assert "skipped 1 after a malformed answer twice (run again to retry them)" in \
        report.summary()
    statuses = [(c["attempt"], c["status"]) for c in project.llm_calls()]
    assert statuses.count((1, "invalid")) == 2 and (2, "ok") in statuses and \
        (2, "invalid") in statuses


def test_a_failed_call_is_one_line_and_three_in_a_row_stop_the_run(project, server):
    server.answer = lambda body: Reply(500, {"error": "CUDA out of memory"}) \
        if "listened" in user_text(body) else scripted(body)
    warnings = []
    report = project.suggest_llm(MODEL, warn=warnings.append, **options(server))
    assert warnings == [("p01.txt, characters 48-72: the LLM server answered 500: CUDA out "
                         "of memory")]
    assert report.failed == 1 and report.added == 1
    server.answer = lambda body: Reply(500, {"error": "CUDA out of memory"})
    with pytest.raises(SuggesterError) as info:
        project.suggest_llm(MODEL, warn=warnings.append, seed=2, **options(server))
    assert str(info.value) == ("stopped after 3 failed requests in a row (the last: the LLM "
                               "server answered 500: CUDA out of memory); the answers so far "
                               "are stored, so running the same command again resumes")


def test_an_unreachable_server_and_a_missing_model_are_one_line(project, server):
    url = server.url
    with pytest.raises(SuggesterError) as info:
        project.suggest_llm("mistral", **options(server))
    assert str(info.value) == (f"model 'mistral' is not installed on {url} (it has: "
                               "llama3.1:8b); with Ollama, run `ollama pull mistral`")
    server.__exit__()
    with pytest.raises(SuggesterError) as info:
        project.suggest_llm(MODEL, url=url)
    assert str(info.value) == (f"cannot reach the LLM server at {url} (connection refused); "
                               "is it running? For Ollama: `ollama serve`, or open the Ollama "
                               "app")
    assert project.llm_runs() == []  # nothing started


def test_a_remote_server_needs_allow_remote_and_says_what_leaves(project):
    with pytest.raises(SuggesterError, match="is not this computer.*--allow-remote"):
        project.llm_plan(MODEL, url="https://api.example.org/v1")
    plan = project.llm_plan(MODEL, url="https://api.example.org/v1", allow_remote=True)
    assert plan.remote and plan.requests == 3 and plan.to_send == 3
    assert plan.leaving() == (
        "To https://api.example.org/v1, which is not this computer, go: the words of 3 "
        "sentences from 1 document with their context (the interviewer's question before "
        f"each, and its turn), about {plan.characters():,} characters in 3 requests, and the "
        "codebook's 3 codes with their definitions, rules and examples. Speakers are named "
        "only as interviewer or participant; no document names, case attributes or codings "
        "are sent.")


def test_every_call_is_logged_with_its_provenance_and_exported(project, server, tmp_path):
    project.suggest_llm(MODEL, **options(server))
    [run] = project.llm_runs()
    assert (run["model"], run["digest"], run["url"], run["remote"], run["unit"]) == \
        (MODEL, DIGEST, server.url, False, "sentence")
    assert run["details"]["quantization_level"] == "Q4_K_M"
    assert run["template_path"].endswith("prompt_template.txt") and \
        len(run["template_sha256"]) == len(run["codebook_sha256"]) == 64
    assert (run["temperature"], run["seed"], run["created_by"]) == (0.0, 1, "ann")
    calls = list(project.llm_calls())
    assert len(calls) == 3 and {c["status"] for c in calls} == {"ok"}
    assert [c["request"] for c in calls] == server.chats()
    assert all(json.loads(c["response"])["choices"][0]["message"]["content"] == c["answer"]
               for c in calls)
    line = export(project, "llm-calls", tmp_path / "calls.jsonl")
    assert line == f"3 calls to language models written to {tmp_path / 'calls.jsonl'}"
    written = [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert [w["request"] for w in written] == server.chats()
    assert written[0]["document"] == "p01.txt" and written[0]["run"]["digest"] == DIGEST
    item = project.pending().iloc[0]
    at = item["created_at"]
    said = llm_in_words(MODEL, project.llm_runs(), at)
    assert said.startswith(f"the local model {MODEL} (run at ")
    assert origin_in_words(item["origin"], project.models(), project.llm_runs(), at) == said
    details = llm_details(MODEL, project.llm_runs(), at)
    assert f"digest {DIGEST}" in details and "temperature 0, seed 1" in details


def test_evaluate_scores_the_model_against_a_coder(project, server):
    text = project.documents()[0]
    del text
    with coding.open_project(project.store.label, coder="bo") as bo:
        bo.add_coding("p01.txt", "trust", 48, 72)
        bo.add_coding("p01.txt", "support", 48, 97)
    table = project.evaluate_llm(MODEL, "bo", **options(server))
    overall = table[table["code"] == "ALL"].iloc[0]
    assert overall["suggester"] == f"llm:{MODEL}"
    per_code = table.set_index("code")
    assert per_code.loc["trust", "tp"] == 1 and per_code.loc["trust", "fp"] == 0
    assert per_code.loc["support", "fn"] == 2  # support was coded on both sentences
    assert project.pending_count() == 0  # evaluation stores calls, not suggestions
    assert [r["purpose"] for r in project.llm_runs()] == ["evaluate"]
    with pytest.raises(StoreError, match="coder 'cy' has no accepted or manual codings"):
        project.evaluate_llm(MODEL, "cy", **options(server))


def test_the_server_and_key_come_from_the_environment(project, server, monkeypatch):
    monkeypatch.setenv("CODING_LLM_URL", server.url)
    monkeypatch.setenv("CODING_LLM_API_KEY", "sk-local-123")
    report = project.suggest_llm(MODEL, retries=0)
    assert report.url == server.url and report.sent == 3
    assert server.keys == ["Bearer sk-local-123"] * 3
    assert "sk-local-123" not in json.dumps([c["request"] for c in project.llm_calls()])


def test_a_purged_document_leaves_no_call_behind(project, server):
    project.suggest_llm(MODEL, **options(server))
    assert len(list(project.llm_calls())) == 3
    project.purge_document("p01.txt")
    assert list(project.llm_calls()) == []
    [run] = project.llm_runs()
    assert "p01" not in json.dumps(run, default=str) and "listened" not in \
        json.dumps(run, default=str)


def test_a_long_codebook_goes_in_groups_that_fit_the_context(tmp_path):
    from conftest import CODEBOOK as LONG

    (tmp_path / "p01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    with coding.init(tmp_path / "long.db", coder="ann") as project:
        project.import_codebook(LONG)
        project.ingest([tmp_path / "p01.txt"])
        plan = project.llm_plan(MODEL, context_tokens=4096)
        codes = len(project.codebook().codes)
    assert len(plan.groups) > 1 and plan.requests == plan.units * len(plan.groups) == \
        3 * len(plan.groups)
    assert sum(len(group.codes) for group in plan.groups) == codes
    for _, _, asks in plan.documents:
        for ask in asks:
            body = plan_body(plan, ask)
            assert sum(len(m["content"]) for m in body["messages"]) / 4 + 1024 <= 4096


def plan_body(plan, ask):
    from coding.suggestions.llm import request_body

    s = plan.settings
    return request_body(plan.template, plan.groups[ask.group], ask.text, ask.context, s.model,
                        s.temperature, s.seed, True, s.context_tokens)


def test_the_same_run_on_postgresql(postgres_url, tmp_path, server):
    (tmp_path / "p01.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (tmp_path / "book.yaml").write_text(CODEBOOK, encoding="utf-8")
    with coding.init(postgres_url, coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "p01.txt"])
        first = project.suggest_llm(MODEL, **options(server))
        second = project.suggest_llm(MODEL, **options(server))
        assert (first.added, second.cached, second.sent) == (2, 3, 0)
        assert [c["request"] for c in project.llm_calls()] == server.chats()
        assert project.llm_runs()[0]["digest"] == DIGEST
