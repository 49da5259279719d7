"""Commands for a project's history and safety: log, undo, backup, restore, check."""

import time
from pathlib import Path

import click
from rich.table import Table

import coding

from .base import INPUT_FILE, PROJECT, _open, _shown, _utc, main, out


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
