"""Reliability statistics (issue 18) against their published worked examples, each to the
published decimals, through the API (`coding.reliability`) and the CLI (`coding reliability`);
every figure is also checked against an exact computation from its definition in fractions.

Sources of the published values:
- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers,
  12 units, missing values: nominal .743, ordinal .815, interval .849, ratio .797.
- Fleiss (1971), 30 patients x 6 psychiatrists, 5 diagnoses: kappa = .430 (R irr's
  `diagnoses`; kappam.fleiss gives 0.4302445).
- Gwet (2014), Handbook of Inter-Rater Reliability, as his irrCAC package documents it: for
  Krippendorff's C data (cac.raw4raters) AC1 = 0.77544 (p_a 0.8181818, p_e 0.1903212),
  Brennan-Prediger 0.77273, percent agreement 0.8181818; for the 3 x 3 abstractors table
  (cont3x3abstractors) Cohen's kappa 0.7964094, AC1 0.8493305, Brennan-Prediger 0.835,
  percent 0.89.
- Cohen's kappa, unweighted and weighted: SAS PROC FREQ's output for a 3 x 3 table (0.4842;
  Cicchetti-Allison = linear weights 0.4701) and R irr's kappa2 on its `anxiety` data, raters 2
  and 3 (-0.006289308; "equal" = linear 0.1459075; "squared" = quadratic 0.2520325), as
  statsmodels' tests record them; Wikipedia's worked example (kappa = 0.40).
"""

import json
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import coding
from coding.analysis.reliability import ReliabilityError
from coding.cli import main
from coding.reliability import (ac1, alpha, as_ratings, assess, bootstrap_alpha,
                                brennan_prediger, coincidences, cohen, fleiss, percent)

NAN = np.nan
# Krippendorff (2011), example C, as units x coders (his table has coders in rows)
C = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
              [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
              [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
              [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]).T
KRIPPENDORFF_2011 = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
LABELS = ["very low", "low", "mid", "high", "very high"]  # C's values 1..5 as ordered labels

# Fleiss (1971), Table 1: 30 patients, 6 raters each, diagnoses 1-5
DIAGNOSES = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]])

ANXIETY = np.array([3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3, 3, 6, 4, 6, 2, 4,
                    2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4, 2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1,
                    2, 3, 3, 1, 1, 3, 3, 2, 2]).reshape(20, 3, order="F")[:, 1:]


def from_table(counts, labels=None):
    """Two coders' ratings (units x 2) from a contingency table of counts."""
    labels = labels or list(range(1, len(counts) + 1))
    return np.array([[labels[i], labels[j]] for i, row in enumerate(counts)
                     for j, n in enumerate(row) for _ in range(n)], dtype=object)


ABSTRACTORS = from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]],
                         ["Ectopic", "AIU", "NIU"])          # Gwet (2014), cont3x3abstractors
SAS = from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
WIKIPEDIA = from_table([[20, 5], [10, 15]], ["yes", "no"])


def exact_alpha(units, level):
    """Krippendorff's alpha from its definition (Krippendorff 2011) in exact fractions: the
    coincidence matrix of pairable values, the level's difference function, 1 - D_o/D_e."""
    rows = [[Fraction(v).limit_denominator() for v in unit if v == v] for unit in units]
    rows = [r for r in rows if len(r) >= 2]
    values = sorted({v for r in rows for v in r})
    o = {(c, k): Fraction(0) for c in values for k in values}
    for r in rows:
        for i, c in enumerate(r):
            for j, k in enumerate(r):
                if i != j:
                    o[(c, k)] += Fraction(1, len(r) - 1)
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c, k):
        if level == "nominal":
            return Fraction(int(c != k))
        if level == "ordinal":
            low, high = sorted((c, k))
            between = sum(n_c[g] for g in values if low <= g <= high)
            return (between - (n_c[c] + n_c[k]) / 2) ** 2
        if level == "interval":
            return (c - k) ** 2
        return ((c - k) / (c + k)) ** 2

    observed = sum(o[(c, k)] * delta(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values)
    return 1 - (n - 1) * observed / expected


def exact_gwet(units, q):
    """Percent agreement, AC1 and Brennan-Prediger with missing ratings (Gwet 2014), exactly."""
    rated = [[v for v in unit if v == v] for unit in units]
    rated = [r for r in rated if r]
    paired = [r for r in rated if len(r) >= 2]
    categories = sorted({v for r in rated for v in r}, key=str)
    pa = sum(sum(Fraction(r.count(k) * (r.count(k) - 1), len(r) * (len(r) - 1))
                 for k in categories) for r in paired) / len(paired)
    pi = {k: sum(Fraction(r.count(k), len(r)) for r in rated) / len(rated) for k in categories}
    pe = sum(p * (1 - p) for p in pi.values()) / (q - 1)
    return pa, (pa - pe) / (1 - pe), (pa - Fraction(1, q)) / (1 - Fraction(1, q))


# -- the API ---------------------------------------------------------------------------------

@pytest.mark.parametrize("level", list(KRIPPENDORFF_2011))
def test_krippendorff_2011_example_c_at_every_level(level):
    value = alpha(C, level=level)
    assert round(value, 3) == KRIPPENDORFF_2011[level]
    assert value == pytest.approx(float(exact_alpha(C, level)), abs=1e-12)
    frame = pd.DataFrame(C, index=[f"u{i}" for i in range(1, 13)], columns=list("ABCD"))
    assert coding.reliability.alpha(frame, level=level) == value


def test_coincidences_are_krippendorffs():
    o, delta2 = coincidences(as_ratings(C), "nominal")
    third = 1 / 3  # Krippendorff's (2011) coincidence matrix for example C, n = 40
    assert o == pytest.approx(np.array([[7, 4 * third, third, third, 0],
                                        [4 * third, 10, 4 * third, third, 0],
                                        [third, 4 * third, 8, third, 0],
                                        [third, third, third, 4, 0],
                                        [0, 0, 0, 0, 3]]))
    n_c = o.sum(axis=1)
    observed = (o * delta2).sum() / 40
    expected = (np.outer(n_c, n_c) * delta2).sum() / (40 * 39)
    assert 1 - observed / expected == pytest.approx(alpha(C))


def test_ordered_text_labels_give_the_numbers_alpha():
    words = np.where(np.isnan(C), None, np.array(LABELS + [None], dtype=object)[
        np.nan_to_num(C - 1, nan=5).astype(int)])
    for level in ("ordinal", "interval", "ratio"):  # labels in an order score 1, 2, ...
        assert round(alpha(words, level=level, order=LABELS), 3) == KRIPPENDORFF_2011[level]
    assert round(alpha(words), 3) == 0.743
    with pytest.raises(ReliabilityError, match="the ordinal level needs ordered ratings"):
        alpha(words, level="ordinal")
    with pytest.raises(ReliabilityError, match=r"ratings not in the order \(low, mid, high\): "
                                               r"'very high', 'very low'"):
        alpha(words, level="ordinal", order=["low", "mid", "high"])


def test_fleiss_1971():
    assert round(fleiss(DIAGNOSES), 3) == 0.430
    assert fleiss(DIAGNOSES) == pytest.approx(0.4302445, abs=5e-8)  # R irr's kappam.fleiss


def test_gwet_ac1_brennan_prediger_and_percent_with_missing_ratings():
    assert round(ac1(C), 5) == 0.77544
    assert round(brennan_prediger(C), 5) == 0.77273
    assert round(percent(C), 7) == 0.8181818
    pa, exact_ac1, exact_bp = exact_gwet(C.tolist(), q=5)
    assert (percent(C), ac1(C), brennan_prediger(C)) == pytest.approx(
        (float(pa), float(exact_ac1), float(exact_bp)), abs=1e-12)
    assert round(ac1(ABSTRACTORS), 7) == 0.8493305
    assert round(brennan_prediger(ABSTRACTORS), 3) == 0.835
    assert percent(ABSTRACTORS) == pytest.approx(0.89)


def test_cohen_kappa_published_examples():
    assert round(cohen(ABSTRACTORS), 7) == 0.7964094
    assert cohen(WIKIPEDIA) == pytest.approx(0.40)
    assert round(cohen(SAS), 4) == 0.4842
    assert round(cohen(SAS, weights="linear"), 4) == 0.4701
    assert round(cohen(ANXIETY), 9) == -0.006289308
    assert round(cohen(ANXIETY, weights="linear"), 7) == 0.1459075
    assert round(cohen(ANXIETY, weights="quadratic"), 7) == 0.2520325
    missing = ANXIETY.astype(float)
    missing[0, 1] = NAN  # a unit one coder did not rate is left out of kappa
    assert cohen(missing) == pytest.approx(cohen(ANXIETY[1:]))


def test_cohen_is_for_two_coders_and_weights_need_an_order():
    with pytest.raises(ReliabilityError) as info:
        cohen(C)
    assert str(info.value) == ("Cohen's kappa is for two coders, and there are 4: use Fleiss' "
                               "kappa or Krippendorff's alpha")
    with pytest.raises(ReliabilityError, match="weighted kappa needs ordered ratings"):
        cohen(WIKIPEDIA, weights="linear")
    assert cohen(WIKIPEDIA, weights="linear", order=["no", "yes"]) == pytest.approx(0.40)


def test_undefined_statistics_are_nan_with_a_warning():
    same = [[1, 1], [1, 1], [1, None]]
    assert math.isnan(alpha(same)) and math.isnan(cohen(same))
    found = assess(same)
    assert "alpha" in found.warnings[0] and "undefined (0/0)" in found.warnings[0]


def test_bootstrap_is_reproducible_and_brackets_alpha():
    first = bootstrap_alpha(C, samples=5000, seed=11)
    again = bootstrap_alpha(C, samples=5000, seed=11)
    assert first == again and (first.values == again.values).all()
    assert first.draws == 60  # KALPHA's M: min(25 x cells in use, n(m - 1)/2) = min(., 60)
    assert first.low < first.alpha < first.high
    assert 0 <= first.below[0.667] <= first.below[0.8] <= 1
    assert bootstrap_alpha(C, samples=5000, seed=12) != first


def test_bootstrap_distribution_matches_its_analytic_moments():
    """Each sample's alpha* is 1 - mean(delta2 of M drawn pairs)/D_e, pairs drawn with the
    coincidences' probabilities: its mean is alpha and its variance Var(delta2)/(M D_e^2),
    computed here independently from the coincidence matrix in exact fractions."""
    for level in ("nominal", "interval"):
        found = bootstrap_alpha(C, level=level, samples=20000, seed=3)
        o, delta2 = coincidences(as_ratings(C), level)
        n, n_c = o.sum(), o.sum(axis=1)
        expected = (np.outer(n_c, n_c) * delta2).sum() / (n * (n - 1))
        mean = (o * delta2).sum() / n
        variance = (o * delta2 ** 2).sum() / n - mean ** 2
        sd = math.sqrt(variance / found.draws) / expected
        assert 1 - mean / expected == pytest.approx(float(exact_alpha(C, level)))
        assert found.values.mean() == pytest.approx(found.alpha, abs=5 * sd / math.sqrt(20000))
        assert found.values.std() == pytest.approx(sd, rel=0.05)
        assert found.below[0.8] == np.mean(found.values < 0.8)
        ordered = np.sort(found.values)  # KALPHA's percentiles: the 500th and 19,501st
        assert (found.low, found.high) == (ordered[499], ordered[19500])


def test_bootstrap_needs_1000_samples():
    with pytest.raises(ReliabilityError, match="at least 1000 samples"):
        bootstrap_alpha(C, samples=200)


def test_assess_picks_what_applies_and_warns_about_fleiss_units():
    found = assess(C)
    assert [r.metric for r in found.results] == ["alpha", "fleiss", "ac1", "percent",
                                                 "brennan-prediger"]  # no Cohen: 4 coders
    fleiss_result = found.results[1]
    assert fleiss_result.units == 8 and "3 units with missing ratings left out" in \
        fleiss_result.warning
    assert fleiss_result.value == pytest.approx(fleiss(C[~np.isnan(C).any(axis=1)]))
    two = assess(ANXIETY)
    assert "cohen" in [r.metric for r in two.results]


def test_missing_marks_are_named():
    table = [[1, 2], [2, "NA"], [3, 3]]
    with pytest.raises(ReliabilityError) as info:
        alpha(table)
    assert str(info.value) == ("unit 1, coder 1: 'NA' is not a rating; leave the cell empty "
                               "for a missing rating (1 such cells)")


# -- the CLI ---------------------------------------------------------------------------------

def write_rows(path, header, rows):
    path.write_text("\n".join(",".join("" if v is None or v != v else
                                       (str(int(v)) if isinstance(v, float) else str(v))
                                       for v in row) for row in [header, *rows]) + "\n")
    return path


@pytest.fixture
def example_c(tmp_path):
    """Krippendorff's example C as he prints it: one row per observer, one column per unit."""
    return write_rows(tmp_path / "c.csv", ["observer", *range(1, 13)],
                      [[name, *C[:, i]] for i, name in enumerate("ABCD")])


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


@pytest.mark.parametrize("level", list(KRIPPENDORFF_2011))
def test_cli_reproduces_krippendorff_2011(example_c, level):
    result = run("reliability", example_c, "--coders-in", "rows", "--level", level,
                 "--metric", "alpha", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["metric"] == "alpha" and found["level"] == level
    assert round(found["value"], 3) == KRIPPENDORFF_2011[level]
    assert (found["units"], found["coders"]) == (11, 4)


def test_cli_table_with_gwet_figures_and_a_bootstrap(example_c, tmp_path):
    result = run("reliability", example_c, "--coders-in", "rows", "--bootstrap", 2000,
                 "--seed", 5, "-o", tmp_path / "report.xlsx")
    assert result.exit_code == 0, result.output
    assert "Krippendorff's alpha (nominal)" in result.output and "0.743" in result.output
    assert "Gwet's AC1" in result.output and "0.775" in result.output
    assert "Brennan-Prediger coefficient" in result.output and "0.773" in result.output
    assert "3 units with missing ratings left out" in result.output  # Fleiss' warning
    workbook = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    assert set(workbook) == {"Reliability", "Methods"}
    row = workbook["Reliability"].set_index("metric").loc["alpha"]
    again = bootstrap_alpha(C, samples=2000, seed=5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((again.low, again.high))
    methods = workbook["Methods"].set_index("part").loc["methods", "text"]
    assert "Four coders (A, B, C and D) independently coded the 12 units of c.csv." in methods
    assert "2,000 bootstrap samples" in methods and "Hayes & Krippendorff 2007" in methods


def test_cli_json_lists_every_statistic_of_fleiss_1971(tmp_path):
    table = write_rows(tmp_path / "fleiss.csv", ["patient", *[f"r{i}" for i in range(1, 7)]],
                       [[i + 1, *row] for i, row in enumerate(DIAGNOSES)])
    result = run("reliability", table, "--json")
    assert result.exit_code == 0, result.output
    found = {r["metric"]: r for r in json.loads(result.output)}
    assert round(found["fleiss"]["value"], 3) == 0.430
    assert found["fleiss"]["units"] == 30 and found["fleiss"]["coders"] == 6
    assert "cohen" not in found


def test_cli_cohen_weighted_and_labels_with_an_order(tmp_path):
    table = write_rows(tmp_path / "anxiety.csv", ["subject", "rater2", "rater3"],
                       [[i + 1, *row] for i, row in enumerate(ANXIETY)])
    for weights, expected in ((None, -0.006289308), ("linear", 0.1459075),
                              ("quadratic", 0.2520325)):
        args = ["--weights", weights] if weights else []
        result = run("reliability", table, "--metric", "cohen", "--json", *args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["value"] == pytest.approx(expected, abs=5e-8)
    words = write_rows(tmp_path / "words.csv", ["unit", *"ABCD"],
                       [[i + 1, *[LABELS[int(v) - 1] if v == v else None for v in row]]
                        for i, row in enumerate(C)])
    result = run("reliability", words, "--level", "ordinal", "--order", ",".join(LABELS),
                 "--metric", "alpha", "--json")
    assert result.exit_code == 0, result.output
    assert round(json.loads(result.output)["value"], 3) == 0.815
    refused = run("reliability", words, "--level", "ordinal")
    assert refused.exit_code == 1 and refused.output.startswith(
        f"Error: {words}: the ordinal level needs ordered ratings")
    kappa = run("reliability", words, "--metric", "cohen")
    assert kappa.exit_code == 1 and "Cohen's kappa is for two coders, and there are 4: use " \
        "Fleiss' kappa or Krippendorff's alpha" in kappa.output
    assert "Traceback" not in kappa.output


def test_cli_report_formats(example_c, tmp_path):
    for suffix in ("md", "docx", "csv", "json"):
        target = tmp_path / f"report.{suffix}"
        result = run("reliability", example_c, "--coders-in", "rows", "--level", "interval",
                     "--metric", "alpha", "-o", target)
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
    markdown = (tmp_path / "report.md").read_text()
    assert "Krippendorff's alpha (interval), α = 0.849 over 11 units" in markdown
    assert "interval difference function" in markdown and "Krippendorff, K. (2011)" in markdown
    import docx

    text = "\n".join(p.text for p in docx.Document(tmp_path / "report.docx").paragraphs)
    assert "α = 0.849" in text


def test_cli_rating_table_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("unit,A,B\n")
    result = run("reliability", empty)
    assert result.exit_code == 1 and result.output == (
        f"Error: {empty}: has no ratings: expected a header row, then one row per unit\n")
    twice = write_rows(tmp_path / "twice.csv", ["coder", 1, 2], [["A", 1, 2], ["a", 1, 1]])
    result = run("reliability", twice, "--coders-in", "rows")
    assert result.exit_code == 1 and result.output == (
        f"Error: {twice}:3: coder 'a' has two rows (lines 2 and 3); rename or remove one\n")
    one = write_rows(tmp_path / "one.csv", ["unit", "A"], [[1, 2]])
    assert "a rating table needs two or more" in run("reliability", one).output


def test_cli_reproduces_gwets_figures(example_c, tmp_path):
    result = run("reliability", example_c, "--coders-in", "rows", "--metric", "ac1",
                 "--metric", "brennan-prediger", "--metric", "percent", "--json")
    assert result.exit_code == 0, result.output
    found = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert (round(found["ac1"], 5), round(found["brennan-prediger"], 5),
            round(found["percent"], 7)) == (0.77544, 0.77273, 0.8181818)
    table = write_rows(tmp_path / "abstractors.csv", ["record", "abstractor 1", "abstractor 2"],
                       [[i + 1, *row] for i, row in enumerate(ABSTRACTORS)])
    result = run("reliability", table, "--json")
    assert result.exit_code == 0, result.output
    found = {r["metric"]: r["value"] for r in json.loads(result.stdout)}
    assert (round(found["cohen"], 7), round(found["ac1"], 7), round(found["brennan-prediger"], 3),
            found["percent"]) == (0.7964094, 0.8493305, 0.835, pytest.approx(0.89))
