"""What every `coding` command shares: the `main` group (its errors become one line, never a
traceback), the consoles, argument types and options, opening a project, warnings and progress."""

import contextlib
from datetime import UTC
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

import coding
from coding import CodingError
from coding.errors import redact_url
from coding.files import check_regular_file
from coding.project import DEFAULT_MIN_SCORE

# Everything printed is plain text unless a line asks for markup (print(..., markup=True)) and
# escapes the data in it: transcripts hold "[laughs]" and CHAT's "[/]", codes are named "[draft]"
# (issue 13, item 20). No ":smile:" emoji codes either.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

PROJECT = click.argument("project", metavar="PROJECT")
SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
SAMPLE_CODEBOOK = Path(__file__).resolve().parents[2] / "codebooks" / "gcph_asset_based.yaml"


class InputFile(click.Path):
    """An existing file to read. A device, FIFO or socket (/dev/zero, a named pipe) is refused
    before anything opens it: reading one would fill memory or wait forever (issue 13)."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=False)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        try:
            check_regular_file(value)
        except CodingError as exc:
            self.fail(str(exc), param, ctx)
        return value


INPUT_FILE = InputFile()


class ErrorBoundary(click.Group):
    """Every CodingError becomes one 'Error: ...' message and exit status 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CodingError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=ErrorBoundary)
@click.option("--coder", envvar="CODING_CODER", metavar="NAME",
              help="Name stamped on every change (default: $CODING_CODER or your login).")
@click.version_option(package_name="coding")
@click.pass_context
def main(ctx, coder):
    """Qualitative interview coding and thematic analysis.

    PROJECT is a project file (SQLite, made by `coding init`) or a database URL such as
    postgresql+psycopg://user@host/db.
    """
    ctx.obj = {"coder": coder}


def _open(ctx, project):
    opened = coding.open_project(project, coder=ctx.obj["coder"])
    if opened.store.read_only:  # reading works; say so before a change is refused
        _warn(f"{_shown(project)}: {opened.store.read_only}")
    return opened


def _shown(project):
    """A project's file or URL as printed: a database password shows as ***."""
    return redact_url(str(project))


UNIT = click.option("--unit", type=click.Choice(["sentence", "turn"]), default="sentence",
                    show_default=True, help="What a suggestion covers.")
MIN_SCORE = click.option("--min-score", "min_score", type=click.FloatRange(0, 1),
                         help="One score threshold for the model and the semantic suggester "
                              "(default: each code's threshold calibrated by `coding train` "
                              f"on this project's decisions, else {DEFAULT_MIN_SCORE}).")
RULES = click.option("--rules", is_flag=True,
                     help="Keyword and pattern rules (terms from the definitions of codes "
                          "without keywords). With no suggester flag: all three, the default.")
MODEL = click.option("--model", is_flag=True, help="The TF-IDF model.")
SEMANTIC = click.option("--semantic", is_flag=True,
                        help="The semantic suggester (word vectors; averaged with the model "
                             "when both run).")


def _suggesters(rules, model, semantic=False):
    """(rules, model, semantic): the flags given, or all three when none is."""
    if not rules and not model and not semantic:
        return True, True, True
    return rules, model, semantic


def _warn(message):
    err.print(f"[yellow]Warning:[/yellow] {escape(str(message))}", markup=True)


@contextlib.contextmanager
def _progress(label, total):
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda *_: progress.advance(task)


def _utc(at):

    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")
