"""The LLM suggester's pure parts (issue 19): the prompt from the codebook and the template
file, codes grouped to fit the context window, answers read and their quotes grounded, and
the HTTP client against a stand-in OpenAI-compatible server on 127.0.0.1."""

import pytest

from coding import SuggesterError, load_codebook
from coding.records import Code, Codebook
from coding.suggestions.llm import (LlmCallError, LlmClient, cache_key, check_url, code_groups,
                                    ground, is_loopback, load_template, parse_answer,
                                    request_body)
from coding.suggestions.llm.answers import AnswerError
from conftest import CODEBOOK
from llm_standin import DIGEST, Reply, StandIn, user_text

BOOK = Codebook("b", "Book", (
    Code("support", "Support", definition="Help given by staff.", inclusion="Practical help.",
         exclusion="Money alone.", examples=("She helped me fill in the forms.",)),
    Code("trust", "Trust", parent="support", definition="Feeling able to rely on someone."),
    Code("barriers", "Barriers", definition="What gets in the way."),
))


def test_the_prompt_carries_every_definition_rule_and_example_and_the_unit():
    template = load_template()
    [group] = code_groups(BOOK, template)
    body = request_body(template, group, "She just listened to me.", "I: How was it?", "m")
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    for text in ("id: support", "name: Support", "definition: Help given by staff.",
                 "apply when: Practical help.", "do not apply when: Money alone.",
                 "example: She helped me fill in the forms.", "id: trust", "under: Support",
                 "definition: Feeling able to rely on someone.", "id: barriers",
                 "one of: support, trust, barriers", "deductively"):
        assert text in system
    assert user.endswith("TEXT\nShe just listened to me.")
    assert "CONTEXT\nI: How was it?" in user
    assert "#" not in system.splitlines()[0]  # comments are not sent
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["codings"]["items"]["properties"]["code"]["enum"] == \
        ["support", "trust", "barriers"]
    assert body["temperature"] == 0.0 and body["stream"] is False


def test_a_long_codebook_is_split_by_parent_within_the_context(tmp_path):
    book = load_codebook(CODEBOOK)
    template = load_template()
    whole = code_groups(book, template, context_tokens=32768)
    assert len(whole) == 1 and len(whole[0].codes) == len(book.codes)
    groups = code_groups(book, template, context_tokens=4096)
    assert len(groups) > 1
    assert sorted(c.id for g in groups for c in g.codes) == sorted(c.id for c in book.codes)
    tops = {c.id for c in book.codes if c.parent is None}
    for group in groups:  # families stay whole: each child travels with its top-level code
        for code in group.codes:
            top = code
            while top.parent:
                top = book.get(top.parent)
            assert top.id in group.key.split("+") and top.id in tops
        body = request_body(template, group, "x" * 2000, "y" * 1000, "m", context_tokens=4096)
        assert sum(len(m["content"]) for m in body["messages"]) / 4 + 1024 <= 4096


def test_editing_a_definition_changes_the_cache_key():
    template = load_template()
    [group] = code_groups(BOOK, template)
    edited = Codebook("b", "Book", (BOOK.codes[0].__class__(
        "support", "Support", definition="Help of any kind."), *BOOK.codes[1:]))
    [changed] = code_groups(edited, template)
    key = cache_key(request_body(template, group, "text", "", "m", seed=1))
    assert key == cache_key(request_body(template, group, "text", "", "m", seed=1,
                                         structured=False))
    assert key != cache_key(request_body(template, changed, "text", "", "m", seed=1))
    assert key != cache_key(request_body(template, group, "text", "", "m", seed=2))
    assert key != cache_key(request_body(template, group, "text.", "", "m", seed=1))


def test_a_template_file_is_read_and_its_mistakes_named(tmp_path):
    mine = tmp_path / "prompt.txt"
    mine.write_text("# mine\nCode with: $codes\n=== user ===\nText: $text\n", encoding="utf-8")
    template = load_template(mine)
    assert template.system == "Code with: $codes" and template.user == "Text: $text"
    assert template.sha256 != load_template().sha256
    mine.write_text("Code $codes and $colour\n=== user ===\n$text\n", encoding="utf-8")
    with pytest.raises(SuggesterError) as info:
        load_template(mine)
    assert str(info.value) == (f"{mine}:1: unknown placeholder $colour; a template may use "
                               "$codes, $code_ids, $context, $text (write $$ for a dollar sign)")
    mine.write_text("Code $codes\n$text\n", encoding="utf-8")
    with pytest.raises(SuggesterError, match="has no line '=== user ==='"):
        load_template(mine)
    with pytest.raises(SuggesterError) as info:
        load_template(tmp_path / "missing.txt")
    assert str(info.value) == f"{tmp_path / 'missing.txt'}: cannot read the prompt template: " \
                              "no such file or directory"


def test_answers_are_read_leniently_and_refused_clearly():
    assert parse_answer('```json\n{"codings": [{"code": "a", "quote": "b"}]}\n```') == \
        [{"code": "a", "quote": "b"}]
    assert parse_answer('Here you go: {"codings": []} Hope this helps.') == []
    assert parse_answer('[{"code": "a", "quote": "b"}]') == [{"code": "a", "quote": "b"}]
    for bad, said in (("", "the answer was empty"),
                      ("I think support applies.", "the answer holds no JSON object"),
                      ('{"codings": [{"code": "a", "quote": "b"}', "the answer is not valid JSON"),
                      ('{"codes": []}', 'not an object with a "codings" list'),
                      ('{"codings": [{"code": "a"}]}', 'coding 1 of the answer lacks')):
        with pytest.raises(AnswerError, match=said):
            parse_answer(bad)


def test_a_grounded_quote_spans_exactly_its_words():
    text = "Honestly, she “just listened”  to me.\nAnd she just listened to me again."
    items = [{"code": "trust", "quote": 'she "just listened" to me', "rationale": "feels heard",
              "confidence": 0.8},
             {"code": "support", "quote": "she gave me money", "confidence": 0.9},
             {"code": "housing", "quote": "Honestly"},
             {"code": "TRUST", "quote": "and  she just\nlistened to me again", "confidence": "x"}]
    grounded = ground(items, 100, text, ["support", "trust"], "llm:m")
    first, second = grounded.suggestions
    assert (first.start, first.end) == (110, 136) and text[10:36] == "she “just listened”  to me"
    assert first.code == "trust" and first.origin == "llm:m" and first.score == 0.8
    assert first.rationale == "feels heard (the model's own confidence: 0.80)"
    assert text[second.start - 100:second.end - 100] == "And she just listened to me again"
    assert second.score == 0.5 and "confidence: none given" in second.rationale
    assert grounded.invented == [("support", "she gave me money")]
    assert grounded.unknown == [("housing", "Honestly")]


def test_only_this_computer_is_allowed_without_allow_remote():
    for url in ("http://localhost:11434/v1", "http://127.0.0.1:8080/v1", "http://[::1]:1/v1",
                "http://127.0.0.2/v1"):
        assert is_loopback(url) and check_url(url + "/") == url
    for url in ("http://192.168.1.20:11434/v1", "https://api.openai.com/v1",
                "http://lab-server.local:8000/v1"):
        assert not is_loopback(url)
        with pytest.raises(SuggesterError, match="is not this computer.*--allow-remote"):
            check_url(url)
        assert check_url(url, allow_remote=True) == url
    with pytest.raises(SuggesterError, match="must start with http:// or https://"):
        check_url("localhost:11434")
    with pytest.raises(SuggesterError) as info:
        check_url("http://ann:s3cret@10.0.0.5/v1")
    assert "s3cret" not in str(info.value)


def test_the_client_talks_to_an_openai_compatible_server():
    template = load_template()
    [group] = code_groups(BOOK, template)
    with StandIn() as server:
        server.answer = lambda body: {"codings": [{"code": "trust", "quote": user_text(body)}]}
        client = LlmClient(server.url, "llama3.1:8b")
        client.check_model()
        assert client.model_info()["digest"] == DIGEST
        reply = client.chat(request_body(template, group, "I trust her.", "", "llama3.1:8b"))
        assert parse_answer(reply.content) == [{"code": "trust", "quote": "I trust her."}]
        assert reply.structured
        with pytest.raises(LlmCallError) as info:
            LlmClient(server.url, "mistral").check_model()
        assert info.value.fatal
        assert str(info.value) == (f"model 'mistral' is not installed on {server.url} (it has: "
                                   "llama3.1:8b); with Ollama, run `ollama pull mistral`")


def test_a_server_without_json_schema_gets_plain_json_requests():
    template = load_template()
    [group] = code_groups(BOOK, template)
    with StandIn(structured=False) as server:
        client = LlmClient(server.url, "llama3.1:8b")
        reply = client.chat(request_body(template, group, "text", "", "llama3.1:8b"))
        assert not reply.structured and parse_answer(reply.content) == []
        client.chat(request_body(template, group, "more", "", "llama3.1:8b"))
        sent = server.chats()
        assert ["response_format" in body for body in sent] == [True, False, False]


def test_failures_are_one_line_each():
    template = load_template()
    [group] = code_groups(BOOK, template)
    body = request_body(template, group, "text", "", "llama3.1:8b")
    with StandIn() as server:
        server.answer = lambda body: Reply(500, {"error": "out of memory"})
        client = LlmClient(server.url, "llama3.1:8b", retries=2, backoff=0)
        with pytest.raises(LlmCallError) as info:
            client.chat(body)
        assert str(info.value) == "the LLM server answered 500: out of memory"
        assert not info.value.fatal and len(server.chats()) == 3  # two retries
        server.answer = lambda body: Reply(delay=1.0)
        with pytest.raises(LlmCallError) as info:
            LlmClient(server.url, "llama3.1:8b", timeout=0.2, retries=0).chat(body)
        assert str(info.value) == (f"no answer from {server.url} within 0.2 s; a slow model "
                                   "needs a longer --llm-timeout")
        url = server.url
    with pytest.raises(LlmCallError) as info:  # the server is gone
        LlmClient(url, "llama3.1:8b").check_model()
    assert info.value.fatal
    assert str(info.value) == (f"cannot reach the LLM server at {url} (connection refused); is "
                               "it running? For Ollama: `ollama serve`, or open the Ollama app")
