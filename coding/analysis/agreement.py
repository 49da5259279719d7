"""Inter-coder agreement: build unit x coder data from coded spans, then percentage agreement,
Cohen's kappa (scikit-learn) and Krippendorff's alpha (the `krippendorff` package).

Units are sentences or turns (a coding marks a unit when they share at least half of the
shorter of the two, the rule `coding evaluate` uses) or single characters. A coder who coded
nothing in a document did not see it: their units there are missing, not 0, which alpha
handles and kappa and percentage agreement skip. The "coded only" variant leaves out units no coder coded at all
(uncoded text, which inflates agreement).

Machine coders: `model` and `rules` name the suggesters (any status); every other name is a
person, whose accepted and manual codings count. So suggestion-vs-human agreement is computed
exactly like human-vs-human.

The children of a parent code can also be read as one variable (`category_table`): each unit
gets the child a coder applied, NONE, or SEVERAL, the table `reliability.assess` takes
(issue 18).
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


UNITS = ("sentence", "turn", "char")
MACHINE_CODERS = {"model": "model:", "rules": "rule:", "semantic": "semantic:", "llm": "llm:"}
MIN_UNITS = 30      # fewer units than this: the figure is unstable
MIN_CODED = 5       # fewer units where anyone applied the code: unstable too
COLUMNS = ["code", "variant", "units", "coded_units", "agreement", "kappa", "alpha", "warning"]
# The values of a unit no child was applied to, or several: in parentheses, which no code id
# can start with, so a child called "none" stays itself.
NONE, SEVERAL = "(none)", "(several)"


@dataclass(frozen=True)
class UnitData:
    """Per code, a (coders x units) array of 1/0 with NaN where a coder did not see the unit."""

    coders: tuple
    codes: tuple
    units: pd.DataFrame          # document, start, end of each unit
    values: dict                 # code -> np.ndarray (coders x units)


def unit_data(documents, codings, coders, codes, unit="sentence"):
    """documents: [(name, text, units as [(start, end)])]; codings: DataFrame with document,
    code, start, end, coder (the chosen coders' codings only). Returns UnitData."""
    rows, blocks = [], {code: [] for code in codes}
    for name, text, spans in documents:
        mine = codings[codings["document"] == name]
        seen = [coder in set(mine["coder"]) for coder in coders]
        bounds = _characters(spans) if unit == "char" else \
            np.asarray(spans, dtype=float).reshape(-1, 2)
        rows.append(pd.DataFrame({"document": name, "start": bounds[:, 0].astype(int),
                                  "end": bounds[:, 1].astype(int)}))
        for code in codes:
            block = np.zeros((len(coders), len(bounds)))
            for i, coder in enumerate(coders):
                if not seen[i]:
                    block[i, :] = np.nan
                    continue
                marks = mine[(mine["coder"] == coder) & (mine["code"] == code)]
                for start, end in zip(marks["start"], marks["end"]):
                    block[i] = np.maximum(block[i], _marked(bounds, start, end, unit))
            blocks[code].append(block)
    values = {code: np.concatenate(parts, axis=1) if parts else np.zeros((len(coders), 0))
              for code, parts in blocks.items()}
    units = pd.concat(rows, ignore_index=True) if rows else \
        pd.DataFrame(columns=["document", "start", "end"])
    return UnitData(tuple(coders), tuple(codes), units, values)


def _characters(spans):
    """One unit per character of the spans, as an (n x 2) array of [i, i + 1)."""
    starts = np.concatenate([np.arange(s, e) for s, e in spans]) if spans else np.zeros(0)
    return np.column_stack([starts, starts + 1]).astype(float)


def _marked(bounds, start, end, unit):
    """1.0 for each unit the span [start, end) marks (the `overlaps` rule, vectorised)."""
    unit_start, unit_end = bounds[:, 0], bounds[:, 1]
    if unit == "char":
        return ((unit_start >= start) & (unit_start < end)).astype(float)
    shared = np.minimum(unit_end, end) - np.maximum(unit_start, start)
    shorter = np.minimum(unit_end - unit_start, end - start)
    return ((shared > 0) & (shared >= 0.5 * shorter)).astype(float)


def agreement_table(data, coded_only=None):
    """One row per code and one 'ALL' row (every unit x code decision pooled), for the default
    and the coded-only variant (or just one when coded_only is True/False)."""
    variants = [False, True] if coded_only is None else [bool(coded_only)]
    stacked = np.stack([data.values[c] for c in data.codes]) if data.codes else None
    anyone = np.nansum(stacked, axis=(0, 1)) > 0 if stacked is not None else None
    rows = []
    for only in variants:
        keep = anyone if only else slice(None)
        for code in data.codes:
            rows.append({"code": code, **_figures(data.values[code][:, keep], only)})
        if stacked is not None:
            pooled = np.concatenate([stacked[k][:, keep] for k in range(len(data.codes))],
                                    axis=1)
            rows.append({"code": "ALL", **_figures(pooled, only)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _figures(matrix, coded_only):
    """Percentage agreement, kappa (two coders) and alpha for one (coders x units) array."""
    present = np.sum(~np.isnan(matrix), axis=0)
    pairable = matrix[:, present >= 2]
    units = pairable.shape[1]
    coded = int(np.sum(np.nansum(pairable, axis=0) > 0))
    result = {"variant": "coded only" if coded_only else "all units", "units": units,
              "coded_units": coded, "agreement": np.nan, "kappa": np.nan, "alpha": np.nan,
              "warning": ""}
    if units == 0:
        result["warning"] = "no unit seen by two coders"
        return result
    result["agreement"] = percent_agreement(pairable)
    if matrix.shape[0] == 2:
        result["kappa"] = cohen_kappa(pairable[0], pairable[1])
    result["alpha"] = krippendorff_alpha(pairable)
    if units < MIN_UNITS or coded < MIN_CODED:
        result["warning"] = (f"unstable: {units} units, {coded} coded by anyone "
                             f"(want at least {MIN_UNITS} and {MIN_CODED})")
    return result


def percent_agreement(matrix):
    """Share of units (seen by two or more coders) on which every coder who saw it agrees."""
    if matrix.shape[1] == 0:
        return np.nan
    return float(np.mean(_all_agree(matrix)))


def _all_agree(matrix):
    """Per unit: do all coders who saw it give the same value? (NaN = not seen)"""
    with warnings.catch_warnings():  # units nobody saw are all-NaN: they do not agree
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(matrix, axis=0) == np.nanmin(matrix, axis=0)


def cohen_kappa(a, b):
    """Cohen's kappa for two coders over the units both saw (NaN: one saw it, the other not);
    1.0 when both coders never vary and agree, where the formula is undefined."""
    from sklearn.metrics import cohen_kappa_score

    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    if len(a) == 0:
        return np.nan
    if len(set(a)) == 1 and len(set(b)) == 1:
        return 1.0 if a[0] == b[0] else 0.0
    return float(cohen_kappa_score(a, b))


def krippendorff_alpha(matrix, level="nominal"):
    """Krippendorff's alpha of a (coders x units) array with NaN for missing values; 1.0 when
    there is only one value in the data (no disagreement is possible)."""
    import krippendorff

    values = matrix[~np.isnan(matrix)]
    if len(np.unique(values)) < 2:
        return 1.0
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


def disagreements(data, code):
    """The units where the coders' values for `code` differ (units both saw), with each
    coder's value: a DataFrame of document, start, end and one column per coder."""
    matrix = data.values[code]
    seen = np.sum(~np.isnan(matrix), axis=0) >= 2
    differ = ~_all_agree(matrix) & seen if matrix.size else np.zeros(0, dtype=bool)
    table = data.units[differ].copy()
    for i, coder in enumerate(data.coders):
        table[coder] = matrix[i, differ]
    return table.reset_index(drop=True)


@dataclass(frozen=True)
class CategoryTable:
    """The children of a parent as one variable: `table` is units x coders (index: 'document
    [start, end)'), each cell a child's id, NONE, SEVERAL, or None where the coder did not see
    the unit; `several` counts the units where some coder applied two or more children and
    `coded` those where some coder applied any."""

    table: pd.DataFrame
    children: tuple
    several: int
    coded: int


def category_table(data, children):
    """UnitData (with the children as its codes) -> CategoryTable."""
    children = list(children)
    coders = list(data.coders)
    units = [f"{d} [{s}, {e})" for d, s, e in zip(data.units["document"], data.units["start"],
                                                   data.units["end"])]
    if not units:
        return CategoryTable(pd.DataFrame(columns=coders), tuple(children), 0, 0)
    stacked = np.stack([data.values[c] for c in children])  # children x coders x units
    seen = ~np.isnan(stacked[0])
    applied = np.nansum(stacked, axis=0)
    first = np.argmax(np.nan_to_num(stacked) == 1, axis=0)
    labels = np.where(applied == 0, NONE, np.where(applied == 1, np.array(children)[first],
                                                   SEVERAL)).astype(object)
    labels[~seen] = None
    several = int(np.sum((applied > 1).any(axis=0)))
    coded = int(np.sum((applied > 0).any(axis=0)))
    table = pd.DataFrame(labels.T, index=pd.Index(units, name="unit"), columns=coders)
    return CategoryTable(table, tuple(children), several, coded)
