"""Commands that move data in and out: import (REFI-QDA and other tools' files), import-word,
export."""

import click

from coding.interchange import transfer

from .base import INPUT_FILE, PROJECT, _open, _warn, main, out

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
