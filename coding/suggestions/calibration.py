"""Score thresholds chosen from a project's own decisions: for each code, the threshold whose
suggestions would have had the best F1 (or the most recall at a precision the user asks for),
measured on out-of-fold scores (crossval.py). A code with few coded units shares one threshold,
chosen over all such codes together: a threshold of its own needs many positives to beat the
shared one. Pure: arrays in, plain data out."""

import numpy as np

from .suggester import DEFAULT_MIN_SCORE

# Coded units a code needs for a threshold of its own. Measured with `coding evaluate` (default
# combination, thresholds from the training folds): with 20, per-code thresholds overfit
# (sample study sentences F1 0.168, themes study turns 0.536); with 60, 0.182 and 0.547.
MIN_POSITIVES = 60
GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def best_threshold(scores, truth, target_precision=None):
    """(threshold, precision, recall, F1) of the best threshold on GRID for these scores:
    the highest F1, or with `target_precision` the highest recall among thresholds reaching
    it (None when none does); of thresholds doing equally well, the highest."""
    scores, truth = np.asarray(scores, dtype=float).ravel(), np.asarray(truth, bool).ravel()
    best = None
    for threshold in GRID:
        predicted = scores >= threshold
        tp = int(np.sum(predicted & truth))
        precision = tp / predicted.sum() if predicted.any() else 0.0
        recall = tp / truth.sum() if truth.any() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if target_precision is not None and (precision < target_precision or not tp):
            continue
        key = recall if target_precision is not None else f1
        if best is None or key >= best[0] - 1e-12:  # a tie: the higher threshold
            best = (key, float(threshold), precision, recall, f1)
    return None if best is None else best[1:]


def calibrate(scores, truth, codes, target_precision=None, fallback=DEFAULT_MIN_SCORE,
              min_positives=MIN_POSITIVES):
    """Thresholds for (units x codes) out-of-fold `scores` against `truth`:
    {"codes": {code: threshold}, "shared": threshold, "target_precision", "min_positives",
    "positives": {code: coded units}, "expected": {code or "shared": [precision, recall, F1]}}.
    Codes with fewer than `min_positives` coded units use "shared"; with nothing to learn
    from (no coded units at all), "shared" is `fallback`."""
    scores, truth = np.asarray(scores, dtype=float), np.asarray(truth, bool)
    positives = {code: int(truth[:, j].sum()) for j, code in enumerate(codes)}
    own = [j for j, code in enumerate(codes) if positives[code] >= min_positives]
    rest = [j for j in range(len(codes)) if j not in own and positives[codes[j]]]
    result = {"codes": {}, "shared": float(fallback), "target_precision": target_precision,
              "min_positives": min_positives, "positives": positives, "expected": {}}
    for j in own:
        found = best_threshold(scores[:, j], truth[:, j], target_precision)
        if found is not None:
            result["codes"][codes[j]] = found[0]
            result["expected"][codes[j]] = [round(x, 4) for x in found[1:]]
    pooled = rest or own
    if pooled:
        found = best_threshold(scores[:, pooled], truth[:, pooled], target_precision)
        if found is not None:
            result["shared"] = found[0]
            result["expected"]["shared"] = [round(x, 4) for x in found[1:]]
    return result


def threshold_of(calibration, code, default=DEFAULT_MIN_SCORE):
    """The threshold a calibration sets for `code` (its own, else the shared one)."""
    if not calibration:
        return default
    return calibration["codes"].get(code, calibration.get("shared", default))
