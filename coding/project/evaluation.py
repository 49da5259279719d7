"""How good suggestions are against a coder: every suggester (rules, the TF-IDF model, the
semantic suggester) and the default combination `coding suggest` uses, cross-validated by
document, per code and pooled (micro and macro), beside a baseline that looks for the words of
each code's name; and the learning curve (F1 after 1, 2, 4, 8... coded documents).

Mixed into Project (core.py).
"""

import numpy as np
import pandas as pd

from ..analysis.evaluation import evaluation_table
from ..errors import StoreError
from ..suggestions.calibration import calibrate, threshold_of
from ..suggestions.combination import WEIGHTS
from ..suggestions.crossval import (Labelled, fit_learners, out_of_fold_scores, score_matrix,
                                    unit_vectors_of)
from ..suggestions.pipeline import analyse, load_pipeline
from ..suggestions.rules import KeywordSuggester
from .suggestions import _calibrations

SUGGESTERS = ("rules", "model", "semantic", "default", "names")


class EvaluationUseCases:
    """Methods of Project (self.labelled_units, self.codebook, self._documents_with_turns)."""

    def evaluate(self, coder, folds=5, unit="sentence", min_score=None, curve=False,
                 fully_coded=False):
        """Cross-validated quality of each suggester against `coder`'s codings: a DataFrame
        (analysis.evaluation_table's columns) with a row per suggester and code, an 'ALL' row
        (micro: every unit x code decision pooled) and a 'MACRO' row (the mean over codes the
        coder used) per suggester. Suggesters: rules; model; semantic; default (rules, plus
        the mean of model and semantic above each code's threshold, calibrated on the
        training folds as `coding train` does, or `min_score`; the rules of listed keywords
        and patterns, not the derived ones, as `coding suggest` once trained on decisions); names (the baseline: a unit
        has a code when it holds a word of the code's name).

        With `fully_coded`, only the documents `coder` marked fully coded (where every passage
        they did not code is a known miss, so recall and kappa are exact).

        With `curve`, a second DataFrame: the default's micro and macro F1 after training on
        1, 2, 4, 8... documents (documents, units, f1_micro, f1_macro, repeats)."""
        data, rules, listed, names = self._evaluation_data(coder, unit, fully_coded)
        groups = sorted(set(data.groups))
        if len(groups) < 2:
            raise StoreError(f"coder '{coder}' coded {len(groups)} document(s); "
                             "cross-validation needs at least 2")
        codebook = self.codebook()
        vectors = unit_vectors_of(data, unit)
        scores = out_of_fold_scores(codebook, data, unit, folds, vectors=vectors)
        mean = _mean(scores, slice(None))
        default = np.zeros(data.truth.shape, bool)
        from sklearn.model_selection import GroupKFold

        for train, test in GroupKFold(n_splits=min(folds, len(groups))).split(
                data.truth, groups=data.groups):
            default[test] = mean[test] >= self._thresholds(codebook, data, train, unit,
                                                            min_score)
        shared = min_score if min_score is not None else 0.4
        predictions = {"rules": rules, "model": scores["model"] >= shared,
                       "semantic": scores["semantic"] >= shared, "default": default | listed,
                       "names": names}
        table = with_macro(evaluation_table(data.truth, predictions, data.codes))
        if not curve:
            return table
        # the curve's thresholds: one calibration on every out-of-fold score (training one
        # per draw and size would take minutes)
        thresholds = np.full(len(data.codes), float(min_score)) if min_score is not None else \
            np.array([threshold_of(calibrate(mean, data.truth, data.codes), code)
                      for code in data.codes])
        return table, self._curve(codebook, data, unit, vectors, thresholds, listed)

    def _evaluation_data(self, coder, unit, fully_coded=False):
        """The coder's labelled units (only the codes they used), and on them the
        predictions of the rules (derived terms included), of the rules from listed keywords
        and patterns only (what the default adds once the learners learned from decisions),
        and of the names baseline."""
        documents = None
        if fully_coded:
            documents = self.fully_coded_ids(coder)
            if len(documents) < 2:
                raise StoreError(f"coder '{coder}' marked {len(documents)} document(s) fully "
                                 "coded; evaluating on them needs at least 2")
        data = self.labelled_units(unit, coder=coder, documents=documents)
        used = [j for j in range(len(data.codes)) if data.truth[:, j].any()]  # as coded
        data = Labelled([data.codes[j] for j in used], data.texts, data.lemmas, data.groups,
                        data.truth[:, used], contexts=data.contexts)
        if not data.truth.any():
            raise StoreError(f"coder '{coder}' has no accepted or manual codings to evaluate "
                             "against")
        codebook = self.codebook()
        rules, listed, names = (np.zeros(data.truth.shape, bool) for _ in range(3))
        column = {code: j for j, code in enumerate(data.codes)}
        suggester = KeywordSuggester(unit).fit(codebook)
        words = _name_lemmas(codebook)
        row = 0
        with self.store.reading() as session:
            documents = self._documents_with_turns(session, set(data.groups))
        for doc_id, _, text, turns in sorted(documents, key=lambda d: d[0]):
            analysed = list(analyse(text, turns, unit))
            index = {}
            for _, units in analysed:
                for u in units:
                    index[(u.start, u.end)] = row
                    found = {lemma.lower() for lemma in u.lemmas}
                    for code, lemmas in words.items():
                        if code in column and lemmas & found:
                            names[row, column[code]] = True
                    row += 1
            for s in suggester.suggest_analysed(analysed, text):
                if s.code in column:
                    rules[index[(s.start, s.end)], column[s.code]] = True
                    listed[index[(s.start, s.end)], column[s.code]] |= \
                        "keywords" in s.origin
        return data, rules, listed, names

    def _thresholds(self, codebook, data, train, unit, min_score):
        """Per code, the default's threshold from the training rows alone (inner folds)."""
        if min_score is not None:
            return np.full(len(data.codes), float(min_score))
        inner = Labelled(data.codes, [data.texts[i] for i in train],
                         [data.lemmas[i] for i in train], [data.groups[i] for i in train],
                         data.truth[train], contexts=[data.contexts[i] for i in train])
        if len(set(inner.groups)) < 2:
            return np.full(len(data.codes), 0.4)
        calibration = _calibrations(codebook, inner, unit, None)["model+semantic"]  # as train
        return np.array([threshold_of(calibration, code) for code in data.codes])

    def _curve(self, codebook, data, unit, vectors, thresholds, rules, repeats=3):
        """The default's F1 on held-out documents after training on n = 1, 2, 4... of the
        others (random draws, `repeats` each, seeded), as a DataFrame."""
        groups = sorted(set(data.groups))
        rng = np.random.default_rng(0)
        rows = []
        sizes = [n for n in (2 ** k for k in range(10)) if n < len(groups)]
        for n in sizes:
            micro, macro, used = [], [], []
            for _ in range(repeats):
                order = list(rng.permutation(groups))
                chosen, held = set(order[:n]), set(order[n:])
                train = [i for i, g in enumerate(data.groups) if g in chosen]
                test = [i for i, g in enumerate(data.groups) if g in held]
                fitted = fit_learners(codebook, data, train, unit)
                mean = sum(WEIGHTS[name] * score_matrix(learner, data, test, vectors)
                           for name, learner in fitted.items()) / sum(WEIGHTS.values())
                predicted = (mean >= thresholds) | rules[test]
                table = with_macro(evaluation_table(data.truth[test], {"default": predicted},
                                                    data.codes))
                micro.append(float(table.loc[table["code"] == "ALL", "f1"].iloc[0]))
                macro.append(float(table.loc[table["code"] == "MACRO", "f1"].iloc[0]))
                used.append(len(train))
            rows.append({"documents": n, "units": int(np.mean(used)),
                         "f1_micro": float(np.mean(micro)), "f1_macro": float(np.mean(macro)),
                         "repeats": repeats})
        return pd.DataFrame(rows, columns=["documents", "units", "f1_micro", "f1_macro",
                                           "repeats"])


def _mean(scores, rows):
    return sum(WEIGHTS[name] * scores[name][rows] for name in WEIGHTS) / sum(WEIGHTS.values())


def with_macro(table):
    """An evaluation table with a 'MACRO' row per suggester: precision, recall, F1, kappa and
    alpha averaged over the codes with at least one coded unit."""
    rows = []
    for name, part in table.groupby("suggester", sort=False):
        codes = part[(part["code"] != "ALL") & (part["support"] > 0)]
        macro = {"suggester": name, "code": "MACRO"}
        for column in ("units", "support", "predicted", "tp", "fp", "fn", "tn"):
            macro[column] = int(codes[column].sum())
        for column in ("precision", "recall", "f1", "kappa", "alpha", "agreement"):
            macro[column] = float(codes[column].mean()) if len(codes) else float("nan")
        rows.append(pd.concat([part, pd.DataFrame([macro])], ignore_index=True))
    return pd.concat(rows, ignore_index=True)[table.columns]


def _name_lemmas(codebook):
    """{code id: the content lemmas of its name}, for the names baseline."""
    nlp = load_pipeline()
    return {code.id: {t.lemma_.lower() for t in nlp(code.name.replace("_", " "))
                      if t.is_alpha and not t.is_stop}
            for code in codebook.codes}
