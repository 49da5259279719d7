"""Reliability statistics journals accept, for any table of ratings (issue 18).

Krippendorff's alpha at the nominal, ordinal, interval and ratio levels (the `krippendorff`
package) with a bootstrapped interval (Hayes & Krippendorff 2007: KALPHA's resampling of
pairable values), Cohen's kappa (scikit-learn; weighted: statsmodels), Fleiss' kappa
(statsmodels), and what no maintained library computes with missing ratings, written here
after Gwet (2014): Gwet's AC1, Brennan-Prediger and percent agreement.

A table is units x coders: a DataFrame (index: the units, columns: the coders) or a 2-D
array; NaN, None or an empty string is a missing rating; ratings are numbers or text labels.
`order` lists the labels lowest first: text needs one at the ordinal, interval and ratio
levels and for weighted kappa, and ordered labels are scored 1, 2, 3, ... at the interval and
ratio levels (numbers keep their values). It also names categories nobody used, which count
for AC1 and Brennan-Prediger (q, the number of categories).

>>> from coding import reliability
>>> reliability.alpha(table, level="ordinal")                  # a float
>>> reliability.assess(table, level="ordinal", bootstrap=10000, seed=1).results
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CodingError

LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = ("linear", "quadratic")
METRICS = ("alpha", "cohen", "fleiss", "ac1", "percent", "brennan-prediger")
MINIMUMS = (0.667, 0.8)  # Krippendorff's lowest acceptable alpha, and the customary one
MIN_BOOTSTRAP = 1000     # KALPHA's smallest number of samples
NAMES = {"alpha": "Krippendorff's alpha", "cohen": "Cohen's kappa", "fleiss": "Fleiss' kappa",
         "ac1": "Gwet's AC1", "percent": "percent agreement",
         "brennan-prediger": "Brennan-Prediger coefficient"}
_MISSING_MARKS = {"na", "n/a", "nan", ".", "*", "-", "missing", "null", "none"}


class ReliabilityError(CodingError):
    """A rating table or a request that no statistic can be computed from."""


@dataclass(frozen=True)
class Ratings:
    """A table made ready: `codes[u, c]` is the category index coder c gave unit u (NaN:
    missing); `categories` are the labels in order and `scores` their numbers (None for
    unordered text)."""

    codes: np.ndarray
    categories: tuple
    scores: np.ndarray | None
    coders: tuple
    units: tuple

    @property
    def ordered(self):
        return self.scores is not None

    def counts(self, rows=slice(None)):
        """Units x categories: how many coders gave each unit each category."""
        codes = self.codes[rows]
        table = np.zeros((codes.shape[0], len(self.categories)))
        seen = ~np.isnan(codes)
        units = np.nonzero(seen)[0]
        np.add.at(table, (units, codes[seen].astype(int)), 1)
        return table


def as_ratings(table, order=None):
    """A units x coders table (DataFrame or array) -> Ratings; ReliabilityError naming the
    cells that cannot be read."""
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(
        np.asarray(table, dtype=object))
    if frame.ndim != 2 or frame.shape[1] < 2:
        raise ReliabilityError(f"a rating table needs two or more coders (columns), "
                               f"found {frame.shape[1] if frame.ndim == 2 else 0}")
    cells = frame.to_numpy(dtype=object)
    labels = np.full(cells.shape, None, dtype=object)
    numbers = np.full(cells.shape, np.nan)
    for (u, c), value in np.ndenumerate(cells):
        label, number = _cell(value)
        labels[u, c], numbers[u, c] = label, number
    present = labels != None  # noqa: E711 - elementwise on an object array
    if not present.any():
        raise ReliabilityError("the rating table holds no ratings")
    texts = present & np.isnan(numbers)
    if order is not None:
        return _ordered(frame, labels, present, order)
    if texts.any():
        _refuse_missing_marks(frame, labels, texts, present)
        categories = tuple(sorted({str(v) for v in labels[present]}))
        scores = None
    else:
        values = sorted(set(numbers[present].tolist()))
        categories, scores = tuple(_number_label(v) for v in values), np.array(values)
    index = {label: i for i, label in enumerate(categories)}
    return _made(frame, labels, present, index, categories, scores)


def _cell(value):
    """(label, number) of one cell: (None, nan) when it is missing; a number's label is its
    shortest text (2.0 -> '2'), and text that reads as a number counts as that number."""
    if value is None or (isinstance(value, float) and math.isnan(value)) \
            or value is pd.NA or value is pd.NaT:
        return None, np.nan
    if isinstance(value, (bool, np.bool_)):
        return str(value), np.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number_label(float(value)), float(value)
    text = " ".join(str(value).split())
    if not text:
        return None, np.nan
    try:
        number = float(text)
    except ValueError:
        return text, np.nan
    if not math.isfinite(number):
        return text, np.nan
    return _number_label(number), number


def _number_label(number):
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _ordered(frame, labels, present, order):
    order = [" ".join(str(label).split()) for label in order]
    order = [_cell(label)[0] or label for label in order]  # '2.0' in an order means 2
    doubled = sorted({label for label in order if order.count(label) > 1})
    if doubled:
        raise ReliabilityError(f"the order names {', '.join(doubled)} more than once")
    if len(order) < 2:
        raise ReliabilityError("an order needs two or more labels, lowest first")
    index = {label: i for i, label in enumerate(order)}
    unknown = sorted({str(v) for v in labels[present]} - set(index))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise ReliabilityError(f"ratings not in the order ({', '.join(order)}): {shown}")
    numeric = [_cell(label)[1] for label in order]
    scores = np.array(numeric) if not any(math.isnan(n) for n in numeric) \
        else np.arange(1, len(order) + 1, dtype=float)
    return _made(frame, labels, present, index, tuple(order), scores)


def _made(frame, labels, present, index, categories, scores):
    codes = np.full(labels.shape, np.nan)
    codes[present] = [index[str(v)] for v in labels[present]]
    return Ratings(codes, categories, scores, tuple(str(c) for c in frame.columns),
                   tuple(frame.index))


def _refuse_missing_marks(frame, labels, texts, present):
    """Numbers with a few 'NA' or '.' cells: those were meant as missing ratings, and read as
    labels they would make every number a label."""
    marks = [(u, c) for u, c in zip(*np.nonzero(texts))
             if str(labels[u, c]).lower() in _MISSING_MARKS]
    if marks and len(marks) == int(texts.sum()) and texts.sum() < present.sum():
        u, c = marks[0]
        raise ReliabilityError(f"unit {frame.index[u]}, coder {frame.columns[c]}: "
                               f"{labels[u, c]!r} is not a rating; leave the cell empty for a "
                               f"missing rating ({len(marks)} such cells)")


# -- the statistics --------------------------------------------------------------------------

def alpha(table, level="nominal", order=None):
    """Krippendorff's alpha at a level of measurement; NaN when no unit has two ratings or
    every rating is the same (alpha is 0/0 then).

    >>> alpha([[1, 1], [2, 2], [3, 1]], level="interval")
    """
    return _alpha(_ratings(table, order), level)


def cohen(table, weights=None, order=None):
    """Cohen's kappa of two coders over the units both rated; weights 'linear' or 'quadratic'
    (Cohen 1968) count steps between the ordered categories."""
    return _cohen(_ratings(table, order), weights)


def fleiss(table, order=None):
    """Fleiss' kappa (1971) over the units every coder rated."""
    return _fleiss(_ratings(table, order))


def ac1(table, order=None):
    """Gwet's AC1 (Gwet 2008; with missing ratings as Gwet 2014 defines it)."""
    return _gwet(_ratings(table, order))["ac1"]


def brennan_prediger(table, order=None):
    """Brennan and Prediger's (1981) coefficient: chance agreement 1/q for q categories."""
    return _gwet(_ratings(table, order))["brennan-prediger"]


def percent(table, order=None):
    """Percent agreement as a share: agreeing pairs of ratings per unit, averaged over units
    with two or more ratings (for two coders, the share of units both rated alike)."""
    return _gwet(_ratings(table, order))["percent"]


def _ratings(table, order):
    return table if isinstance(table, Ratings) else as_ratings(table, order)


def _check_level(ratings, level):
    if level not in LEVELS:
        raise ReliabilityError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level != "nominal" and not ratings.ordered:
        raise ReliabilityError(f"the {level} level needs ordered ratings: numbers, or labels "
                               f"with an order (--order \"{','.join(ratings.categories[:4])}"
                               f"{',...' if len(ratings.categories) > 4 else ''}\", lowest "
                               "first)")
    if level == "ratio" and (ratings.scores < 0).any():
        raise ReliabilityError("the ratio level needs ratings of zero or more")


def _level_values(ratings, level):
    """Coders x units values for the krippendorff package: category positions, or the
    categories' scores at the interval and ratio levels."""
    if level in ("interval", "ratio"):
        values = np.full(ratings.codes.shape, np.nan)
        seen = ~np.isnan(ratings.codes)
        values[seen] = ratings.scores[ratings.codes[seen].astype(int)]
        return values.T, np.asarray(ratings.scores)
    return ratings.codes.T, np.arange(len(ratings.categories), dtype=float)


def _alpha(ratings, level):
    import krippendorff

    _check_level(ratings, level)
    values, domain = _level_values(ratings, level)
    pairable = values[:, np.sum(~np.isnan(values), axis=0) >= 2]
    if pairable.size == 0 or len(np.unique(pairable[~np.isnan(pairable)])) < 2:
        return math.nan
    return float(krippendorff.alpha(reliability_data=pairable, value_domain=domain,
                                    level_of_measurement=level))


def _cohen(ratings, weights):
    if len(ratings.coders) != 2:
        raise ReliabilityError(f"Cohen's kappa is for two coders, and there are "
                               f"{len(ratings.coders)}: use Fleiss' kappa or Krippendorff's "
                               "alpha")
    if weights is not None and weights not in WEIGHTS:
        raise ReliabilityError(f"weights must be linear or quadratic, not {weights!r}")
    if weights and not ratings.ordered:
        raise ReliabilityError("weighted kappa needs ordered ratings: numbers, or labels with "
                               "an order (--order, lowest first)")
    a, b = ratings.codes.T
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both].astype(int), b[both].astype(int)
    if len(a) == 0 or (len(set(a)) == 1 and set(a) == set(b)):
        return math.nan  # kappa is 0/0 when both coders give one and the same value
    k = len(ratings.categories)
    if weights is None:
        from sklearn.metrics import cohen_kappa_score

        return float(cohen_kappa_score(a, b, labels=list(range(k))))
    from statsmodels.stats.inter_rater import cohens_kappa

    table = np.zeros((k, k))
    np.add.at(table, (a, b), 1)
    return float(cohens_kappa(table, wt=weights, return_results=False))


def _fleiss(ratings):
    from statsmodels.stats.inter_rater import fleiss_kappa

    complete = ~np.isnan(ratings.codes).any(axis=1)
    counts = ratings.counts(complete)
    chance = (counts.sum(axis=0) / counts.sum()) ** 2 if counts.size else np.zeros(0)
    if not complete.any() or chance.sum() >= 1:
        return math.nan
    return float(fleiss_kappa(counts, method="fleiss"))


def _gwet(ratings):
    """Percent agreement, AC1 and Brennan-Prediger with missing ratings (Gwet 2014, ch. 2 and
    irrCAC's gwet.ac1.raw): p_a over units with two or more ratings; AC1's chance agreement
    from pi_k, the mean share of each unit's ratings in category k over units with a rating."""
    counts = ratings.counts()
    per_unit = counts.sum(axis=1)
    paired = per_unit >= 2
    q = len(ratings.categories)
    if not paired.any():
        return {"percent": math.nan, "ac1": math.nan, "brennan-prediger": math.nan}
    pairs = counts[paired] * (counts[paired] - 1)
    agree = float(np.mean(pairs.sum(axis=1) / (per_unit[paired] * (per_unit[paired] - 1))))
    rated = per_unit >= 1
    pi = (counts[rated] / per_unit[rated, None]).mean(axis=0)
    chance_ac1 = float(np.sum(pi * (1 - pi)) / (q - 1)) if q > 1 else math.nan
    chance_bp = 1 / q
    return {"percent": agree,
            "ac1": (agree - chance_ac1) / (1 - chance_ac1) if q > 1 else math.nan,
            "brennan-prediger": (agree - chance_bp) / (1 - chance_bp) if q > 1 else math.nan}


# -- the bootstrap -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Bootstrap:
    """A bootstrapped distribution of alpha: its 95 % interval and P(alpha < minimum)."""

    alpha: float
    low: float
    high: float
    below: dict          # minimum -> share of samples with alpha below it
    samples: int
    draws: int           # pairs of values drawn per sample (KALPHA's M)
    seed: int | None
    confidence: float = 0.95
    values: np.ndarray = field(default=None, compare=False, repr=False)  # every sample's alpha


def coincidences(ratings, level):
    """(o, delta2): the coincidence matrix of pairable values (Krippendorff 2011) over the
    categories, and the squared difference of each pair of categories at `level`."""
    _check_level(ratings, level)
    counts = ratings.counts()
    per_unit = counts.sum(axis=1)
    pairable = per_unit >= 2
    counts, per_unit = counts[pairable], per_unit[pairable]
    weighted = counts / (per_unit - 1)[:, None]
    o = weighted.T @ counts
    o[np.diag_indices_from(o)] -= weighted.sum(axis=0)  # a value is not paired with itself
    n_c = o.sum(axis=1)
    k = len(ratings.categories)
    if level == "nominal":
        delta2 = 1.0 - np.eye(k)
    elif level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
        low, high = np.minimum.outer(range(k), range(k)), np.maximum.outer(range(k), range(k))
        between = cumulative[high + 1] - cumulative[low]
        delta2 = (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2
        delta2[np.diag_indices(k)] = 0.0
    else:
        s = ratings.scores
        delta2 = np.subtract.outer(s, s) ** 2
        if level == "ratio":
            total = np.add.outer(s, s)
            delta2 = np.divide(delta2, total ** 2, out=np.zeros_like(delta2), where=total > 0)
    return o, delta2


def bootstrap_alpha(table, level="nominal", order=None, samples=10_000, seed=None,
                    minimums=MINIMUMS, confidence=0.95):
    """Alpha's bootstrapped distribution as Hayes & Krippendorff (2007) define it and their
    KALPHA macro computes it: each sample draws M pairs of values with the probabilities of
    the observed coincidences (M = the smaller of 25 x the coincidence cells in use and
    n(m - 1)/2, n pairable values, m coders), alpha* = 1 - sum(delta2) / (M x D_e), at least -1;
    a sample whose pairs all show one value has no variation and counts as alpha* = 0. The
    interval is the 2.5th and 97.5th percentiles as KALPHA takes them.

    >>> bootstrap_alpha(table, samples=10000, seed=1).low
    """
    ratings = _ratings(table, order)
    if samples < MIN_BOOTSTRAP:
        raise ReliabilityError(f"a bootstrap needs at least {MIN_BOOTSTRAP} samples (as "
                               f"KALPHA), not {samples}")
    point = _alpha(ratings, level)
    if math.isnan(point):
        raise ReliabilityError("alpha is undefined here (no unit rated twice, or no variation "
                               "in the ratings), so it cannot be bootstrapped")
    o, delta2 = coincidences(ratings, level)
    n = o.sum()
    n_c = o.sum(axis=1)
    expected = (np.sum(np.outer(n_c, n_c) * delta2)) / (n * (n - 1))
    draws = int(min(25 * np.count_nonzero(o > 1e-12), round(n * (len(ratings.coders) - 1) / 2)))
    upper = np.triu_indices(len(o))  # each unordered pair of values once
    p = np.where(upper[0] == upper[1], o[upper], 2 * o[upper]) / n
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(draws, p / p.sum(), size=samples)
    alphas = np.maximum(1 - drawn @ delta2[upper] / (draws * expected), -1.0)
    one_value = (drawn == draws) & (upper[0] == upper[1])[None, :]
    alphas[one_value.any(axis=1)] = 0.0
    ordered = np.sort(alphas)
    tail = (1 - confidence) / 2
    low = ordered[max(int(tail * samples), 1) - 1]
    high = ordered[min(int((1 - tail) * samples) + 1, samples) - 1]
    below = {m: float(np.mean(alphas < m)) for m in minimums}
    return Bootstrap(point, float(low), float(high), below, samples, draws, seed, confidence,
                     alphas)


# -- everything at once ------------------------------------------------------------------------

DEFINITIONS = {
    "alpha": "Krippendorff's alpha, 1 - D_o/D_e from the coincidences of pairable values "
             "(Krippendorff 2011), with the {level} difference function; units rated by fewer "
             "than two coders are not pairable",
    "cohen": "Cohen's kappa (Cohen 1960), (p_o - p_e)/(1 - p_e) over the units both coders "
             "rated",
    "cohen-weighted": "Cohen's weighted kappa (Cohen 1968) with {weights} disagreement weights "
                      "over the ordered categories, over the units both coders rated",
    "fleiss": "Fleiss' kappa (Fleiss 1971) over the units every coder rated",
    "ac1": "Gwet's AC1 (Gwet 2008), (p_a - p_e)/(1 - p_e) with p_e = sum of pi_k(1 - pi_k)/"
           "(q - 1), q = {q} categories, missing ratings as Gwet (2014) defines",
    "percent": "percent agreement: the share of agreeing pairs of ratings of a unit, averaged "
               "over units with two or more ratings (Gwet 2014)",
    "brennan-prediger": "Brennan and Prediger's (1981) coefficient, (p_a - 1/q)/(1 - 1/q) with "
                        "q = {q} categories",
}


@dataclass(frozen=True)
class Result:
    """One statistic of a rating table, with what it rests on and how it is defined."""

    metric: str
    value: float
    units: int            # the units the statistic uses
    coders: int
    level: str = "nominal"
    weights: str | None = None
    categories: int = 0
    definition: str = ""
    warning: str = ""
    bootstrap: Bootstrap | None = None

    @property
    def name(self):
        if self.metric == "alpha":
            return f"{NAMES['alpha']} ({self.level})"
        if self.metric == "cohen" and self.weights:
            return f"Cohen's weighted kappa ({self.weights})"
        return NAMES[self.metric]

    def as_dict(self):
        """Plain data for JSON: metric, level, value, units, coders and the rest."""
        found = {"metric": self.metric, "level": self.level, "value": _plain(self.value),
                 "units": self.units, "coders": self.coders, "statistic": self.name,
                 "categories": self.categories, "definition": self.definition}
        if self.weights:
            found["weights"] = self.weights
        if self.warning:
            found["warning"] = self.warning
        if self.bootstrap is not None:
            b = self.bootstrap
            found.update(ci_low=_plain(b.low), ci_high=_plain(b.high), confidence=b.confidence,
                         p_below={str(m): p for m, p in b.below.items()},
                         bootstrap_samples=b.samples, bootstrap_draws=b.draws, seed=b.seed)
        return found


@dataclass(frozen=True)
class Assessment:
    """Every statistic asked for, over one rating table, with the warnings found on the way."""

    results: tuple
    units: int                      # rows of the table
    coders: tuple
    categories: tuple
    warnings: tuple = ()
    source: str = ""                # what was rated, for a methods paragraph
    notes: tuple = field(default=())  # how the table was made (e.g. a parent's children)

    def table(self):
        """A DataFrame with one row per statistic, for a table or a spreadsheet."""
        rows = []
        for r in self.results:
            b = r.bootstrap
            rows.append({"statistic": r.name, "metric": r.metric, "level": r.level,
                         "value": r.value, "ci_low": b.low if b else np.nan,
                         "ci_high": b.high if b else np.nan,
                         **{f"p(alpha<{m})": (b.below.get(m, np.nan) if b else np.nan)
                            for m in MINIMUMS},
                         "units": r.units, "coders": r.coders, "categories": r.categories,
                         "bootstrap samples": b.samples if b else 0,
                         "warning": r.warning, "definition": r.definition})
        return pd.DataFrame(rows)

    def as_dicts(self):
        return [r.as_dict() for r in self.results]


def _plain(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def assess(table, metrics=None, level="nominal", weights=None, order=None, bootstrap=0,
           seed=None, source="", notes=()):
    """The statistics asked for (default: every one that applies: Cohen's kappa only for two
    coders), each a Result, in an Assessment. bootstrap=N adds alpha's bootstrapped interval.

    >>> assess(table, level="ordinal", bootstrap=10000, seed=7).table()
    """
    ratings = _ratings(table, order)
    unknown = [m for m in metrics or () if m not in METRICS]
    if unknown:
        raise ReliabilityError(f"unknown statistic {', '.join(unknown)}; choose from "
                               f"{', '.join(METRICS)}")
    if level not in LEVELS:
        raise ReliabilityError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    chosen = list(metrics) if metrics else [m for m in METRICS if m != "cohen"
                                            or len(ratings.coders) == 2]
    if bootstrap and "alpha" not in chosen:
        raise ReliabilityError("--bootstrap resamples alpha: ask for alpha too")
    counts = ratings.counts()
    per_unit = counts.sum(axis=1)
    coders = len(ratings.coders)
    q = len(ratings.categories)
    found, warnings = [], []
    for metric in chosen:
        result = _result(ratings, metric, level, weights, bootstrap, seed, per_unit, coders, q)
        found.append(result)
        if result.warning:
            warnings.append(f"{result.name}: {result.warning}")
    return Assessment(tuple(found), len(ratings.units), ratings.coders, ratings.categories,
                      tuple(warnings), source, tuple(notes))


def _result(ratings, metric, level, weights, bootstrap, seed, per_unit, coders, q):
    paired = int(np.sum(per_unit >= 2))
    common = dict(coders=coders, categories=q)
    if metric == "alpha":
        value = _alpha(ratings, level)
        boot = bootstrap_alpha(ratings, level, samples=bootstrap, seed=seed) \
            if bootstrap and not math.isnan(value) else None
        return Result("alpha", value, paired, level=level, bootstrap=boot,
                      definition=DEFINITIONS["alpha"].format(level=level),
                      warning=_undefined(value, paired, bootstrap), **common)
    if metric == "cohen":
        value = _cohen(ratings, weights)
        both = int(np.sum(~np.isnan(ratings.codes).any(axis=1)))
        key = "cohen-weighted" if weights else "cohen"
        return Result("cohen", value, both, level="ordinal" if weights else "nominal",
                      weights=weights, definition=DEFINITIONS[key].format(weights=weights),
                      warning=_undefined(value, both), **common)
    if metric == "fleiss":
        value = _fleiss(ratings)
        complete = int(np.sum(per_unit == coders))
        left = paired - complete
        warning = (f"{left} unit{'s' if left != 1 else ''} with missing ratings left out "
                   f"(Fleiss' kappa needs every coder's rating)") if left else ""
        return Result("fleiss", value, complete, definition=DEFINITIONS["fleiss"],
                      warning=warning or _undefined(value, complete), **common)
    value = _gwet(ratings)[metric]
    return Result(metric, value, paired, definition=DEFINITIONS[metric].format(q=q),
                  warning=_undefined(value, paired), **common)


def _undefined(value, units, bootstrap=0):
    if units == 0:
        return "no unit was rated by two coders: undefined"
    if math.isnan(value):
        return "undefined (0/0): the ratings do not vary" + \
            ("; not bootstrapped" if bootstrap else "")
    return ""
