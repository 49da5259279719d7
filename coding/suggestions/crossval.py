"""Out-of-fold scores: each unit scored by suggesters trained without its document. What both
evaluation (how good would suggestions have been) and calibration (which score threshold makes
the best suggestions for this project) are computed from. Pure: labelled units in, arrays out.
"""

from dataclasses import dataclass

import numpy as np

from .semantic import SemanticSuggester
from .tfidf import TfidfSuggester

LEARNERS = ("model", "semantic")


@dataclass
class Labelled:
    """Units with what a coder decided: `texts` and `lemmas` per unit, `groups` its document,
    `truth` (units x codes) True where the unit has the code, `rejected` (units x codes) True
    where a suggestion of the code was rejected there."""

    codes: list
    texts: list
    lemmas: list
    groups: list
    truth: np.ndarray
    rejected: np.ndarray | None = None
    contexts: list | None = None  # the turn around each unit (for sentence units)

    def examples(self, rows, text=False):
        """Training examples of the suggesters for these rows: (lemmas or text, positive code
        ids, negative code ids)."""
        rejected = self.rejected if self.rejected is not None else np.zeros_like(self.truth)
        return [(self.texts[i] if text else self.lemmas[i],
                 {self.codes[j] for j in np.flatnonzero(self.truth[i])},
                 {self.codes[j] for j in np.flatnonzero(rejected[i])}) for i in rows]


def fit_learners(codebook, data, rows, unit, which=LEARNERS, C=None):
    """The learning suggesters trained on `rows` of `data` (plus the codebook)."""
    fitted = {}
    if "model" in which:
        fitted["model"] = TfidfSuggester(unit=unit, **({"C": C} if C else {})).fit(
            codebook, data.examples(rows))
    if "semantic" in which:
        fitted["semantic"] = SemanticSuggester(unit=unit).fit(
            codebook, data.examples(rows, text=True),
            [data.contexts[i] for i in rows] if data.contexts is not None else None)
    return fitted


def score_matrix(suggester, data, rows, vectors=None):
    """(len(rows) x len(data.codes)) scores of a fitted suggester, columns in data.codes order
    (0 for a code it does not know)."""
    column = {code: j for j, code in enumerate(data.codes)}
    out = np.zeros((len(rows), len(data.codes)))
    if isinstance(suggester, SemanticSuggester):
        found = suggester.score_vectors(vectors[rows] if vectors is not None
                                        else unit_vectors_of(data, unit=suggester.unit)[rows])
    else:
        found = suggester.score_units([data.lemmas[i] for i in rows])
    for k, code in enumerate(suggester.codes_):
        if code in column:
            out[:, column[code]] = found[:, k]
    return out


def out_of_fold_scores(codebook, data, unit, folds=5, which=LEARNERS, vectors=None):
    """{learner: (units x codes) scores}, each unit scored by a learner trained on the other
    folds' documents (GroupKFold by document). `vectors` (the units' vectors, when known)
    saves embedding them again."""
    from sklearn.model_selection import GroupKFold

    if "semantic" in which and vectors is None:
        vectors = unit_vectors_of(data, unit)
    scores = {name: np.zeros(data.truth.shape) for name in which}
    splits = min(folds, len(set(data.groups)))
    for train, test in GroupKFold(n_splits=splits).split(data.truth, groups=data.groups):
        for name, learner in fit_learners(codebook, data, train, unit, which).items():
            scores[name][test] = score_matrix(learner, data, test, vectors)
    return scores


def unit_vectors_of(data, unit):
    """The vectors the semantic suggester reads for `data`'s units (sentences with their
    turns)."""
    return SemanticSuggester(unit=unit).vectors(data.texts, data.contexts)
