"""`coding agreement`: how far coders (people, or the suggesters) agree on a project's codings,
per code, and over a parent's children as one category (`--categories`, options in
reliability.py)."""

import click
from rich.table import Table

from coding.interchange import exports

from .base import PROJECT, _open, _warn, main, out
from .reliability import categories_option


@main.command("agreement")
@PROJECT
@click.option("--coders", required=True, multiple=True, metavar="NAME",
              help="Two or more coders; repeat the option or list names after it. "
                   "'model', 'rules', 'semantic' and 'llm' stand for the suggesters.")
@click.argument("more_coders", nargs=-1, metavar="")
@click.option("--unit", type=click.Choice(["sentence", "turn", "char"]), default="sentence",
              show_default=True)
@click.option("--codes", multiple=True, help="Only these codes (repeatable).")
@click.option("--documents", multiple=True, help="Only these documents (repeatable).")
@click.option("--all-roles", is_flag=True, help="Count interviewer turns too.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Also write the table (.csv or .xlsx).")
@click.pass_context
@categories_option
def agreement_command(ctx, project, coders, more_coders, unit, codes, documents, all_roles,
                      output):
    """Inter-coder agreement per code and pooled: % agreement, Cohen's kappa (two coders),
    Krippendorff's alpha; for all units and for coded units only, with the number of units
    behind each figure.

    \b
    coding agreement study.db --coders "Aileen Murray" "Rab Paterson"
    coding agreement study.db --coders "Aileen Murray" model --unit turn -o agreement.xlsx
    """
    with _open(ctx, project) as opened:
        table = opened.agreement(list(coders) + list(more_coders), unit=unit,
                                 codes=list(codes) or None,
                                 documents=list(documents) or None,
                                 roles=None if all_roles else ("participant",))
    shown = Table(title=f"Agreement ({unit} units)")
    columns = [c for c in table.columns if c != "warning"]
    for column in columns:
        shown.add_column(column, justify="left" if column in ("code", "variant") else "right")
    for row in table[columns].itertuples(index=False):
        shown.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    out.print(shown)
    for row in table[table["warning"] != ""].itertuples():
        _warn(f"{row.code} ({row.variant}): {row.warning}")
    if output:
        exports.write({"Agreement": table}, output)
        out.print(f"written to {output}")
