"""Suggestion quality against a coder: precision, recall, F1, Cohen's kappa, Krippendorff's alpha
and % agreement per code and overall, over units (sentences or turns). Plain arrays in,
DataFrame out."""

import numpy as np
import pandas as pd

from .agreement import krippendorff_alpha

COLUMNS = ["suggester", "code", "units", "support", "predicted", "tp", "fp", "fn", "tn",
           "precision", "recall", "f1", "kappa", "alpha", "agreement"]


def binary_metrics(truth, predicted):
    """Counts, precision, recall, F1 and Cohen's kappa for two 0/1 vectors of equal length."""
    from sklearn.metrics import cohen_kappa_score

    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    fn = int(np.sum(truth & ~predicted))
    tn = int(np.sum(~truth & ~predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if truth.all() == predicted.all() and len(set(truth)) == 1 and len(set(predicted)) == 1:
        kappa = 1.0 if (truth == predicted).all() else 0.0  # no variation: kappa undefined
    else:
        kappa = float(cohen_kappa_score(truth, predicted))
    # The same alpha as `coding agreement`, so a suggester is measured like a second coder.
    alpha = krippendorff_alpha(np.vstack([truth, predicted]).astype(float)) if len(truth) \
        else float("nan")
    return {"units": len(truth), "support": tp + fn, "predicted": tp + fp, "tp": tp, "fp": fp,
            "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1,
            "kappa": kappa, "alpha": alpha,
            "agreement": (tp + tn) / len(truth) if len(truth) else float("nan")}


def evaluation_table(truth, predictions, codes):
    """truth: (units x codes) 0/1; predictions: {suggester: (units x codes) 0/1}.

    One row per suggester and code, plus an 'ALL' row per suggester pooling every unit x code
    decision (micro-averaged precision/recall/F1, kappa over the pooled decisions).
    """
    rows = []
    for name, predicted in predictions.items():
        for j, code in enumerate(codes):
            rows.append({"suggester": name, "code": code,
                         **binary_metrics(truth[:, j], predicted[:, j])})
        rows.append({"suggester": name, "code": "ALL",
                     **binary_metrics(truth.ravel(), predicted.ravel())})
    return pd.DataFrame(rows, columns=COLUMNS)


def overlaps(unit_start, unit_end, start, end):
    """A coding labels a unit when they share at least half of the shorter of the two."""
    shared = min(unit_end, end) - max(unit_start, start)
    return shared > 0 and shared >= 0.5 * min(unit_end - unit_start, end - start)
