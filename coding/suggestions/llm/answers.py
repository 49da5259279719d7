"""A model's answer read and grounded: the JSON object it was asked for, each quote looked up
in the words it was given (ignoring white space and typographic quotes), and each found quote
turned into a suggestion spanning exactly those words. A quote not in the text, or a code not
among those asked about, is dropped and counted, never stored.

>>> items = parse_answer('{"codings": [{"code": "trust", "quote": "she listened", ...}]}')
>>> grounded = ground(items, unit_start=120, text="And she listened, really.", codes=["trust"],
...                   origin="llm:llama3.1:8b")
>>> grounded.suggestions, grounded.invented, grounded.unknown
"""

import json
import math
import re
from dataclasses import dataclass, field

from ...readers.codings_file import locate_quote
from ...records import Suggestion

DEFAULT_CONFIDENCE = 0.5  # when the model gives none: the middle, so review sees it early
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


class AnswerError(ValueError):
    """An answer that is not the JSON object asked for; str() says what is wrong with it."""


def parse_answer(content):
    """The codings of an answer: a list of dicts with "code" and "quote" (strings) and maybe
    "rationale" and "confidence". Tolerates a Markdown code fence and words around the object;
    anything else that is not {"codings": [...]} is an AnswerError saying why."""
    text = _FENCE.sub("", (content or "").strip())
    if not text:
        raise AnswerError("the answer was empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        start, end = text.find("{"), text.rfind("}")
        if start < 0:
            raise AnswerError("the answer holds no JSON object") from exc
        try:  # words around the object
            data = json.loads(text[start:end + 1]) if start < end else json.loads(text)
        except json.JSONDecodeError as inner:
            offset = start if start < end else 0
            raise AnswerError(f"the answer is not valid JSON ({inner.msg} at character "
                              f"{inner.pos + offset})") from exc
    if isinstance(data, list):  # the list alone, without its {"codings": ...} wrapper
        data = {"codings": data}
    if not isinstance(data, dict) or not isinstance(data.get("codings"), list):
        raise AnswerError('the answer is not an object with a "codings" list')
    items = []
    for number, item in enumerate(data["codings"], 1):
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or \
                not isinstance(item.get("quote"), str):
            raise AnswerError(f'coding {number} of the answer lacks a "code" or a "quote" '
                              "as text")
        items.append(item)
    return items


@dataclass
class Grounded:
    """What an answer's codings became: suggestions, and the codings dropped and why."""

    suggestions: list = field(default_factory=list)
    invented: list = field(default_factory=list)   # (code, quote): the words are not in the text
    unknown: list = field(default_factory=list)    # (code, quote): not a code asked about


def ground(items, unit_start, text, codes, origin, paths=None):
    """Suggestions for the codings of an answer about `text` (which starts at `unit_start` in
    its document): each quote located in `text` (the first copy when it repeats), its code one
    of `codes` (ids; a code's path in `paths`, {path: id}, is read as its id too)."""
    by_name = {code: code for code in codes}
    by_name.update({path: code for path, code in (paths or {}).items() if code in by_name})
    folded = {code.casefold(): code for code in codes}
    grounded = Grounded()
    for item in items:
        named, quote = item["code"].strip(), item["quote"]
        code = by_name.get(named) or folded.get(named.casefold())
        if code is None:
            grounded.unknown.append((named, quote))
            continue
        span = locate_quote(text, quote) if quote.strip() else None
        if span is None:
            grounded.invented.append((code, quote))
            continue
        confidence = _confidence(item.get("confidence"))
        reason = " ".join(str(item.get("rationale") or "").split()) or "no reason given"
        shown = "none given" if confidence is None else f"{confidence:.2f}"
        grounded.suggestions.append(Suggestion(
            start=unit_start + span[0], end=unit_start + span[1], code=code,
            score=DEFAULT_CONFIDENCE if confidence is None else confidence,
            rationale=f"{reason} (the model's own confidence: {shown})", origin=origin))
    return grounded


def _confidence(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else min(max(value, 0.0), 1.0)
