"""The `coding` command: parse arguments, call the package API, print. No business logic."""

import contextlib
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import coding
from coding import CodingError
from coding.cli_reliability import categories_option, reliability_command
from coding.cli_search import search_command
from coding.errors import redact_url
from coding.files import check_regular_file, write_atomic
from coding.interchange import exports, transfer
from coding.project import DEFAULT_MIN_SCORE, DaskScheduler

# Everything printed is plain text unless a line asks for markup (print(..., markup=True)) and
# escapes the data in it: transcripts hold "[laughs]" and CHAT's "[/]", codes are named "[draft]"
# (issue 13, item 20). No ":smile:" emoji codes either.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

PROJECT = click.argument("project", metavar="PROJECT")
SAMPLES = Path(__file__).resolve().parent.parent / "data_samples"
SAMPLE_CODEBOOK = Path(__file__).resolve().parent.parent / "codebooks" / "gcph_asset_based.yaml"


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


@main.command()
@PROJECT
@click.option("--name", help="A display name (default: the file name).")
@click.pass_context
def init(ctx, project, name):
    """Create a new, empty project."""
    with coding.init_project(project, name=name, coder=ctx.obj["coder"]) as created:
        out.print(f"Created project {_shown(created.store.label)}")


@main.command()
@PROJECT
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--cases", "sheet", type=INPUT_FILE,
              help="Participants sheet (.csv/.xlsx): case id, file, attribute columns.")
@click.pass_context
def ingest(ctx, project, paths, sheet):
    """Ingest transcripts (.txt .md .docx .odt .vtt .srt .sbv .pdf, Teams and Zoom
    transcripts) from files and folders."""
    with _open(ctx, project) as opened:
        results = _ingest_with_progress(opened, paths, sheet)
    _report_ingest(results)


def _ingest_with_progress(project, paths, sheet):
    with _progress("Ingesting", len(coding.expand_paths(paths))) as advance:
        return project.ingest(paths, cases=sheet, on_file=advance, warn=_warn)


def _report_ingest(results):
    added = [r for r in results if r.status == "added"]
    duplicates = [r for r in results if r.status == "duplicate"]
    failed = [r for r in results if r.status == "failed"]
    for result in added:
        out.print(f"added      {result.document}  (case {result.case}, {result.turns} turns, "
                  f"{result.words} words)")
    for result in duplicates:
        out.print(f"unchanged  {Path(result.path).name}  (same content as {result.document})")
    for result in results:  # an encoding chosen, bytes repaired, a same-text document
        for warning in result.warnings:
            _warn(warning)
    out.print(f"{len(added)} added, {len(duplicates)} already in the project, "
              f"{len(failed)} failed")
    if failed:
        raise click.ClickException("these files were not ingested:\n" +
                                   "\n".join(r.error for r in failed))


@main.command()
@PROJECT
@click.argument("sheet", type=INPUT_FILE)
@click.pass_context
def cases(ctx, project, sheet):
    """Import a participants sheet and link documents to its cases."""
    with _open(ctx, project) as opened:
        count = opened.import_cases(sheet, warn=_warn)
        out.print(f"{count} cases imported from {sheet}")


@main.group()
def codebook():
    """Validate, import and export codebooks."""


@codebook.command("validate")
@click.argument("file", type=INPUT_FILE)
def codebook_validate(file):
    """Check a codebook file and report every problem with its line."""
    book = coding.load_codebook(file)
    top = sum(1 for code in book.codes if code.parent is None)
    out.print(f"{file}: OK, {len(book.codes)} codes ({top} top-level)")


@codebook.command("import")
@PROJECT
@click.argument("file", type=INPUT_FILE)
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
@click.argument("file", type=INPUT_FILE)
@click.pass_context
def import_codings(ctx, project, file):
    """Load codings (document, code, coder, quote or start/end) from .csv or .xlsx."""
    with _open(ctx, project) as opened:
        added, skipped = opened.import_codings(file, warn=_warn)
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
@click.option("--rename", nargs=2, metavar="OLD NEW", help="Rename a document (undoable).")
@click.option("--delete", metavar="NAME", help="Delete a document with its codings and memos "
              "(a backup is taken first; undoable).")
@click.option("--purge", metavar="NAME", help="Remove a document for good when consent is "
              "withdrawn: from the project, its log and its backups. Cannot be undone.")
@click.option("--yes", is_flag=True, help="Purge without asking.")
@click.pass_context
def documents(ctx, project, rename, delete, purge, yes):
    """List documents with case, words, turns and codings; or rename, delete or purge one."""
    if purge and not yes:
        click.confirm(f"Purge {purge}: its text, codings and memos leave the project, its log "
                      "and its backups for good. Go on?", abort=True)
    with _open(ctx, project) as opened:
        if rename or delete or purge:
            out.print(f"Renamed {rename[0]} to {opened.rename_document(*rename)}." if rename else
                      (opened.delete_document(delete) if delete else
                       opened.purge_document(purge)).summary())
            return
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
    out.print(f"[bold]Project[/bold] {escape(info['project'])}  "
              f"({escape(_shown(info['location']))})", markup=True)
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


UNIT = click.option("--unit", type=click.Choice(["sentence", "turn"]), default="sentence",
                    show_default=True, help="What a suggestion covers.")
MIN_SCORE = click.option("--min-score", "min_score", type=click.FloatRange(0, 1),
                         default=DEFAULT_MIN_SCORE, show_default=True,
                         help="Model suggestions below this score are not queued.")


def _suggesters(rules, model):
    if not rules and not model:  # neither flag: both suggesters
        return True, True
    return rules, model


@main.command()
@PROJECT
@UNIT
@click.pass_context
def train(ctx, project, unit):
    """Retrain the suggestion model from accepted, manual and rejected codings."""
    with _open(ctx, project) as opened:
        info = opened.train(unit=unit)
    source = "the codebook only (no codings yet)" if info["cold_start"] else \
        f"{info['units']} {unit}s ({info['positive_units']} coded)"
    out.print(f"Trained model {info['version']} on {source}: {info['codes']} codes")
    if info["skipped_codes"]:
        out.print("No examples for: " + ", ".join(info["skipped_codes"]))


@main.command()
@PROJECT
@click.option("--rules", is_flag=True, help="Keyword and pattern rules (default: both).")
@click.option("--model", is_flag=True, help="The trained model (default: both).")
@UNIT
@MIN_SCORE
@click.option("--document", "documents", multiple=True, help="Only these documents.")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True)
@click.pass_context
def suggest(ctx, project, rules, model, unit, min_score, documents, workers):
    """Queue code suggestions for review (never duplicating one already queued or reviewed)."""
    rules, model = _suggesters(rules, model)
    with _open(ctx, project) as opened:
        total = len(documents) or len(opened.documents())
        with _progress("Suggesting", total) as advance:
            added = opened.suggest(rules=rules, model=model, unit=unit, min_score=min_score,
                                   documents=documents or None, workers=workers,
                                   on_document=advance, warn=_warn)
        pending = len(opened.pending())
    out.print(f"{added} new suggestions; {pending} pending review "
              f"(`coding review {_shown(project)}`)")


@main.command()
@PROJECT
@click.option("--accept", "accept", multiple=True, metavar="ID|CODE|all",
              help="Accept suggestions by id, or every pending one of a code (or 'all').")
@click.option("--reject", "reject", multiple=True, metavar="ID|CODE|all",
              help="Reject suggestions by id, or every pending one of a code (or 'all').")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Only scores >= this.")
@click.option("--max-score", type=click.FloatRange(0, 1), help="Only scores < this.")
@click.option("--order", type=click.Choice(["uncertainty", "document", "score"]),
              default="uncertainty", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True,
              help="Rows to list.")
@click.pass_context
def review(ctx, project, accept, reject, min_score, max_score, order, limit):
    """List pending suggestions, or accept / reject them by id, code or score."""
    with _open(ctx, project) as opened:
        for decision, values in (("accept", accept), ("reject", reject)):
            if not values:
                continue
            ids = [v for v in values if v.isdigit()]
            codes = [v for v in values if not v.isdigit()]
            changed = opened.review(decision, ids=ids) if ids else []
            for code in codes:
                changed += opened.review(decision, code=code, min_score=min_score,
                                         max_score=max_score)
            out.print(f"{decision}ed {len(changed)} suggestions")
        if accept or reject:
            return
        queue = opened.pending(order=order)
    table = Table("id", "document", "code", "score", "quote", "why", title=(
        f"{len(queue)} pending suggestions (showing {min(limit, len(queue))}, by {order})"))
    for row in queue.head(limit).itertuples():
        quote = row.quote if len(row.quote) <= 80 else row.quote[:77] + "..."
        table.add_row(str(row.coding_id), row.document, row.code, f"{row.score:.2f}", quote,
                      row.rationale)
    out.print(table)


@main.command()
@PROJECT
@click.option("--coder", "gold_coder", required=True, help="Whose codings are the reference.")
@click.option("--folds", type=click.IntRange(2), default=5, show_default=True)
@UNIT
@MIN_SCORE
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="evaluation.csv",
              show_default=True, help="CSV with every figure.")
@click.pass_context
def evaluate(ctx, project, gold_coder, folds, unit, min_score, output):
    """Cross-validated precision, recall, F1, kappa and alpha of rules, model and both (alpha
    and kappa as `coding agreement` computes them, the suggester taken as a second coder)."""
    with _open(ctx, project) as opened:
        table = opened.evaluate(gold_coder, folds=folds, unit=unit, min_score=min_score)
    write_atomic(output, exports.to_csv(table))
    overall = Table("suggester", "units", "support", "predicted", "precision", "recall", "F1",
                    "kappa", "alpha", title=f"Against {gold_coder}, {folds}-fold by document, "
                                            f"per {unit}")
    for row in table[table["code"] == "ALL"].itertuples():
        overall.add_row(row.suggester, str(row.units), str(row.support), str(row.predicted),
                        f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}",
                        f"{row.kappa:.3f}", f"{row.alpha:.3f}")
    out.print(overall)
    per_code = table[table["code"] != "ALL"].pivot(index="code", columns="suggester",
                                                   values="f1")
    codes = Table("code", "support", "F1 rules", "F1 model", "F1 both", title="F1 per code")
    support = table[(table["suggester"] == "rules") & (table["code"] != "ALL")].set_index(
        "code")["support"]
    for code, row in per_code.iterrows():
        codes.add_row(code, str(support[code]), f"{row['rules']:.3f}", f"{row['model']:.3f}",
                      f"{row['both']:.3f}")
    out.print(codes)
    out.print(f"Wrote {output}")


@main.command()
@PROJECT
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--codebook", "codebook_file", type=INPUT_FILE,
              help="Codebook to import first (skipped when unchanged).")
@click.option("--cases", "sheet", type=INPUT_FILE,
              help="Participants sheet to import first.")
@click.option("--rules", is_flag=True, help="Keyword and pattern rules (default: both).")
@click.option("--model", is_flag=True, help="The trained model (default: both).")
@UNIT
@MIN_SCORE
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Local processes.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Run on a dask.distributed scheduler: tls://10.0.0.5:8786 with the three "
                   "TLS options (the link carries pickles), or tcp://127.0.0.1:8786 on this "
                   "computer.")
@click.option("--dask-tls-ca", "tls_ca", type=INPUT_FILE,
              metavar="PEM", help="The CA certificate that signed the scheduler's certificate.")
@click.option("--dask-tls-cert", "tls_cert", type=INPUT_FILE,
              metavar="PEM", help="This client's certificate (it may hold the key too).")
@click.option("--dask-tls-key", "tls_key", type=INPUT_FILE,
              metavar="PEM", help="This client's private key.")
@click.pass_context
def batch(ctx, project, paths, codebook_file, sheet, rules, model, unit, min_score, workers,
          dask_address, tls_ca, tls_cert, tls_key):
    """Ingest transcripts and queue suggestions in one resumable run.

    \b
    coding batch study.db transcripts/ --workers 4
    coding batch study.db transcripts/ --dask tls://10.0.0.5:8786 \\
        --dask-tls-ca ca.pem --dask-tls-cert me.pem --dask-tls-key me.key
    """
    if (tls_ca or tls_cert or tls_key) and not dask_address:
        raise click.UsageError("--dask-tls-ca, --dask-tls-cert and --dask-tls-key go with "
                               "--dask tls://HOST:PORT")
    dask = DaskScheduler(dask_address, ca_file=tls_ca, cert=tls_cert, key=tls_key) \
        if dask_address else None
    rules, model = _suggesters(rules, model)
    started = time.perf_counter()
    with coding.open_project(project, coder=ctx.obj["coder"], create=True) as opened:
        if sheet:
            opened.import_cases(sheet, warn=_warn)
        total = len(coding.expand_paths(paths))
        with _progress("Coding", total) as advance:
            report = opened.batch(paths, codebook=codebook_file, rules=rules, model=model,
                                  unit=unit, min_score=min_score, workers=workers,
                                  dask=dask, on_document=advance, warn=_warn)
    seconds = time.perf_counter() - started
    out.print(f"{len(report.added)} added, {len(report.unchanged)} already in the project, "
              f"{len(report.failed)} failed; {report.suggestions} new suggestions; "
              f"{report.words:,} words in {seconds:.1f} s")
    if report.failed:
        raise click.ClickException("these files were not ingested:\n" +
                                   "\n".join(report.failed))


def _warn(message):
    err.print(f"[yellow]Warning:[/yellow] {escape(str(message))}", markup=True)


@contextlib.contextmanager
def _progress(label, total):
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task(label, total=total)
        yield lambda *_: progress.advance(task)


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
        out.print(f"[bold]1.[/bold] project {escape(_shown(opened.store.label))}", markup=True)
        book, changed = opened.import_codebook(SAMPLE_CODEBOOK)
        out.print(f"[bold]2.[/bold] codebook '{escape(book.name)}': {len(book.codes)} codes"
                  + ("" if changed else " (unchanged)"), markup=True)
        out.print("[bold]3.[/bold] ingest data_samples/transcripts with participants.csv",
                  markup=True)
        results = _ingest_with_progress(opened, [SAMPLES / "transcripts"],
                                        SAMPLES / "participants.csv")
        _report_ingest(results)
        added, skipped = opened.import_codings(SAMPLES / "gold_codings.csv", warn=_warn)
        out.print(f"[bold]4.[/bold] gold codings: {added} imported, {skipped} already present",
                  markup=True)
        info = opened.train()
        out.print(f"[bold]5.[/bold] model {info['version']} trained on {info['units']} "
                  f"participant sentences ({info['positive_units']} coded)", markup=True)
        with _progress("Batch-coding", len(opened.documents())) as advance:
            queued = opened.suggest(on_document=advance, warn=_warn, workers=2)
        out.print(f"[bold]6.[/bold] batch-coded with rules and the model on 2 workers: {queued} "
                  f"new suggestions queued for review (`coding app {escape(_shown(project))}`)",
                  markup=True)
        _print_summary(opened)
    out.print(f"Done in {time.perf_counter() - started:.1f} s. "
              f"Next: `coding app {_shown(project)}`")


@main.command("agreement")
@PROJECT
@click.option("--coders", required=True, multiple=True, metavar="NAME",
              help="Two or more coders; repeat the option or list names after it. "
                   "'model' and 'rules' stand for the suggesters.")
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


main.add_command(reliability_command)
main.add_command(search_command)


@main.command("log")
@PROJECT
@click.option("--coder", "who", metavar="NAME", help="Only this coder's changes.")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True,
              help="How many of the newest changes to list.")
@click.pass_context
def log_command(ctx, project, who, limit):
    """The project's history, newest first: when, who, what (and what was undone)."""
    import pandas as pd

    with _open(ctx, project) as opened:
        frame = opened.history(coder=who, limit=limit)
    table = Table("#", "time (UTC)", "coder", "action", "what",
                  title=f"Newest {len(frame)} changes" + (f" by {who}" if who else ""))
    for row in frame.itertuples():  # what holds names and spans like [12, 40): plain text
        undone = "" if pd.isna(row.undone_by) else f"  (undone by #{row.undone_by})"
        table.add_row(str(row.event_id), _utc(row.at), row.coder, row.action, row.what + undone)
    out.print(table)


def _utc(at):
    from datetime import timezone

    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%d %H:%M:%S")


@main.command("undo")
@PROJECT
@click.option("--steps", type=click.IntRange(1), default=1, show_default=True,
              help="How many of your newest changes to undo.")
@click.pass_context
def undo_command(ctx, project, steps):
    """Undo your newest changes (only yours: the coder is --coder, $CODING_CODER or your login).
    Codings, reviews (a bulk accept as a whole), recodes, spans, memos, consensus decisions and
    codebook edits can be undone; each undo is logged."""
    with _open(ctx, project) as opened:
        done = opened.undo(steps)
        who = opened.coder
    for event_id, _, what in done:
        out.print(f"undid #{event_id}: {what}")
    if len(done) < steps:
        out.print(f"{who} had only {len(done)} change{'s' if len(done) != 1 else ''} to undo")


@main.command("backup")
@PROJECT
@click.option("--to", "target", type=click.Path(dir_okay=False),
              help="File to write (default: a new file in PROJECT.backups/).")
@click.option("--list", "listing", is_flag=True, help="List the project's backups instead.")
@click.pass_context
def backup_command(ctx, project, target, listing):
    """Back up a SQLite project with SQLite's online backup API: safe while others work on it.
    Automatic backups (before upgrades, batches, imports and merges; the newest 5 kept) are
    in PROJECT.backups/ too. For PostgreSQL, use pg_dump."""
    with _open(ctx, project) as opened:
        if listing:
            found = opened.backups()
        else:
            started = time.perf_counter()
            written = opened.backup(target)
            seconds = time.perf_counter() - started
    if not listing:
        size = Path(written).stat().st_size / 1e6
        out.print(f"Backed up to {written} ({size:.1f} MB in {seconds:.2f} s)")
        return
    table = Table("file", "time (UTC)", "newest event", "reason", "MB",
                  title=f"{len(found)} backups")
    for item in found:
        table.add_row(str(item.path), item.when.strftime("%Y-%m-%d %H:%M:%S"), str(item.event),
                      item.reason, f"{item.path.stat().st_size / 1e6:.1f}")
    out.print(table)


@main.command("restore")
@PROJECT
@click.argument("backup_file", metavar="BACKUP", type=INPUT_FILE)
@click.pass_context
def restore_command(ctx, project, backup_file):
    """Make PROJECT what BACKUP holds (SQLite). The current state is backed up first, and a
    file that is not a coding project is refused."""
    saved = coding.restore_project(project, backup_file, coder=ctx.obj["coder"])
    out.print(f"Restored {_shown(project)} from {backup_file}"
              + (f"; the state it replaced is kept in {saved}" if saved else ""))


@main.command("check")
@PROJECT
@click.pass_context
def check_command(ctx, project):
    """Look for damage earlier versions could do without a word, and change nothing: SQLite's
    integrity check, transcripts stored as mojibake or changed since ingest, memos on reused
    ids, codings across turns, codings files applied to a document by another name. Exit
    status 1 when something was found."""
    with _open(ctx, project) as opened:
        findings = opened.check()
    if not findings:
        out.print(f"{_shown(project)}: nothing found")
        return
    for finding in findings:
        out.print(f"{finding.check}: {finding.message}")
    total = sum(f.count for f in findings)
    raise click.ClickException(f"{_shown(project)}: {total} problem{'s' if total != 1 else ''} "
                               f"found in {len(findings)} check{'s' if len(findings) != 1 else ''}"
                               "; nothing was changed")


EXPORTS = transfer.EXPORTS


@main.command("import")
@PROJECT
@click.argument("file", type=INPUT_FILE)
@click.option("--dry-run", is_flag=True,
              help="Show what would be imported and skipped, and store nothing.")
@click.pass_context
def import_file(ctx, project, file, dry_run):
    """Import FILE, the reader picked by its extension: .qdpx/.qde (a REFI-QDA project from
    NVivo, ATLAS.ti, MAXQDA, QualCoder...), .qdc (a REFI-QDA codebook), .yaml/.yml (a
    codebook), .csv/.xlsx (codings), .docx (a transcript coded with Word comments). An
    import cannot be undone (a backup is taken first): --dry-run shows it first."""
    with _open(ctx, project) as opened:
        if dry_run:
            for line in transfer.preview_import(opened, file, warn=_warn):
                out.print(line)
            return
        out.print(transfer.import_file(opened, file, warn=_warn))


@main.command("import-word")
@PROJECT
@click.argument("files", nargs=-1, required=True, type=INPUT_FILE)
@click.pass_context
def import_word(ctx, project, files):
    """Import transcripts coded in Word: each comment's text names codes (split on ';' or new
    lines), its anchored text is the quote. All comments of a file apply, or none."""
    with _open(ctx, project) as opened:
        for file in files:
            added, skipped, document = opened.import_word_comments(file)
            out.print(f"{file}: {added} codings added to {document}, {skipped} already present")


@main.command()
@PROJECT
@click.argument("what", type=click.Choice(EXPORTS))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write; its extension picks the format unless --format is given.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "tex", "md", "docx", "png",
                                                    "svg", "qdc", "qdpx"]),
              help="xlsx, csv, tex (LaTeX booktabs), md, png/svg (heatmap); docx for report.")
@click.option("--include-suggestions", is_flag=True,
              help="Count pending suggestions too (default: accepted and manual codings).")
@click.option("--value", type=click.Choice(["count", "presence", "words", "percent"]),
              default="count", show_default=True, help="code-by-case cells.")
@click.option("--attribute", help="code-by-attribute / report: the case attribute to compare "
                                  "(default: role, else the first).")
@click.option("--mode", type=click.Choice(["turn", "overlap"]), default="turn",
              show_default=True, help="cooccurrence: same turn, or overlapping spans.")
@click.option("--exemplars", type=int, default=2, show_default=True,
              help="framework / report: exemplar quotes per cell or theme.")
@click.option("--raw", is_flag=True,
              help="csv: write text as it is, for R and pandas. By default text a spreadsheet "
                   "would run as a formula (starting with = + - @) gets a leading '.")
@click.option("--code-group", metavar="NAME",
              help="Tables: only the codes of this code group.")
@click.option("--document-group", metavar="NAME",
              help="Tables: only the documents of this document group (and their cases).")
@click.option("--positions", type=click.Choice(["codepoints", "utf16"]), default="codepoints",
              show_default=True,
              help="qdpx: selection positions in code points (REFI-QDA; ATLAS.ti, MAXQDA, "
                   "QualCoder) or UTF-16 code units (NVivo for Windows).")
@click.pass_context
def export(ctx, project, what, output, fmt, include_suggestions, value, attribute, mode,
           exemplars, raw, code_group, document_group, positions):
    """Write an analysis table, a Word report, or a REFI-QDA codebook (.qdc) / project (.qdpx).

    \b
    coding export study.db code-by-case --value presence -o presence.xlsx
    coding export study.db code-by-attribute --attribute role -o by_role.tex
    coding export study.db framework -o framework.xlsx
    coding export study.db report -o themes.docx
    coding export study.db qdpx -o study.qdpx
    coding export study.db qdpx --positions utf16 -o for_nvivo.qdpx
    coding export study.db code-by-case --code-group Barriers -o barriers.xlsx
    """
    options = transfer.Options(include_suggestions=include_suggestions, value=value,
                               attribute=attribute, mode=mode, exemplars=exemplars,
                               code_group=code_group, document_group=document_group,
                               positions=positions)
    with _open(ctx, project) as opened:
        out.print(transfer.export(opened, what, output, fmt, options, raw=raw, warn=_warn))


@main.command()
@click.argument("project", metavar="PROJECT", default="sample_project.db")
@click.option("--port", type=int, help="Port to serve on (default: Streamlit's, 8501).")
@click.option("--headless", is_flag=True, help="Do not open a browser (for servers).")
@click.option("--address", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Interface to listen on. The default serves this computer only; 0.0.0.0 "
                   "serves every network it is on (a team server: add sign-in and HTTPS).")
@click.pass_context
def app(ctx, project, port, headless, address):
    """Open the coding app on PROJECT (default: the sample study `coding demo` builds).
    It listens on this computer only (127.0.0.1) unless --address says otherwise."""
    import os

    coding.open_project(project).close()  # a missing or broken project fails here, clearly
    location = project if "://" in project else str(Path(project).resolve())
    script = Path(__file__).resolve().parent / "ui" / "streamlit_app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script),
               "--browser.gatherUsageStats", "false",
               # refuse oversized uploads before they reach memory (ingest's limit is 50 MB)
               "--server.maxUploadSize", "50",
               # loopback by default: anyone who reaches the port can read every transcript
               "--server.address", address, "--client.toolbarMode", "viewer"]  # no Deploy
    if port:
        command += ["--server.port", str(port)]
    if headless:
        command += ["--server.headless", "true"]
    environment = dict(os.environ, CODING_PROJECT=location)
    if ctx.obj["coder"]:
        environment["CODING_APP_CODER"] = ctx.obj["coder"]
    out.print(f"Opening {_shown(location)} in the app, listening on {address}"
              f"{f':{port}' if port else ''}; press Ctrl+C to stop.")
    sys.stdout.flush()
    # Become Streamlit (not its parent), so a SIGTERM from a supervisor stops the server.
    os.execve(sys.executable, command, environment)


if __name__ == "__main__":
    sys.exit(main())
