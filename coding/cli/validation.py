"""How `coding evaluate`, `train` and `review` show suggestion quality: the evaluation table
(micro and macro), the learning curve, the calibrated thresholds, and the validation gate that
decides a bulk accept."""

import math

from rich.table import Table

from coding import CodingError
from coding.project import GATE_TARGET

from .base import err, out

__all__ = ["GATE_TARGET", "accept_in_bulk", "print_curve", "print_evaluation", "print_gate",
           "show_calibration"]
SUGGESTERS = ("rules", "model", "semantic", "default", "names")


def _f(value, digits=3):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{value:.{digits}f}"


def print_evaluation(table, title):
    """The pooled figures per suggester (micro F1 and macro F1), then F1 per code."""
    overall = Table("suggester", "units", "support", "predicted", "precision", "recall",
                    "F1 micro", "F1 macro", "kappa", "alpha", title=title)
    macro = table[table["code"] == "MACRO"].set_index("suggester")["f1"]
    for row in table[table["code"] == "ALL"].itertuples():
        overall.add_row(row.suggester, str(row.units), str(row.support), str(row.predicted),
                        _f(row.precision), _f(row.recall), _f(row.f1),
                        _f(macro.get(row.suggester)), _f(row.kappa), _f(row.alpha))
    out.print(overall)
    out.print("default: what `coding suggest` does with no flags; names: a baseline that "
              "suggests a code where a word of its name occurs")
    per_code = table[~table["code"].isin(["ALL", "MACRO"])]
    names = [s for s in SUGGESTERS if s in set(per_code["suggester"])]
    codes = Table("code", "support", *(f"F1 {s}" for s in names), title="F1 per code")
    f1 = per_code.pivot(index="code", columns="suggester", values="f1")
    support = per_code[per_code["suggester"] == names[0]].set_index("code")["support"]
    for code, row in f1.iterrows():
        codes.add_row(code, str(support[code]), *(_f(row[s]) for s in names))
    out.print(codes)


def print_curve(curve):
    table = Table("coded documents", "units", "F1 micro", "F1 macro",
                  title="Learning curve (default suggestions, held-out documents)")
    for row in curve.itertuples():
        table.add_row(str(row.documents), str(row.units), _f(row.f1_micro), _f(row.f1_macro))
    out.print(table)


def show_calibration(calibration):
    """The thresholds training chose, per learner combination."""
    if not calibration:
        out.print("Thresholds: the default minimum score (nothing coded to calibrate on)")
        return
    for name, found in calibration.items():
        own = found.get("codes", {})
        said = f"Thresholds for {name}: {found['shared']:.3f} shared"
        if own:
            said += "; own: " + ", ".join(f"{code} {t:.3f}" for code, t in sorted(own.items()))
        out.print(said)


def print_gate(gate):
    table = Table("code", "suggester", "reviewed", "accepted", "precision", "lower 95 %",
                  "pending", "bulk accept", title=f"Validation gate (scores >= "
                                                  f"{gate['min_score'].iloc[0]:g})")
    for row in gate.itertuples():
        verdict = "allowed" if row.passes else "not yet"
        if row.better_than_chance is False:
            verdict += ", no better than chance"
        if row.off:
            verdict += ", switched off"
        table.add_row(row.code, row.suggester, str(row.reviewed), str(row.accepted),
                      _f(row.precision, 2), _f(row.lower_95, 2), str(row.pending), verdict)
    out.print(table)


def accept_in_bulk(opened, code, min_score, target, force):
    """Accept the pending suggestions of `code` ('all': of every code) scoring >= min_score,
    code by code, where the gate allows it (or with force); say why for the others."""
    codes = sorted(set(opened.pending()["code"])) if code == "all" else [code]
    accepted = []
    for each in codes:
        try:
            gate, ids = opened.accept_validated(each, min_score, target, force)
        except CodingError as exc:
            if code != "all":
                raise
            err.print(f"{each}: {exc}")
            continue
        if not gate.passes:
            err.print(f"{each}: accepted with --force although {gate.explain()}")
        accepted += ids
    return accepted
