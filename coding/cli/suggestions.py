"""Commands for suggestions: train, suggest, review, evaluate, batch, and the demo that runs
them on the bundled sample study."""

import time

import click
from rich.markup import escape
from rich.table import Table

import coding
from coding.files import write_atomic
from coding.interchange import exports
from coding.project import DaskScheduler

from .base import (
    INPUT_FILE,
    MIN_SCORE,
    PROJECT,
    SAMPLE_CODEBOOK,
    SAMPLES,
    UNIT,
    _open,
    _progress,
    _shown,
    _suggesters,
    _warn,
    main,
    out,
)
from .project import _ingest_with_progress, _print_summary, _report_ingest


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
