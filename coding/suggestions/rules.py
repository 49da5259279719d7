"""Codebook keyword rules: a code is suggested for a unit whose lemmas hold one of its keyword
phrases (spaCy's PhraseMatcher on lemmas) or whose text matches one of its patterns. Pure over
plain records (see suggester.py for the contract)."""

import math
import re
from collections import defaultdict

from ..errors import SuggesterError
from ..records import PARTICIPANT, Suggestion
from .pipeline import analyse, load_pipeline

RULE_ORIGIN = "rule:keywords"
# How much one match says, by phrase length: one word is weak evidence, three words strong.
PHRASE_WEIGHT = {1: 0.45, 2: 0.65}
LONG_PHRASE_WEIGHT = 0.8
REGEX_WEIGHT = 0.6


class KeywordSuggester:
    """Suggest a code for a unit (sentence or turn) whose lemmas contain one of its keyword
    phrases, or whose text matches one of its patterns.

    The score grows with how specific the evidence is: longer phrases weigh more, a phrase
    listed under several codes weighs less, and several distinct hits combine.

    >>> KeywordSuggester(unit="sentence").fit(codebook).suggest(text, turns)
    """

    def __init__(self, unit="sentence", roles=(PARTICIPANT,)):
        self.unit = unit
        self.roles = roles

    def fit(self, codebook, examples=None):
        from spacy.matcher import PhraseMatcher

        nlp = load_pipeline()
        self.matcher_ = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.vocab_ = nlp.vocab
        owners, entries = defaultdict(set), []
        for code in codebook.codes:
            phrases = [p for p in code.keywords if p.strip()]
            for phrase, doc in zip(phrases, nlp.pipe(phrases)):
                key = " ".join(t.lemma_ for t in doc if not t.is_space)
                owners[key].add(code.id)
                entries.append((code.id, phrase, key, doc))
        self.phrases_ = {}
        for code_id, phrase, key, doc in entries:
            label = f"{code_id}\x1f{phrase}"
            words = sum(1 for t in doc if not t.is_punct)
            weight = PHRASE_WEIGHT.get(words, LONG_PHRASE_WEIGHT) / len(owners[key])
            self.phrases_[label] = (code_id, phrase, weight)
            self.matcher_.add(label, [doc])
        self.regexes_ = []
        for code in codebook.codes:
            for pattern in code.patterns:
                try:
                    self.regexes_.append((code.id, pattern, re.compile(pattern, re.IGNORECASE)))
                except re.error as exc:
                    raise SuggesterError(f"pattern {pattern!r} of code '{code.id}' is not a "
                                         f"valid regular expression: {exc}") from exc
        self.codes_without_rules_ = [c.id for c in codebook.codes
                                     if not c.keywords and not c.patterns]
        return self

    def suggest(self, text, turns):
        return self.suggest_analysed(list(analyse(text, turns, self.unit, self.roles)), text)

    def suggest_analysed(self, analysed, text):
        if not hasattr(self, "matcher_"):
            raise SuggesterError("KeywordSuggester: call fit() before suggest()")
        hits = defaultdict(dict)  # (unit start, end) -> {evidence: (code, weight, shown)}
        for doc, units in analysed:
            if not units:
                continue
            for match_id, start, end in self.matcher_(doc):
                code_id, phrase, weight = self.phrases_[self.vocab_.strings[match_id]]
                unit = _unit_at(units, start)
                if unit is not None:
                    hits[(unit.start, unit.end)].setdefault(
                        (code_id, phrase), (weight, doc[start:end].text))
            for unit in units:
                unit_text = text[unit.start:unit.end]
                for code_id, pattern, regex in self.regexes_:
                    found = regex.search(unit_text)
                    if found:
                        hits[(unit.start, unit.end)].setdefault(
                            (code_id, "/" + pattern + "/"), (REGEX_WEIGHT, found.group(0)))
        suggestions = []
        for (start, end), evidence in hits.items():
            by_code = defaultdict(list)
            for (code_id, phrase), (weight, shown) in evidence.items():
                by_code[code_id].append((weight, phrase, shown))
            for code_id, items in by_code.items():
                items.sort(key=lambda item: (-item[0], item[1]))
                score = 1 - math.prod(1 - weight for weight, _, _ in items)
                reasons = ", ".join(f'"{phrase}"' + (f' ("{shown}")' if shown.lower() != phrase
                                                     else "") for _, phrase, shown in items)
                suggestions.append(Suggestion(start, end, code_id, round(min(score, 0.99), 4),
                                              "keywords: " + reasons, RULE_ORIGIN))
        return sorted(suggestions, key=lambda s: (s.start, s.code))


def _unit_at(units, token):
    for unit in units:
        if unit.token_start <= token < unit.token_end:
            return unit
    return None
