"""Export speed: 200,000 codings to xlsx (target <= 10 s), plus the matrices.

Builds (or reuses) a project of 89 generated transcripts with N codings spread over the codes of
the shipped GCPH codebook, then times, each in a fresh process:
  - `coding export PROJECT codings -o cli.xlsx` as a user runs it (wall time, start-up included:
    the figure the target is about);
  - the same in Python without imports: open, frame, write;
  - the xlsx writer alone on the same table;
  - code-by-case, cooccurrence and framework matrices to xlsx.

    .venv/bin/python benchmarks/bench_export.py                 # 200,000 codings
    .venv/bin/python benchmarks/bench_export.py --codings 20000 # a quick run
"""

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = ROOT / "codebooks" / "gcph_asset_based.yaml"
TARGET_SECONDS = 10.0

WORDS = ("people community service staff support group confidence power local trust worker "
         "family carer listen change money time space voice partner health care home life "
         "together strength skill learn decide build share place friend neighbour").split()


def build_project(path, documents, codings, seed=7):
    import coding
    from sqlalchemy import insert, select

    from coding.storage.schema import CodeRow, CodingRow, DocumentRow

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    for d in range(documents):
        turns = []
        for t in range(120):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
            turns.append(f"Interviewer: question {t}?\nP{d:02d}: {words.capitalize()}.")
        (folder / f"p{d:02d}.txt").write_text("\n".join(turns) + "\n")
    with coding.init_project(path, coder="bench") as project:
        project.import_codebook(CODEBOOK)
        project.ingest([folder])
        with project.store.transaction() as session:
            codes = list(session.scalars(select(CodeRow.id)))
            docs = session.execute(select(DocumentRow.id, DocumentRow.text)).all()
            rows = []
            for i in range(codings):
                doc_id, text = docs[i % len(docs)]
                start = rng.randrange(0, len(text) - 300)
                rows.append(dict(document_id=doc_id, code_id=rng.choice(codes), start=start,
                                 end=start + rng.randint(40, 300), coder="bench",
                                 status="manual", origin="bench"))
            session.execute(insert(CodingRow), rows)
    return path


def timed(code):
    """Seconds for a Python snippet run in a fresh interpreter (imports not counted)."""
    script = ("import time, sys\n" + code.split("#---\n")[0] +
              "\nstarted = time.perf_counter()\n" + code.split("#---\n")[1] +
              "\nprint(time.perf_counter() - started)")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    return float(output.strip().splitlines()[-1])


def cli_wall(project, output):
    """Wall seconds for `coding export PROJECT codings -o output`, start-up included."""
    command = [str(Path(sys.executable).parent / "coding"), "export", str(project), "codings",
               "-o", str(output)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codings", type=int, default=200_000)
    parser.add_argument("--documents", type=int, default=89)
    parser.add_argument("--out", default=None, help="folder for the project and files")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    folder = Path(args.out or Path(tempfile.gettempdir()) /
                  f"coding-bench-export-{args.documents}x{args.codings}")
    folder.mkdir(parents=True, exist_ok=True)
    project = folder / "project.db"
    if not project.exists():
        started = time.perf_counter()
        build_project(project, args.documents, args.codings)
        print(f"built {project} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    opening = (f"import coding\nfrom coding.interchange import exports\n"
               f"p = coding.open_project({str(project)!r})\n")
    results = {
        "coding export CLI, wall": cli_wall(project, folder / "cli.xlsx"),
        "codings to xlsx, end to end": timed(
            opening + "#---\n" + f"exports.write(exports.tables(p, 'codings'), "
                                 f"{str(folder / 'codings.xlsx')!r})"),
        "codings frame only": timed(opening + "#---\n" + "p.codings_frame()"),
        "xlsx writer only": timed(
            opening + "r = exports.tables(p, 'codings')\n#---\n"
            + f"exports.write(r, {str(folder / 'w.xlsx')!r})"),
        "codings to csv": timed(
            opening + "#---\n" + f"exports.write(exports.tables(p, 'codings'), "
                                 f"{str(folder / 'codings.csv')!r})"),
    }
    for what in ("code-by-case", "cooccurrence", "framework"):
        results[f"{what} to xlsx"] = timed(
            opening + "#---\n" + f"exports.write(exports.tables(p, {what!r}), "
                                 f"{str(folder / (what + '.xlsx'))!r})")
    size = (folder / "codings.xlsx").stat().st_size / 1e6
    print(f"\n{args.codings:,} codings in {args.documents} documents "
          f"(codings.xlsx {size:.1f} MB)\n")
    print(f"{'step':32} {'seconds':>8}")
    for name, seconds in results.items():
        print(f"{name:32} {seconds:8.2f}")
    end_to_end = results["coding export CLI, wall"]
    verdict = "met" if end_to_end <= TARGET_SECONDS else "MISSED"
    print(f"\ntarget: {args.codings:,} codings to xlsx <= {TARGET_SECONDS:.0f} s: "
          f"{end_to_end:.2f} s, {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps({"codings": args.codings, "results": results,
                                               "xlsx_mb": size, "verdict": verdict}, indent=1))


if __name__ == "__main__":
    main()
