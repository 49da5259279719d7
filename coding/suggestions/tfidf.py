"""A learning suggester: TF-IDF of content lemmas and a logistic regression per code
(scikit-learn), learned from confirmed codings or, before any, from the codebook's own text.
Pure over plain records (see suggester.py for the contract); its state is plain data.
"""

import hashlib
import json

import numpy as np

from ..errors import SuggesterError
from ..records import PARTICIPANT, Suggestion
from .per_code import fit_per_code
from .pipeline import analyse, content_lemmas, load_pipeline
from .suggester import DEFAULT_MIN_SCORE

MODEL_NAME = "tfidf-logreg"
MODEL_FORMAT = 1
# Chosen by `coding evaluate` on the sample study's gold codings (README, "Suggestion quality").
DEFAULT_C = 1.0


class TfidfSuggester:
    """A one-vs-rest, class-weighted logistic regression per code over TF-IDF of content
    lemmas (unigrams and bigrams). Learns from labelled units; with none, from the codebook's
    examples, keywords and definitions (cold start).

    The learned state is plain data (vocabulary, idf, coefficients) with a version hash of the
    training data and parameters; `to_state()` / `from_state()` save and load it, never pickle.
    """

    def __init__(self, unit="sentence", roles=(PARTICIPANT,), C=DEFAULT_C,
                 min_score=DEFAULT_MIN_SCORE,
                 ngram_range=(1, 2), codebook_weight=1.0):
        self.unit = unit
        self.roles = roles
        self.C = C
        self.min_score = min_score
        self.ngram_range = tuple(ngram_range)
        self.codebook_weight = codebook_weight

    def params(self):
        return {"unit": self.unit, "C": self.C, "ngram_range": list(self.ngram_range),
                "codebook_weight": self.codebook_weight}

    def fit(self, codebook, examples=None):
        """`examples`: (lemmas, positive code ids, negative code ids) per training unit;
        units are negatives for every code they are not positive for."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        rows = [(" ".join(lemmas), frozenset(pos), 1.0) for lemmas, pos, _ in examples or ()]
        rows += [(text, frozenset([code_id]), self.codebook_weight)
                 for code_id, text in codebook_texts(codebook)]
        rows = [row for row in rows if row[0].strip()]
        if not rows:
            raise SuggesterError("TfidfSuggester: nothing to learn from (no codings and no "
                                 "codebook examples, keywords or definitions)")
        vectorizer = TfidfVectorizer(token_pattern=r"[^ ]+", lowercase=False,
                                     ngram_range=self.ngram_range, sublinear_tf=True)
        matrix = vectorizer.fit_transform([text for text, _, _ in rows])
        codes, coef, intercept, skipped = fit_per_code(matrix, rows, codebook, self.C)
        digest = hashlib.sha256(json.dumps(
            [self.params(), sorted((text, sorted(pos), w) for text, pos, w in rows)],
            sort_keys=True).encode()).hexdigest()[:12]
        self._set_state({
            "format": MODEL_FORMAT, "name": MODEL_NAME, "version": digest,
            "params": self.params(), "codes": codes, "skipped_codes": skipped,
            "vocabulary": {term: int(i) for term, i in vectorizer.vocabulary_.items()},
            "idf": vectorizer.idf_.tolist(), "coef": np.array(coef).tolist(),
            "intercept": intercept, "trained_on": {"units": len(examples or ()),
                                                   "codebook_texts": len(rows) - len(
                                                       [r for r in examples or () if r[0]])}})
        return self

    def _set_state(self, state):
        from sklearn.feature_extraction.text import CountVectorizer

        self.state_ = state
        self.version_ = state["version"]
        self.origin_ = f"model:{state['name']}@{state['version']}"
        self.codes_ = list(state["codes"])
        self.counter_ = CountVectorizer(token_pattern=r"[^ ]+", lowercase=False,
                                        ngram_range=tuple(state["params"]["ngram_range"]),
                                        vocabulary=state["vocabulary"])
        self.idf_ = np.array(state["idf"])
        self.coef_ = np.array(state["coef"]).reshape(len(self.codes_), len(self.idf_))
        self.intercept_ = np.array(state["intercept"])
        self.terms_ = np.array(sorted(state["vocabulary"], key=state["vocabulary"].get))

    def to_state(self):
        if not hasattr(self, "state_"):
            raise SuggesterError("TfidfSuggester: call fit() before saving")
        return self.state_

    @classmethod
    def from_state(cls, state, **params):
        if state.get("format") != MODEL_FORMAT:
            raise SuggesterError(f"saved model has format {state.get('format')!r}; this "
                                 f"version reads {MODEL_FORMAT}; retrain with `coding train`")
        suggester = cls(**{"unit": state["params"]["unit"], "C": state["params"]["C"],
                           "ngram_range": state["params"]["ngram_range"], **params})
        suggester._set_state(state)
        return suggester

    def transform(self, lemma_lists):
        """TF-IDF rows (sublinear tf, l2-normalised), as scikit-learn's TfidfVectorizer."""
        from sklearn.preprocessing import normalize

        counts = self.counter_.transform([" ".join(lemmas) for lemmas in lemma_lists])
        counts = counts.astype(float)
        counts.data = np.log(counts.data) + 1.0
        return normalize(counts.multiply(self.idf_).tocsr())

    def score_units(self, lemma_lists):
        """(n_units, n_codes) probabilities, columns in `codes_` order."""
        if not hasattr(self, "state_"):
            raise SuggesterError("TfidfSuggester: call fit() before suggest()")
        if not len(lemma_lists) or not self.codes_:
            return np.zeros((len(lemma_lists), len(self.codes_)))
        return self.score_matrix(self.transform(lemma_lists))

    def score_matrix(self, matrix):
        """Probabilities from TF-IDF rows (`transform`'s), columns in `codes_` order."""
        from scipy.special import expit  # imported when scoring, not with the package

        return expit(matrix @ self.coef_.T + self.intercept_)

    def suggest(self, text, turns):
        return self.suggest_analysed(list(analyse(text, turns, self.unit, self.roles)), text)

    def suggest_analysed(self, analysed, text=None):
        units = [unit for _, units in analysed for unit in units]
        scores = self.score_units([unit.lemmas for unit in units])
        if not units or not self.codes_:
            return []
        matrix = self.transform([unit.lemmas for unit in units])
        suggestions = []
        for row, col in zip(*np.nonzero(scores >= self.min_score)):
            unit = units[row]
            suggestions.append(Suggestion(unit.start, unit.end, self.codes_[col],
                                          round(float(scores[row, col]), 4),
                                          self._rationale(matrix, row, col), self.origin_))
        return sorted(suggestions, key=lambda s: (s.start, s.code))

    def rationale(self, matrix, row, col):
        """The rationale of code column `col` for row `row` of TF-IDF rows `matrix`."""
        return self._rationale(matrix, row, col)

    def _rationale(self, matrix, row, col):
        features = matrix[row]
        contributions = features.data * self.coef_[col, features.indices]
        order = np.argsort(-contributions)[:3]
        shown = [f'"{self.terms_[features.indices[i]]}" ({contributions[i]:+.2f})'
                 for i in order if contributions[i] > 0]
        return "model: " + (", ".join(shown) if shown else "no strong features")


def codebook_texts(codebook):
    """(code id, lemma text) pseudo-units from each code's examples, keywords and definition:
    what a model learns from before anyone has coded."""
    nlp = load_pipeline()
    items = []
    for code in codebook.codes:
        for text in (*code.examples, " ; ".join(code.keywords), code.definition):
            if text.strip():
                items.append((code.id, text))
    docs = nlp.pipe(text for _, text in items)
    return [(code_id, " ".join(content_lemmas(doc))) for (code_id, _), doc in zip(items, docs)]
