"""The prompt sent to a language model: a template file (readable, overridable, hashed), the
codebook written out code by code, codes grouped by their top-level parent so each request
fits the context window, and the request body of the OpenAI-compatible chat API.

>>> template = load_template()                       # or load_template("my_prompt.txt")
>>> groups = code_groups(codebook, template, context_tokens=8192)
>>> body = request_body(template, groups[0], "I felt listened to.", "(none)", "llama3.1:8b")
"""

import hashlib
import json
import string
from dataclasses import dataclass
from pathlib import Path

from ...errors import SuggesterError

TEMPLATE = Path(__file__).resolve().parent / "prompt_template.txt"
USER = "=== user ==="
PLACEHOLDERS = ("codes", "code_ids", "context", "text")
DEFAULT_CONTEXT_TOKENS = 8192
CHARS_PER_TOKEN = 4  # a rough count for English; servers do not all say how they count
NO_CONTEXT = "(none)"


def estimate_tokens(text):
    """Tokens `text` takes, estimated from its length (about four characters a token)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def answer_tokens(context_tokens):
    """Tokens kept free for the answer: a list of codings with quotes and reasons."""
    return min(1024, context_tokens // 4)


@dataclass(frozen=True)
class Template:
    """A prompt template: the system and user messages with $placeholders, where it came from,
    and the SHA-256 of the file's text (part of every answer's provenance)."""

    system: str
    user: str
    path: str
    sha256: str
    text: str

    def render(self, **values):
        return (string.Template(self.system).substitute(values),
                string.Template(self.user).substitute(values))


def load_template(path=None):
    """The prompt template in `path`, or the one shipped with coding. A file that cannot be read,
    lacks the "=== user ===" line, or names a placeholder other than $codes, $code_ids, $context
    and $text is a SuggesterError naming the file (and the line)."""
    where = Path(path) if path is not None else TEMPLATE
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else \
            (exc.strerror or str(exc)).lower()
        raise SuggesterError(f"cannot read the prompt template: {reason}", path=where) from exc
    return parse_template(text, where)


def parse_template(text, path="<template>"):
    """A Template from the text of a template file (see load_template)."""
    kept, separator = [], None
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line.startswith("#"):
            continue
        if line.strip() == USER and separator is None:
            separator = len(kept)
            continue
        for name in _placeholders(line):
            if name not in PLACEHOLDERS:
                raise SuggesterError(f"unknown placeholder ${name}; a template may use "
                                     + ", ".join("$" + p for p in PLACEHOLDERS)
                                     + " (write $$ for a dollar sign)", path=path, line=number)
        kept.append(line)
    if separator is None:
        raise SuggesterError(f"the template has no line '{USER}' between the system message "
                             "and the user message", path=path)
    system, user = "\n".join(kept[:separator]).strip(), "\n".join(kept[separator:]).strip()
    if "$text" not in user and "${text}" not in user:
        raise SuggesterError("the user message never names $text, the words to code",
                             path=path)
    return Template(system, user, str(path), hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    text)


def _placeholders(line):
    try:
        return [m.group("named") or m.group("braced")
                for m in string.Template.pattern.finditer(line)
                if m.group("named") or m.group("braced")]
    except ValueError:  # a stray "$" (not "$$" or "$name"): substitute would fail the same way
        return []


@dataclass(frozen=True)
class CodeGroup:
    """Codes sent together in one request: a top-level code and its descendants, or several
    such families when they fit. `key` names the top-level codes; `text` is the codebook part
    of the prompt and `sha256` its hash, so editing a code's definition asks again."""

    key: str
    codes: tuple
    text: str
    sha256: str

    @property
    def ids(self):
        return tuple(code.id for code in self.codes)


def describe_code(code, codebook):
    """One code as the prompt shows it: id, name, where it sits, definition, rules, examples."""
    lines = [f"- id: {code.id}", f"  name: {code.name}"]
    if code.parent:
        parent = codebook.get(code.parent)
        lines.append(f"  under: {parent.name if parent else code.parent}")
    for label, value in (("definition", code.definition), ("apply when", code.inclusion),
                         ("do not apply when", code.exclusion)):
        if value and value.strip():
            lines.append(f"  {label}: {' '.join(value.split())}")
    for example in code.examples:
        lines.append(f"  example: {' '.join(str(example).split())}")
    return "\n".join(lines)


def code_groups(codebook, template, context_tokens=DEFAULT_CONTEXT_TOKENS):
    """The codebook cut into groups that each fit a request of `context_tokens` tokens with
    the template, the answer, and a unit of text with its context (a quarter of the window).
    Families (a top-level code with its descendants) are kept whole and joined while they fit;
    a family too long on its own is cut between its codes."""
    budget = context_tokens - answer_tokens(context_tokens) - context_tokens // 4 - \
        estimate_tokens(template.system + template.user)
    if budget < 200:
        raise SuggesterError(f"--llm-context {context_tokens} leaves no room for the codebook; "
                             "give at least 2048 tokens")
    families, by_top = [], {}
    for code in codebook.walk():
        top = code.id if code.parent is None else by_top.get(code.parent, code.parent)
        by_top[code.id] = top
        if not families or families[-1][0] != top:
            families.append((top, []))
        families[-1][1].append((code, describe_code(code, codebook)))
    groups, current = [], []

    def close():
        if current:
            groups.append(_group(current))
            current.clear()

    for top, members in families:
        size = sum(estimate_tokens(text) + 1 for _, text in members)
        if current and _size(current) + size > budget:
            close()
        if size <= budget:
            current.extend((top, code, text) for code, text in members)
            continue
        for code, text in members:  # a family longer than the window: cut between codes
            if current and _size(current) + estimate_tokens(text) + 1 > budget:
                close()
            current.append((top, code, text))
    close()
    return groups


def _size(members):
    return sum(estimate_tokens(text) + 1 for _, _, text in members)


def _group(members):
    tops = list(dict.fromkeys(top for top, _, _ in members))
    text = "\n".join(text for _, _, text in members)
    return CodeGroup("+".join(tops), tuple(code for _, code, _ in members), text,
                     hashlib.sha256(text.encode("utf-8")).hexdigest())


def answer_schema(code_ids):
    """The JSON schema of an answer, for servers that constrain their output to one."""
    coding = {"type": "object", "additionalProperties": False,
              "required": ["code", "quote", "rationale", "confidence"],
              "properties": {"code": {"type": "string", "enum": list(code_ids)},
                             "quote": {"type": "string"}, "rationale": {"type": "string"},
                             "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}
    return {"type": "object", "additionalProperties": False, "required": ["codings"],
            "properties": {"codings": {"type": "array", "items": coding}}}


def messages(template, group, text, context):
    """The chat messages for one unit of text and one group of codes."""
    system, user = template.render(codes=group.text, code_ids=", ".join(group.ids),
                                   context=context or NO_CONTEXT, text=text)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def request_body(template, group, text, context, model, temperature=0.0, seed=None,
                 structured=True, context_tokens=DEFAULT_CONTEXT_TOKENS):
    """The body of POST /chat/completions: the messages, sampling settings, the answer's size
    and, when `structured`, the answer's JSON schema as `response_format`."""
    body = {"model": model, "messages": messages(template, group, text, context),
            "temperature": temperature, "max_tokens": answer_tokens(context_tokens),
            "stream": False}
    if seed is not None:
        body["seed"] = seed
    if structured:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "codings", "strict": True, "schema": answer_schema(group.ids)}}
    return body


def request_tokens(body):
    """The tokens a request's messages take, estimated."""
    return sum(estimate_tokens(m["content"]) for m in body["messages"])


def cache_key(body, digest=None):
    """What identifies an answer: the SHA-256 of everything that shapes it (the model and its
    digest, the messages, hence template, codes, text and context, temperature and seed), but
    not whether the server was asked for a schema (the same question either way)."""
    shaped = {key: value for key, value in body.items() if key != "response_format"}
    shaped["digest"] = digest
    return hashlib.sha256(json.dumps(shaped, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()
