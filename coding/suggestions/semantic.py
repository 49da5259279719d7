"""A suggester that knows meaning: a logistic regression per code over static word vectors
(vectors.py) of whole units, learned from confirmed units plus the codebook's own text (each
code's name, definition clauses, inclusion text and examples, weighted), with every other unit
a negative. Before anyone has coded, the codebook's text alone trains it (cold start).

TF-IDF cannot know that "she just listened to me" is about relationships when no coded example
used those words; vectors of similar words lie close. Pure over plain records (suggester.py);
its state is plain data.
"""

import hashlib
import json
import re

import numpy as np

from ..errors import SuggesterError
from ..records import PARTICIPANT, Suggestion
from .per_code import fit_per_code
from .pipeline import analyse
from .suggester import DEFAULT_MIN_SCORE
from .vectors import DIMENSIONS, VECTORS, embed, fingerprint, normalise, token_sums

SEMANTIC_NAME = "semantic-logreg"
SEMANTIC_FORMAT = 1
# Chosen by `coding evaluate` on the sample study's gold (README, "Suggestion quality"): turn
# F1 0.33-0.38 for C = 3-10 against 0.28-0.36 for C = 1; a codebook text counts half a coded
# unit, as TECH-NOTES section 7 measured (0.25-1.0 within 0.01 of each other).
DEFAULT_C = 3.0
CODEBOOK_WEIGHT = 0.5
# A sentence is read with its turn: its vector plus the turn's (weight 1), normalised. On the
# sample study's sentences the default went from F1 0.186 to 0.211 (weights 0.3-2.5: 0.187-0.211).
CONTEXT_WEIGHT = 1.0


def unit_vectors(texts, contexts=None, weight=CONTEXT_WEIGHT):
    """Each unit's vector, with its context's (the turn around a sentence) added at `weight`
    and normalised. A context's vector is the sum of its units' token vectors (the units of
    one turn share the same context text), so no turn is read twice."""
    sums = token_sums(texts)
    vectors = normalise(sums)
    if contexts is None or not weight:
        return vectors
    groups = {}
    for i, context in enumerate(contexts):
        groups.setdefault(context, []).append(i)
    around = np.zeros_like(sums)
    for members in groups.values():
        around[members] = sums[members].sum(axis=0)
    return normalise(vectors + weight * normalise(around))


class SemanticSuggester:
    """Per code, a class-weighted logistic regression on unit vectors.

    `fit(codebook, examples)`: examples are (unit text, positive code ids, negative code ids).
    The learned state is plain data (coefficients, the codebook texts for rationales) with a
    version hash of the training data and parameters; never pickled.
    """

    def __init__(self, unit="sentence", roles=(PARTICIPANT,), C=DEFAULT_C,
                 min_score=DEFAULT_MIN_SCORE, codebook_weight=CODEBOOK_WEIGHT):
        self.unit = unit
        self.roles = roles
        self.C = C
        self.min_score = min_score
        self.codebook_weight = codebook_weight

    def params(self):
        return {"unit": self.unit, "C": self.C, "codebook_weight": self.codebook_weight,
                "vectors": VECTORS, "context_weight": self.context_weight}

    @property
    def context_weight(self):
        """A turn is its own context; a sentence is read with its turn."""
        return CONTEXT_WEIGHT if self.unit == "sentence" else 0.0

    def vectors(self, texts, contexts=None):
        """The units' vectors as this suggester reads them (with their turns' when given)."""
        if contexts is not None and any(c is None for c in contexts):
            contexts = None
        return unit_vectors(texts, contexts, self.context_weight)

    def fit(self, codebook, examples=None, contexts=None):
        """`contexts`: the turn around each example unit (sentence units), or None."""
        examples = list(examples or ())
        contexts = list(contexts) if contexts is not None else [None] * len(examples)
        kept = [(text, frozenset(pos), context) for (text, pos, _), context
                in zip(examples, contexts) if text.strip()]
        described = codebook_sentences(codebook)
        rows = [(text, pos, 1.0) for text, pos, _ in kept] + \
               [(text, frozenset([code_id]), self.codebook_weight) for code_id, text in described]
        if not rows:
            raise SuggesterError("SemanticSuggester: nothing to learn from (no codings and no "
                                 "codebook names, definitions or examples)")
        matrix = np.vstack([self.vectors([t for t, _, _ in kept], [c for _, _, c in kept]),
                            embed([text for _, text in described])])
        codes, coef, intercept, skipped = fit_per_code(matrix, rows, codebook, self.C)
        coef = [c.tolist() for c in coef]
        digest = hashlib.sha256(json.dumps(
            [self.params(), fingerprint(), sorted((t, sorted(p), w) for t, p, w in rows),
             sorted(c or "" for _, _, c in kept)], sort_keys=True).encode()).hexdigest()[:12]
        self._set_state({
            "format": SEMANTIC_FORMAT, "name": SEMANTIC_NAME, "version": digest,
            "params": self.params(), "codes": codes, "skipped_codes": skipped, "coef": coef,
            "intercept": intercept, "described": [list(item) for item in described],
            "trained_on": {"units": len(kept), "codebook_texts": len(described)}})
        return self

    def _set_state(self, state):
        self.state_ = state
        self.version_ = state["version"]
        self.origin_ = f"semantic:{state['name']}@{state['version']}"
        self.codes_ = list(state["codes"])
        self.coef_ = np.array(state["coef"], dtype=np.float32).reshape(len(self.codes_),
                                                                       DIMENSIONS)
        self.intercept_ = np.array(state["intercept"], dtype=np.float32)
        self.described_ = [(code_id, text) for code_id, text in state["described"]]

    def to_state(self):
        if not hasattr(self, "state_"):
            raise SuggesterError("SemanticSuggester: call fit() before saving")
        return self.state_

    @classmethod
    def from_state(cls, state, **params):
        if state.get("format") != SEMANTIC_FORMAT:
            raise SuggesterError(f"saved semantic model has format {state.get('format')!r}; "
                                 f"this version reads {SEMANTIC_FORMAT}; retrain with `coding "
                                 "train`")
        p = state["params"]
        suggester = cls(**{"unit": p["unit"], "C": p["C"],
                           "codebook_weight": p["codebook_weight"], **params})
        suggester._set_state(state)
        return suggester

    def score_vectors(self, vectors):
        """(n_units, n_codes) probabilities from unit vectors, columns in `codes_` order."""
        if not hasattr(self, "state_"):
            raise SuggesterError("SemanticSuggester: call fit() before suggest()")
        if not len(vectors) or not self.codes_:
            return np.zeros((len(vectors), len(self.codes_)))
        from scipy.special import expit

        return expit(vectors @ self.coef_.T + self.intercept_)

    def score_texts(self, texts, contexts=None):
        return self.score_vectors(self.vectors(texts, contexts))

    def suggest(self, text, turns):
        return self.suggest_analysed(list(analyse(text, turns, self.unit, self.roles)), text)

    def suggest_analysed(self, analysed, text):
        units = [unit for _, units in analysed for unit in units]
        vectors = self.vectors(*unit_texts(analysed, text))
        scores = self.score_vectors(vectors)
        return [Suggestion(units[row].start, units[row].end, self.codes_[col],
                           round(float(scores[row, col]), 4),
                           self.rationale(vectors[row], self.codes_[col]), self.origin_)
                for row, col in zip(*np.nonzero(scores >= self.min_score))]

    def rationale(self, vector, code_id):
        """'meaning: close to its definition "…" (0.61)': the code's own text nearest the unit."""
        if not hasattr(self, "described_vectors_"):
            self.described_vectors_ = embed([text for _, text in self.described_])
        mine = [i for i, (code, _) in enumerate(self.described_) if code == code_id]
        if not mine:
            return "meaning: like the units coded so"
        similarity = self.described_vectors_[mine] @ vector
        best = int(np.argmax(similarity))
        shown = self.described_[mine[best]][1]
        shown = shown if len(shown) <= 80 else shown[:77].rsplit(" ", 1)[0] + "…"
        return f'meaning: close to the code\'s "{shown}" ({float(similarity[best]):.2f})'


def codebook_sentences(codebook):
    """(code id, text) from each code's name, its definition and inclusion text cut into
    clauses, and its examples: what the codebook says a code means."""
    items = []
    for code in codebook.codes:
        texts = [code.name, *_clauses(code.definition), *_clauses(code.inclusion),
                 *code.examples]
        items += [(code.id, text.strip()) for text in texts if text and text.strip()]
    return items


def _clauses(text):
    """A definition's sentences and semicolon clauses, each a text of its own."""
    return [part for part in re.split(r"(?<=[.;:!?])\s+|\n+", text or "") if len(part) > 3]


def unit_texts(analysed, text):
    """([unit text], [its turn's text]) of pipeline.analyse's output."""
    texts, contexts = [], []
    for _, units in analysed:
        if units:  # the turn's words, from the text (Doc.text would rebuild it token by token)
            around = text[units[0].start:units[-1].end]
            texts += [text[u.start:u.end] for u in units]
            contexts += [around] * len(units)
    return texts, contexts
