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
DERIVED_ORIGIN = "rule:derived"  # terms taken from a code's name, definition and inclusion
# A derived term is weaker evidence than a keyword someone chose: a word of the code's name
# weighs more than one of its definition; a term that several codes' texts share says little.
DERIVED_WEIGHT = {"name": 0.35, "definition": 0.2, "inclusion": 0.2}
SHARED_BY = 0.2  # a term in more than this share of the codes' texts (and of 2) is dropped
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

    def __init__(self, unit="sentence", roles=(PARTICIPANT,), derive=True):
        self.unit = unit
        self.roles = roles
        self.derive = derive  # codes without keywords get terms from their own text
        self.off = set()  # codes whose suggestions are switched off

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
        self.derived_ = derived_terms(codebook, nlp) if self.derive else {}
        derived = [(code_id, term, weight, source) for code_id, terms in self.derived_.items()
                   for term, (weight, source) in terms.items()]
        for (code_id, term, weight, source), doc in zip(
                derived, nlp.pipe(term for _, term, _, _ in derived)):
            label = f"{code_id}\x1f{term}\x1fderived"
            self.phrases_[label] = (code_id, f"{term}\x1f{source}", weight)
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
                if code_id in self.off:
                    continue
                items.sort(key=lambda item: (-item[0], item[1]))
                score = 1 - math.prod(1 - weight for weight, _, _ in items)
                listed = [(phrase, shown) for _, phrase, shown in items if "\x1f" not in phrase]
                derived = [(*phrase.split("\x1f"), shown) for _, phrase, shown in items
                           if "\x1f" in phrase]
                reasons = []
                if listed:
                    reasons.append("keywords: " + ", ".join(
                        f'"{phrase}"' + (f' ("{shown}")' if shown.lower() != phrase else "")
                        for phrase, shown in listed))
                if derived:
                    reasons.append("words of the code's own " + ", ".join(
                        f'{source} "{term}"' + (f' ("{shown}")' if shown.lower() != term
                                                else "") for term, source, shown in derived)
                        + " (derived: the code has no keywords)")
                origin = RULE_ORIGIN if listed else DERIVED_ORIGIN
                suggestions.append(Suggestion(start, end, code_id, round(min(score, 0.99), 4),
                                              "; ".join(reasons), origin))
        return sorted(suggestions, key=lambda s: (s.start, s.code))


def _unit_at(units, token):
    for unit in units:
        if unit.token_start <= token < unit.token_end:
            return unit
    return None


def derived_terms(codebook, nlp):
    """{code id: {lemma: (weight, where it came from)}} for each code with no keywords and no
    patterns: the content lemmas of its name, definition and inclusion text (no stop words,
    numbers or one-letter words), minus lemmas that the texts of many codes share."""
    bare = [code for code in codebook.codes if not code.keywords and not code.patterns]
    if not bare:
        return {}
    found = {}
    for code in codebook.codes:
        terms = {}
        for source in ("inclusion", "definition", "name"):  # the name's weight wins
            text = code.name.replace("_", " ") if source == "name" else getattr(code, source)
            for token in nlp(text or ""):
                lemma = token.lemma_.lower()
                if token.is_alpha and not token.is_stop and len(lemma) > 2:
                    terms[lemma] = (DERIVED_WEIGHT[source], source)
        found[code.id] = terms
    sharing = defaultdict(int)
    for terms in found.values():
        for lemma in terms:
            sharing[lemma] += 1
    limit = max(2, SHARED_BY * len(codebook.codes))
    return {code.id: {lemma: value for lemma, value in found[code.id].items()
                      if sharing[lemma] <= limit} for code in bare}