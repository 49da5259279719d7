"""The learning suggesters together: the TF-IDF model and the semantic suggester score the same
units, their scores are averaged (weights chosen by evaluation), and each code's calibrated
threshold (calibration.py) decides what is suggested. One learner alone works the same way with
its own thresholds. Pure over plain records; rules stay separate (their evidence is shown as
such) and `store_suggestions` merges theirs with these on the same span and code.
"""

import numpy as np

from ..records import Suggestion
from .calibration import threshold_of
from .suggester import DEFAULT_MIN_SCORE
from .semantic import unit_texts

# Averaging beat either learner alone on the sample study's gold (turns: model 0.339, semantic
# 0.380, mean 0.376-0.388 at 0.4; sentences: 0.172, 0.168, 0.188): README "Suggestion quality".
WEIGHTS = {"model": 0.5, "semantic": 0.5}


def combined_name(learners):
    """What the suggesters in use are called in evaluation and calibration: 'model',
    'semantic', or 'model+semantic' (the learning half of the default)."""
    return "+".join(name for name in WEIGHTS if name in learners)


class LearnedSuggester:
    """`learners`: {"model": TfidfSuggester, "semantic": SemanticSuggester} (one or both,
    fitted); `calibration`: calibration.calibrate's result for this combination, or None
    (every code then uses `min_score`)."""

    def __init__(self, learners, calibration=None, min_score=DEFAULT_MIN_SCORE, codes=None):
        self.learners = dict(learners)
        self.calibration = calibration
        self.min_score = min_score
        self.off = set()  # codes whose suggestions are switched off
        known = [set(learner.codes_) for learner in self.learners.values()]
        self.codes_ = [c for c in (codes or sorted(set().union(*known))) if
                       any(c in k for k in known)]
        self.origin_ = "+".join(self.learners[name].origin_ for name in WEIGHTS
                                if name in self.learners)
        self.name = combined_name(self.learners)

    def thresholds(self):
        return np.array([threshold_of(self.calibration, code, self.min_score)
                         for code in self.codes_])

    def score(self, matrix, vectors, units):
        """(n_units, n_codes) combined scores, columns in `codes_` order, and the parts.
        `matrix`: the model's TF-IDF rows of the units; `vectors`: their word vectors."""
        parts = {}
        for name, learner in self.learners.items():
            found = learner.score_matrix(matrix) if name == "model" else \
                learner.score_vectors(vectors)
            column = {code: k for k, code in enumerate(learner.codes_)}
            parts[name] = np.stack([found[:, column[c]] if c in column else
                                    np.zeros(units) for c in self.codes_], axis=1) \
                if self.codes_ else np.zeros((units, 0))
        total = sum(WEIGHTS[name] for name in parts)
        combined = sum(WEIGHTS[name] * scores for name, scores in parts.items()) / total
        return combined, parts

    def suggest_analysed(self, analysed, text):
        units = [unit for _, units in analysed for unit in units]
        if not units or not self.codes_:
            return []
        vectors = self.learners["semantic"].vectors(*unit_texts(analysed, text)) \
            if "semantic" in self.learners else None
        matrix = self.learners["model"].transform([u.lemmas for u in units]) \
            if "model" in self.learners else None
        combined, parts = self.score(matrix, vectors, len(units))
        chosen = combined >= self.thresholds()
        chosen[:, [k for k, c in enumerate(self.codes_) if c in self.off]] = False
        suggestions = []
        for row, col in zip(*np.nonzero(chosen)):
            code = self.codes_[col]
            suggestions.append(Suggestion(
                units[row].start, units[row].end, code, round(float(combined[row, col]), 4),
                self._rationale(matrix, vectors, row, code, parts, col), self.origin_))
        return sorted(suggestions, key=lambda s: (s.start, s.code))

    def _rationale(self, matrix, vectors, row, code, parts, col):
        said = []
        if "model" in self.learners:
            model = self.learners["model"]
            k = model.codes_.index(code) if code in model.codes_ else None
            if k is not None:
                said.append(model.rationale(matrix, row, k) +
                            f" [{parts['model'][row, col]:.2f}]")
        if "semantic" in self.learners:
            said.append(self.learners["semantic"].rationale(vectors[row], code) +
                        f" [{parts['semantic'][row, col]:.2f}]")
        return "; ".join(said)
