"""Commands that set a project up and show it: init, ingest, cases, codebook, import-codings,
settings, documents, summary."""

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

import coding

from .base import INPUT_FILE, PROJECT, _open, _progress, _shown, _warn, main, out


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
