"""`coding search` (issue 16, item 3): parse, call Project.search and Project.code_hits, print
the hits in keyword-in-context lines. cli/__init__.py registers the
command."""

import click
from rich.cells import cell_len

import coding
from coding.errors import redact_url
from coding.interchange import exports

from .base import err, out

MODES = ("words", "phrase", "lemma", "regex")
UNITS = ("hit", "sentence", "turn")


@click.command("search")
@click.argument("project", metavar="PROJECT")
@click.argument("pattern")
@click.option("--mode", type=click.Choice(MODES), default="words", show_default=True,
              help="words: any of them, whole words (support* for any ending); phrase: these "
                   "words in this order; lemma: any form of the words (support finds "
                   "supported); regex: a Python regular expression, per turn.")
@click.option("--document", "documents", multiple=True, metavar="D",
              help="Only this document (repeatable).")
@click.option("--role", "roles", multiple=True, metavar="R",
              help="Only turns of this speaker role, e.g. participant (repeatable).")
@click.option("--attribute", "attributes", multiple=True, metavar="NAME=VALUE",
              help="Only cases with this attribute value (repeatable; one NAME given twice "
                   "means either value).")
@click.option("--in-code", metavar="CODE", help="Only hits inside passages coded with CODE.")
@click.option("--case-sensitive", is_flag=True, help="Words, phrases and regexes match case.")
@click.option("--context", type=click.IntRange(0), default=40, show_default=True,
              help="Characters shown each side of a hit.")
@click.option("--apply", "code", metavar="CODE",
              help="Code every hit with CODE, in one action `coding undo` reverses.")
@click.option("--as", "unit", type=click.Choice(UNITS),
              help="With --apply: code the hit itself (default), its sentence or its turn.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Also write the hits to a table (.xlsx, .csv).")
@click.pass_context
def search_command(ctx, project, pattern, mode, documents, roles, attributes, in_code,
                   case_sensitive, context, code, unit, output):
    """Find PATTERN in the transcripts' turns and list the hits in context; with --apply,
    code them.

    \b
    coding search study.db "support" --mode lemma --role participant
    coding search study.db "peer support" --mode phrase --attribute site=Govan
    coding search study.db "volunt*" --apply volunteering --as sentence
    """
    if unit and not code:
        raise click.UsageError("--as goes with --apply CODE")
    wanted = {}
    for given in attributes:
        name, equals, value = given.partition("=")
        if not equals or not name.strip():
            raise click.UsageError(f"--attribute takes NAME=VALUE, not '{given}'")
        wanted.setdefault(name.strip(), []).append(value.strip())
    with coding.open_project(project, coder=ctx.obj["coder"]) as opened:
        hits = opened.search(pattern, mode=mode, documents=list(documents) or None,
                             roles=list(roles) or None, attributes=wanted or None,
                             in_code=in_code, context=context, case_sensitive=case_sensitive,
                             warn=lambda note: err.print(note))
        show_hits(hits, pattern, mode)
        if output:
            exports.write({"Hits": hits}, output)
            out.print(f"written to {output}")
        if code and not hits.empty:
            done = opened.code_hits(hits, code, unit or "hit")
            out.print(f"Coded {_count(done.added, unit or 'hit')} with {code}"
                      + (f" (undo: coding undo {redact_url(project)})" if done.added else "")
                      + (f"; {done.skipped} {'was' if done.skipped == 1 else 'were'} coded so "
                         "already" if done.skipped else ""))


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def show_hits(hits, pattern, mode):
    """One line a hit: the hit in its context, centred, then its document, turn and speaker."""
    out.print(f"{_count(len(hits), 'hit')} for '{pattern}' ({mode}) in "
              f"{_count(hits['document'].nunique(), 'document')}")
    if hits.empty:
        return
    left = max(cell_len(text) for text in hits["left"])  # in columns: an emoji takes two
    right = max(cell_len(text) for text in hits["right"])
    for row in hits.itertuples():
        out.print(" " * (left - cell_len(row.left)) + f"{row.left}[{row.hit}]{row.right}"
                  + " " * (right - cell_len(row.right))
                  + f"  {row.document} turn {row.turn} {row.speaker or '?'}")
