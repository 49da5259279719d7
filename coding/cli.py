"""The `coding` command: parse arguments, call the package API, print. No business logic."""

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import coding
from coding import CodingError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PROJECT = click.argument("project", metavar="PROJECT")
SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
SAMPLE_CODEBOOK = Path(__file__).resolve().parent.parent / "codebooks" / "gcph_asset_based.yaml"


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
    return coding.open_project(project, coder=ctx.obj["coder"])


@main.command()
@PROJECT
@click.option("--name", help="A display name (default: the file name).")
@click.pass_context
def init(ctx, project, name):
    """Create a new, empty project."""
    with coding.init_project(project, name=name, coder=ctx.obj["coder"]) as created:
        out.print(f"Created project {created.store.label}")


@main.command()
@PROJECT
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--cases", "sheet", type=click.Path(exists=True, dir_okay=False),
              help="Participants sheet (.csv/.xlsx): case id, file, attribute columns.")
@click.pass_context
def ingest(ctx, project, paths, sheet):
    """Ingest transcripts (.txt .md .docx .vtt .srt .pdf) from files and folders."""
    with _open(ctx, project) as opened:
        results = _ingest_with_progress(opened, paths, sheet)
    _report_ingest(results)


def _ingest_with_progress(project, paths, sheet):
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as progress:
        total = len(coding.project.expand_paths(paths))
        task = progress.add_task("Ingesting", total=total)
        return project.ingest(paths, cases=sheet,
                              on_file=lambda result: progress.advance(task))


def _report_ingest(results):
    added = [r for r in results if r.status == "added"]
    duplicates = [r for r in results if r.status == "duplicate"]
    failed = [r for r in results if r.status == "failed"]
    for result in added:
        out.print(f"added      {result.document}  (case {result.case}, {result.turns} turns, "
                  f"{result.words} words)")
    for result in duplicates:
        out.print(f"unchanged  {Path(result.path).name}  (same content as {result.document})")
    out.print(f"{len(added)} added, {len(duplicates)} already in the project, "
              f"{len(failed)} failed")
    if failed:
        raise click.ClickException("these files were not ingested:\n" +
                                   "\n".join(r.error for r in failed))


@main.command()
@PROJECT
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def cases(ctx, project, sheet):
    """Import a participants sheet and link documents to its cases."""
    with _open(ctx, project) as opened:
        count = opened.import_cases(sheet)
        out.print(f"{count} cases imported from {sheet}")


@main.group()
def codebook():
    """Validate, import and export codebooks."""


@codebook.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def codebook_validate(file):
    """Check a codebook file and report every problem with its line."""
    book = coding.load_codebook(file)
    top = sum(1 for code in book.codes if code.parent is None)
    out.print(f"{file}: OK, {len(book.codes)} codes ({top} top-level)")


@codebook.command("import")
@PROJECT
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def codebook_import(ctx, project, file):
    """Store a codebook file (.yaml or .csv) as the project's new codebook version."""
    with _open(ctx, project) as opened:
        book, changed = opened.import_codebook(file)
    if changed:
        out.print(f"Imported codebook '{book.name}': {len(book.codes)} codes")
    else:
        out.print(f"Codebook '{book.name}' is unchanged: {len(book.codes)} codes")


@codebook.command("export")
@PROJECT
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="YAML file to write.")
@click.pass_context
def codebook_export(ctx, project, output):
    """Write the project's codebook as YAML."""
    with _open(ctx, project) as opened:
        opened.export_codebook(output)
    out.print(f"Wrote {output}")


@main.command("import-codings")
@PROJECT
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def import_codings(ctx, project, file):
    """Load codings (document, code, coder, quote or start/end) from .csv or .xlsx."""
    with _open(ctx, project) as opened:
        added, skipped = opened.import_codings(file)
    out.print(f"{added} codings imported, {skipped} already present")


@main.command()
@PROJECT
@click.option("--speaker-pattern", "patterns", multiple=True, metavar="REGEX",
              help="Extra speaker label regex with a (?P<speaker>...) group; repeatable.")
@click.option("--role", "roles", multiple=True, metavar="LABEL=ROLE",
              help="Map a speaker label to a role, e.g. Researcher=interviewer; repeatable.")
@click.pass_context
def settings(ctx, project, patterns, roles):
    """Show or change how speaker labels and roles are recognised."""
    pairs = []
    for item in roles:
        label, sep, role = item.partition("=")
        if not sep or not label.strip() or not role.strip():
            raise click.BadParameter(f"expected LABEL=ROLE, got {item!r}", param_hint="--role")
        pairs.append((label.strip(), role.strip()))
    with _open(ctx, project) as opened:
        current = opened.set_speaker_rules(patterns=patterns or None,
                                           roles=pairs or None) if (patterns or pairs) \
            else opened.settings
    out.print(f"speaker patterns: {current.get('speaker_patterns') or '(defaults only)'}")
    defaults = "(defaults: Interviewer, INT, I, Q, Facilitator -> interviewer)"
    out.print(f"roles: {current.get('roles') or defaults}")


@main.command()
@PROJECT
@click.pass_context
def documents(ctx, project):
    """List documents with case, words, turns and codings."""
    with _open(ctx, project) as opened:
        rows = opened.documents()
    table = Table("document", "format", "case", "words", "turns", "codings")
    for row in rows:
        table.add_row(row.name, row.format, row.case or "", str(row.words), str(row.turns),
                      str(row.codings))
    out.print(table)


@main.command()
@PROJECT
@click.pass_context
def summary(ctx, project):
    """Print counts of documents, turns, cases, codes and codings."""
    with _open(ctx, project) as opened:
        _print_summary(opened)


def _print_summary(project):
    info = project.summary()
    out.print(f"[bold]Project[/bold] {info['project']}  ({info['location']})")
    out.print(f"  documents  {info['documents']}  ({info['words']:,} words, {info['turns']} "
              f"turns: " + ", ".join(f"{n} {role}" for role, n in
                                     sorted(info['turns_by_role'].items())) + ")")
    out.print(f"  cases      {info['cases']}  (attributes: "
              f"{', '.join(info['attributes']) or 'none'})")
    out.print(f"  codes      {info['codes']}  ({info['codebook_versions']} codebook versions)")
    statuses = ", ".join(f"{n} {s}" for s, n in info["codings_by_status"].items() if n)
    out.print(f"  codings    {info['codings']}" + (f"  ({statuses}; coders: "
                                                   f"{', '.join(info['coders'])})"
                                                   if info['codings'] else ""))
    out.print(f"  memos      {info['memos']}   events {info['events']}")
    frame = project.codings_frame()
    if not frame.empty:
        table = Table("code", "codings", "documents", title="Codings per code")
        grouped = frame.groupby("code_path").agg(codings=("coding_id", "size"),
                                                 documents=("document", "nunique"))
        for path, row in grouped.sort_values("codings", ascending=False).iterrows():
            table.add_row(path, str(row["codings"]), str(row["documents"]))
        out.print(table)


@main.command()
@click.argument("project", metavar="PROJECT", default="sample_project.db")
@click.pass_context
def demo(ctx, project):
    """Build a project from the bundled sample study (data_samples/) and print its summary.

    Safe to run again: unchanged files, codebook and codings are recognised, not duplicated.
    """
    if not SAMPLES.is_dir():
        raise click.ClickException(f"the sample study is not here: {SAMPLES}")
    started = time.perf_counter()
    with coding.open_project(project, coder=ctx.obj["coder"], create=True) as opened:
        out.print(f"[bold]1.[/bold] project {opened.store.label}")
        book, changed = opened.import_codebook(SAMPLE_CODEBOOK)
        out.print(f"[bold]2.[/bold] codebook '{book.name}': {len(book.codes)} codes"
                  + ("" if changed else " (unchanged)"))
        out.print("[bold]3.[/bold] ingest data_samples/transcripts with participants.csv")
        results = _ingest_with_progress(opened, [SAMPLES / "transcripts"],
                                        SAMPLES / "participants.csv")
        _report_ingest(results)
        added, skipped = opened.import_codings(SAMPLES / "gold_codings.csv")
        out.print(f"[bold]4.[/bold] gold codings: {added} imported, {skipped} already present")
        _print_summary(opened)
    out.print(f"Done in {time.perf_counter() - started:.1f} s. Next: `coding summary {project}`")


if __name__ == "__main__":
    sys.exit(main())
