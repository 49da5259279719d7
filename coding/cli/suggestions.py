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
    MODEL,
    PROJECT,
    RULES,
    SAMPLE_CODEBOOK,
    SAMPLES,
    SEMANTIC,
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
from .validation import (GATE_TARGET, accept_in_bulk, print_curve, print_evaluation,
                         print_gate, show_calibration)


@main.command()
@PROJECT
@UNIT
@click.option("--target-precision", type=click.FloatRange(0, 1),
              help="Calibrate each code's threshold for the most recall at this precision "
                   "(default: the best F1).")
@click.pass_context
def train(ctx, project, unit, target_precision):
    """Retrain the model and the semantic suggester from accepted, manual and rejected
    codings, and calibrate their score thresholds on this project's decisions."""
    with _open(ctx, project) as opened:
        info = opened.train(unit=unit, target_precision=target_precision)
        calibration = opened.calibration(unit)
    source = "the codebook only (no codings yet)" if info["cold_start"] else \
        f"{info['units']} {unit}s ({info['positive_units']} coded)"
    out.print(f"Trained model {info['version']} and semantic {info['semantic_version']} on "
              f"{source}: {info['codes']} codes")
    if info["skipped_codes"]:
        out.print("No examples for: " + ", ".join(info["skipped_codes"]))
    show_calibration(calibration)


@main.command()
@PROJECT
@RULES
@MODEL
@SEMANTIC
@UNIT
@MIN_SCORE
@click.option("--document", "documents", multiple=True, help="Only these documents.")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True)
@click.option("--off", "switch_off", multiple=True, metavar="CODE",
              help="Switch CODE's suggestions off (no suggester proposes it) and stop.")
@click.option("--on", "switch_on", multiple=True, metavar="CODE",
              help="Switch CODE's suggestions on again and stop.")
@click.pass_context
def suggest(ctx, project, rules, model, semantic, unit, min_score, documents, workers,
            switch_off, switch_on):
    """Queue code suggestions for review (never duplicating one already queued or reviewed).
    With no suggester flag: rules, plus the mean of the model's and the semantic
    suggester's scores against each code's calibrated threshold (the default)."""
    with _open(ctx, project) as opened:
        if switch_off or switch_on:
            for code in switch_off:
                off = opened.switch_suggestions(code, on=False)
            for code in switch_on:
                off = opened.switch_suggestions(code, on=True)
            out.print("Suggestions switched off for: " + (", ".join(off) or "no code"))
            return
        rules, model, semantic = _suggesters(rules, model, semantic)
        total = len(documents) or len(opened.documents())
        with _progress("Suggesting", total) as advance:
            added = opened.suggest(rules=rules, model=model, semantic=semantic, unit=unit,
                                   min_score=min_score, documents=documents or None,
                                   workers=workers, on_document=advance, warn=_warn)
        pending = len(opened.pending())
    out.print(f"{added} new suggestions; {pending} pending review "
              f"(`coding review {_shown(project)}`)")


@main.command()
@PROJECT
@click.option("--accept", "accept", multiple=True, metavar="ID|CODE|all",
              help="Accept suggestions by id, or every pending one of a code (or 'all') when "
                   "the validation gate shows they are reliable (see --target, --force).")
@click.option("--reject", "reject", multiple=True, metavar="ID|CODE|all",
              help="Reject suggestions by id, or every pending one of a code (or 'all').")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Only scores >= this.")
@click.option("--max-score", type=click.FloatRange(0, 1), help="Only scores < this.")
@click.option("--target", type=click.FloatRange(0, 1), default=GATE_TARGET, show_default=True,
              help="Accepting a code in bulk needs this precision, as the lower bound of a 95 "
                   "% interval over at least 30 reviewed suggestions scoring >= --min-score.")
@click.option("--force", is_flag=True, help="Accept in bulk even when the gate says no.")
@click.option("--order", type=click.Choice(["uncertainty", "document", "score"]),
              default="uncertainty", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True,
              help="Rows to list.")
@click.option("--gate", "show_gate", is_flag=True,
              help="Print the validation gate per code and suggester and stop.")
@click.pass_context
def review(ctx, project, accept, reject, min_score, max_score, order, limit, target, force,
           show_gate):
    """List pending suggestions, or accept / reject them by id, code or score."""
    with _open(ctx, project) as opened:
        if show_gate:
            print_gate(opened.validation(min_score or 0.0, target))
            return
        for decision, values in (("accept", accept), ("reject", reject)):
            if not values:
                continue
            ids = [v for v in values if v.isdigit()]
            codes = [v for v in values if not v.isdigit()]
            changed = opened.review(decision, ids=ids) if ids else []
            for code in codes:
                if decision == "accept" and max_score is None:
                    changed += accept_in_bulk(opened, code, min_score or 0.0, target, force)
                else:
                    changed += opened.review(decision, code=code, min_score=min_score,
                                             max_score=max_score)
            out.print(f"{decision}ed {len(changed)} suggestions")
        if accept or reject:
            return
        queue = opened.pending(order=order)
        shown = opened.with_precision(queue.head(limit), target)
    table = Table("id", "document", "code", "score", "precision", "quote", "why", title=(
        f"{len(queue)} pending suggestions (showing {min(limit, len(queue))}, by {order})"))
    for row in shown.itertuples():
        quote = row.quote if len(row.quote) <= 80 else row.quote[:77] + "..."
        table.add_row(str(row.coding_id), row.document, row.code, f"{row.score:.2f}",
                      row.precision_said, quote, row.rationale)
    out.print(table)


@main.command()
@PROJECT
@click.option("--coder", "gold_coder", required=True, help="Whose codings are the reference.")
@click.option("--folds", type=click.IntRange(2), default=5, show_default=True)
@UNIT
@click.option("--min-score", "min_score", type=click.FloatRange(0, 1),
              help="One threshold for the model, semantic and default (default: thresholds "
                   "calibrated on the training folds, as `coding train` does).")
@click.option("--curve", is_flag=True,
              help="Also the learning curve: F1 after training on 1, 2, 4, 8... documents.")
@click.option("--fully-coded", is_flag=True,
              help="Only documents the coder marked fully coded, where every miss is known.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="evaluation.csv",
              show_default=True, help="CSV with every figure.")
@click.pass_context
def evaluate(ctx, project, gold_coder, folds, unit, min_score, curve, fully_coded, output):
    """Cross-validated precision, recall, F1, kappa and alpha of each suggester (rules, model,
    semantic), the default combination `coding suggest` uses, and a baseline that looks for
    the words of each code's name; per code, pooled (micro) and averaged over codes (macro).
    Then the validation gate from the reviewed suggestions."""
    with _open(ctx, project) as opened:
        found = opened.evaluate(gold_coder, folds=folds, unit=unit, min_score=min_score,
                                curve=curve, fully_coded=fully_coded)
        gate = opened.validation()
    table, learning = found if curve else (found, None)
    write_atomic(output, exports.to_csv(table))
    print_evaluation(table, f"Against {gold_coder}, {folds}-fold by document, per {unit}" +
                     (", fully coded documents" if fully_coded else ""))
    if learning is not None:
        print_curve(learning)
    if len(gate):
        print_gate(gate)
    out.print(f"Wrote {output}")


@main.command()
@PROJECT
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--codebook", "codebook_file", type=INPUT_FILE,
              help="Codebook to import first (skipped when unchanged).")
@click.option("--cases", "sheet", type=INPUT_FILE,
              help="Participants sheet to import first.")
@RULES
@MODEL
@SEMANTIC
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
def batch(ctx, project, paths, codebook_file, sheet, rules, model, semantic, unit, min_score,
          workers, dask_address, tls_ca, tls_cert, tls_key):
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
    rules, model, semantic = _suggesters(rules, model, semantic)
    started = time.perf_counter()
    with coding.open_project(project, coder=ctx.obj["coder"], create=True) as opened:
        if sheet:
            opened.import_cases(sheet, warn=_warn)
        total = len(coding.expand_paths(paths))
        with _progress("Coding", total) as advance:
            report = opened.batch(paths, codebook=codebook_file, rules=rules, model=model,
                                  semantic=semantic, unit=unit, min_score=min_score, workers=workers,
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
        out.print(f"[bold]6.[/bold] batch-coded with rules, the model and the semantic suggester on 2 workers: {queued} "
                  f"new suggestions queued for review (`coding app {escape(_shown(project))}`)",
                  markup=True)
        _print_summary(opened)
    out.print(f"Done in {time.perf_counter() - started:.1f} s. "
              f"Next: `coding app {_shown(project)}`")
