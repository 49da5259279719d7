"""`coding reliability` and `coding agreement --categories` with its reliability options
(issue 18): parse, call the API, print. cli/__init__.py registers the
command; agreement.py decorates `agreement` with `categories_option`."""

import functools
import json
import math

import click
from rich.markup import escape
from rich.table import Table

import coding
from coding.analysis import reliability
from coding.interchange import agreement_report

from .base import INPUT_FILE, err, out

OPTIONS = {
    "metrics": click.option("--metric", "metrics", multiple=True,
                            type=click.Choice(reliability.METRICS),
                            help="A statistic; repeatable (default: every one that applies)."),
    "level": click.option("--level", type=click.Choice(reliability.LEVELS), default="nominal",
                          show_default=True, help="Krippendorff's alpha's level of measurement."),
    "weights": click.option("--weights", type=click.Choice(reliability.WEIGHTS),
                            help="Cohen's kappa weighted by steps between ordered values."),
    "bootstrap": click.option("--bootstrap", type=click.IntRange(0), default=0, metavar="N",
                              help="Bootstrap alpha N times (1000 or more): 95 % interval and "
                                   "P(alpha < 0.667), P(alpha < 0.8)."),
    "seed": click.option("--seed", type=int, help="Random seed: the same interval again."),
    "as_json": click.option("--json", "as_json", is_flag=True,
                            help="Print JSON (metric, level, value, units, coders, ...)."),
}


def reliability_options(command):
    """--metric, --level, --weights, --bootstrap, --seed, --json on a command."""
    for option in reversed(OPTIONS.values()):
        command = option(command)
    return command


def check_unused(options, why):
    """UsageError when a reliability option was given where it does nothing."""
    given = [f"--{name.replace('as_', '').replace('metrics', 'metric')}"
             for name, value in options.items() if name in OPTIONS and value
             and not (name == "level" and value == "nominal")]
    if given:
        raise click.UsageError(f"{', '.join(given)} {'go' if len(given) > 1 else 'goes'} with "
                               f"{why}")


def categories_option(command):
    """Give `coding agreement` --categories PARENT and the reliability options: with
    --categories it reports the reliability of PARENT's children as one variable per unit
    (Project.category_reliability) instead of the per-code table; without, those options are
    refused. Goes between @click.pass_context and the function."""

    @functools.wraps(command)
    def agreement(ctx, project, coders, more_coders, unit, codes, documents, all_roles, output,
                  categories, as_json, **options):
        if not categories:
            check_unused({**options, "as_json": as_json}, "--categories")
            return command(ctx, project, coders, more_coders, unit, codes, documents,
                           all_roles, output)
        if codes:
            raise click.UsageError("--codes and --categories do not go together: the "
                                   "categories are the children of PARENT")
        with coding.open_project(project, coder=ctx.obj["coder"]) as opened:
            found = opened.category_reliability(
                categories, list(coders) + list(more_coders), unit, list(documents) or None,
                None if all_roles else ("participant",), **options)
        show_reliability(found, as_json, output)

    for option in reversed([CATEGORIES, *OPTIONS.values()]):
        agreement = option(agreement)
    return agreement


CATEGORIES = click.option(
    "--categories", metavar="PARENT",
    help="The children of PARENT as one variable per unit (the child a coder applied, none or "
         "several): every reliability statistic (--metric, --level, --bootstrap...); -o then "
         "writes the agreement report (.xlsx .csv .md .docx .json). E.g. --categories "
         "intensity --level ordinal --bootstrap 10000 --seed 1.")


@click.command("reliability")
@click.argument("table", metavar="TABLE", type=INPUT_FILE)
@reliability_options
@click.option("--order", metavar="LABELS",
              help='Labels lowest first, for text at the ordinal, interval and ratio levels and '
                   'weighted kappa: "very low,low,mid,high".')
@click.option("--coders-in", type=click.Choice(["columns", "rows"]), default="columns",
              show_default=True, help="rows: one row per coder and one column per unit "
                                      "(Krippendorff's layout).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Also write the agreement report: .xlsx, .csv, .md, .docx or .json.")
def reliability_command(table, coders_in, order, output, as_json, **options):
    """Reliability of a rating table (.csv/.xlsx) a team collected anywhere: the first column
    names the unit, then one column per coder; an empty cell is a missing rating; ratings are
    numbers or labels. Krippendorff's alpha (any level), Cohen's kappa (two coders; weighted
    with --weights), Fleiss' kappa (units every coder rated), Gwet's AC1, percent agreement
    and Brennan-Prediger.

    \b
    coding reliability ratings.csv
    coding reliability ratings.csv --level ordinal --order "very low,low,mid,high"
    coding reliability ratings.xlsx --bootstrap 10000 --seed 1 -o methods.docx
    coding reliability krippendorff.csv --coders-in rows --level interval --json
    """
    found = agreement_report.assess_file(table, coders_in, order=order, warn=warn, **options)
    show_reliability(found, as_json, output)


def show_reliability(found, as_json, output):
    """Print an Assessment as a table (or JSON: one object per statistic, a list when there are
    several), warnings on stderr, and write the report to `output` when given."""
    for warning in found.warnings:
        warn(warning)
    if as_json:
        results = found.as_dicts()
        click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2,
                              ensure_ascii=False))
    else:
        shown = Table("statistic", "value", "95% CI", "units",
                      title=f"Reliability: {found.units} units, {len(found.coders)} coders")
        for result in found.results:
            b = result.bootstrap
            shown.add_row(result.name, _number(result.value),
                          f"[{b.low:.3f}, {b.high:.3f}]" if b else "", str(result.units))
        out.print(shown)
        for result in found.results:
            if result.bootstrap is not None:
                b = result.bootstrap
                out.print(f"{result.name}: " + ", ".join(
                    f"P(alpha < {m:g}) = {p:.3f}" for m, p in b.below.items())
                    + f" ({b.samples:,} bootstrap samples of {b.draws} pairs"
                    + (f", seed {b.seed})" if b.seed is not None else ")"))
    if output:
        agreement_report.write_report(found, output)
        (err if as_json else out).print(f"report written to {output}")


def _number(value):
    return "undefined" if value is None or math.isnan(value) else f"{value:.3f}"


def warn(message):
    err.print(f"[yellow]Warning:[/yellow] {escape(str(message))}", markup=True)
