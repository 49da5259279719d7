"""One class-weighted logistic regression per code: what the TF-IDF model and the semantic
suggester both learn, each over its own features."""

import numpy as np


def fit_per_code(matrix, rows, codebook, C):
    """`matrix`: a row of features per training row; `rows`: (text, positive code ids, sample
    weight) each. Returns (codes, coef, intercept, skipped): a code with no positive, or only
    positives, is skipped (nothing to tell apart)."""
    from sklearn.linear_model import LogisticRegression

    weights = np.array([weight for _, _, weight in rows])
    codes, coef, intercept, skipped = [], [], [], []
    for code in codebook.codes:
        labels = np.array([code.id in positives for _, positives, _ in rows], dtype=int)
        if labels.sum() == 0 or labels.sum() == len(labels):
            skipped.append(code.id)
            continue
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
        model.fit(matrix, labels, sample_weight=weights)
        codes.append(code.id)
        coef.append(np.asarray(model.coef_[0]))
        intercept.append(float(model.intercept_[0]))
    return codes, coef, intercept, skipped
