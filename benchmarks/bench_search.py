#!/usr/bin/env python
"""Benchmark search on a GCPH-sized project (issue 16, item 3): every search over all 800k
words within 1 s once the lemma index exists; also what building the index costs.

Run from the project root with the project's venv:

    .venv/bin/python benchmarks/bench_search.py             # 89 docs x 9,000 words, ~1 min (+1 min once)
    .venv/bin/python benchmarks/bench_search.py --quick     # smoke run (12 docs x 2,000 words)
    .venv/bin/python benchmarks/bench_search.py --json search.json

The corpus is bench_batch.py's generator (same seed and keyword rate, .txt). It is ingested
once with `project.ingest` into `search-bench-project/` beside the corpus, its lemma index
built, and reused while the parameters match; every measurement that changes the project works
on a copy. The figures:

- *ingest*: `project.ingest(files)` of the corpus (once per build; plain ingest does not index);
- *lemma index*: `project.index_lemmas()` on a copy whose index was emptied: what the first
  lemma search of an ingested, imported or upgraded project pays, once (`batch` indexes as it
  stores, reusing its analysis);
- *first lemma search in a new process*: opening the project, loading spaCy's pipeline (to
  lemmatise the query) and searching, in a fresh subprocess;
- *searches*: each query `--repeat` times in this process, the median; **checked against 1 s**;
- *code all hits*: `project.code_hits(hits, code, unit)` of one search's hits as sentences
  and as hits, then `project.undo()`, on a copy;
- *the Search page*: streamlit's AppTest (server side only: the script run, no browser) on a
  copy, submitting a search and timing the run that draws its first 50 hits.
"""

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_batch  # noqa: E402

ROOT = bench_batch.ROOT
sys.path.insert(0, str(ROOT))
PROJECT_VERSION = 3  # bump when the way the project is built changes
PROJECT_DIR = "search-bench-project"
TARGET_SECONDS = 1.0
CODER = "Bench"

# (label, pattern, options): common and rare words, a phrase, lemmas, a regex, filters
QUERIES = [
    ("words, a keyword", "funding", {}),
    ("words, very common (the)", "the", {}),
    ("words, very common (the), participants only", "the", {"roles": "participant"}),
    ("words, three with a wildcard", "trust, relationship*, budget", {}),
    ("phrase", "balance of power", {"mode": "phrase"}),
    ("lemma, a keyword", "relationship", {"mode": "lemma"}),
    ("lemma, very common (be)", "be", {"mode": "lemma"}),
    ("lemma, participants only", "trust", {"mode": "lemma", "roles": "participant"}),
    ("regex", r"\bfund\w*|budget", {"mode": "regex"}),
    ("words, in passages coded with a code", "budget", {"in_code": "creating_conditions"}),
    ("words, one document", "funding", {"documents": "p001_synthetic_interview.txt"}),
]
CODE_ALL = ("funding", {"mode": "words"}, "creating_conditions")


def log(message):
    print(message, file=sys.stderr, flush=True)


def build(project_path, files, manifest, params):
    """A fresh project: the codebook, the corpus ingested (timed)."""
    import coding

    if project_path.parent.exists():
        shutil.rmtree(project_path.parent)
    project_path.parent.mkdir(parents=True)
    with coding.init_project(project_path, coder=CODER) as project:
        project.import_codebook(bench_batch.CODEBOOK)
        started = time.perf_counter()
        project.ingest([str(f) for f in files], warn=log)
        seconds = time.perf_counter() - started
        project.index_lemmas(warn=log)
    (project_path.parent / "project.json").write_text(json.dumps(
        {"params": params, "ingest_seconds": seconds, "corpus": manifest}))
    return seconds


def copy(project_path, folder, name):
    target = Path(folder) / name
    shutil.copyfile(project_path, target)
    return target


def first_search_in_new_process(project_path):
    script = ("import sys, time; t = time.perf_counter(); import coding; "
              "p = coding.open_project(sys.argv[1], coder='Bench'); "
              "n = len(p.search('relationship', mode='lemma')); "
              "print(time.perf_counter() - t, n)")
    done = subprocess.run([sys.executable, "-c", script, str(project_path)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    seconds, hits = done.stdout.split()
    return float(seconds), int(hits)


def measure(project_path, repeat):
    import sqlite3

    import coding

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder:
        late = copy(project_path, folder, "late.db")
        with sqlite3.connect(late) as connection:
            connection.execute("DELETE FROM lemmas")
        with coding.open_project(late, coder=CODER) as project:
            project.search("x", mode="words")  # open and warm the connection
            started = time.perf_counter()
            indexed = project.index_lemmas()
            results["index_late"] = {"seconds": time.perf_counter() - started,
                                     "documents": indexed}
        log(f"lemma index: {results['index_late']['seconds']:.1f} s")

        results["first_lemma_search"] = dict(zip(("seconds", "hits"),
                                                 first_search_in_new_process(project_path)))

        scratch = copy(project_path, folder, "coded.db")
        with coding.open_project(scratch, coder=CODER) as project:
            project.search("relationship", mode="lemma")  # spaCy loaded for the query
            # passages coded with a code, for the in_code query
            project.code_hits(project.search("budget"), "creating_conditions", "sentence")
            results["searches"] = []
            for label, pattern, options in QUERIES:
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    found = project.search(pattern, **options)
                    times.append(time.perf_counter() - started)
                results["searches"].append({"label": label, "pattern": pattern,
                                            "options": options, "hits": len(found),
                                            "median": statistics.median(times),
                                            "max": max(times)})
                log(f"{label}: {len(found)} hits, {statistics.median(times) * 1000:.0f} ms")

        results["page"] = page_searches(copy(project_path, folder, "page.db"))
        coded = copy(project_path, folder, "code_all.db")
        with coding.open_project(coded, coder=CODER) as project:
            pattern, options, code = CODE_ALL
            hits = project.search(pattern, **options)
            results["code_all"] = []
            for unit in ("sentence", "hit"):
                started = time.perf_counter()
                done = project.code_hits(hits, code, unit)
                coding_seconds = time.perf_counter() - started
                started = time.perf_counter()
                project.undo()
                results["code_all"].append({"unit": unit, "hits": len(hits),
                                            "codings": done.added, "seconds": coding_seconds,
                                            "undo_seconds": time.perf_counter() - started})
    return results


def page_searches(project_path):
    """Seconds for the Search page to run after a search is submitted (AppTest)."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["CODING_PROJECT"] = str(project_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["coder"], at.query_params["page"] = CODER, "Search"
    at.run()
    rows = []
    for pattern, mode in (("relationship", "lemma"), ("the", "words"), ("be", "lemma")):
        at.text_input(key="search_pattern").set_value(pattern)
        at.radio(key="search_mode").set_value(mode)
        started = time.perf_counter()
        at = at.button(key="search_go").click().run()
        seconds = time.perf_counter() - started
        if at.exception or at.error:
            sys.exit(f"the Search page failed: {[e.value for e in [*at.exception, *at.error]]}")
        rows.append({"pattern": pattern, "mode": mode, "seconds": seconds,
                     "shown": at.subheader[0].value})
        log(f"Search page, {pattern} ({mode}): {seconds:.2f} s")
    return rows


def report(results, manifest, ingest_seconds):
    words = manifest["corpus"].get("words") if manifest.get("corpus") else None
    print(f"\nSearch on {manifest['params']['docs']} documents x "
          f"{manifest['params']['words_per_doc']:,} words"
          + (f" ({words:,} words parsed)" if words else "")
          + f"; {platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}\n")
    print(f"ingest (at build): {ingest_seconds:.1f} s")
    late = results["index_late"]
    print(f"lemma index, built by the first lemma search: {late['seconds']:.1f} s for "
          f"{late['documents']} documents")
    first = results["first_lemma_search"]
    print(f"first lemma search in a new process (imports, open, spaCy, search): "
          f"{first['seconds']:.2f} s ({first['hits']:,} hits)\n")
    print(f"{'search (warm process, index built)':<44} {'hits':>8} {'median':>9} {'max':>9}"
          f"  target <= {TARGET_SECONDS:.1f} s")
    ok = True
    for row in results["searches"]:
        met = row["max"] <= TARGET_SECONDS
        ok &= met
        print(f"{row['label']:<44} {row['hits']:>8,} {row['median'] * 1000:>7.0f} ms "
              f"{row['max'] * 1000:>6.0f} ms  {'met' if met else 'MISSED'}")
    print()
    for row in results["page"]:
        print(f"Search page (AppTest, server side), '{row['pattern']}' ({row['mode']}), "
              f"{row['shown']}, first 50 drawn: {row['seconds']:.2f} s")
    for row in results["code_all"]:
        print(f"code all {row['hits']:,} hits as {row['unit']}s ({row['codings']:,} codings): "
              f"{row['seconds']:.2f} s; undo {row['undo_seconds']:.2f} s")
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 docs x 2,000 words")
    parser.add_argument("--docs", type=int)
    parser.add_argument("--words-per-doc", type=int)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keyword-rate", type=float, default=0.3)
    parser.add_argument("--out", help="corpus folder (default: bench_batch.py's for these "
                                      "parameters, .txt)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per search (median)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the project")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    args.docs = args.docs or (12 if args.quick else 89)
    args.words_per_doc = args.words_per_doc or (2000 if args.quick else 9000)
    args.format = "txt"
    params = bench_batch.corpus_params(args)
    corpus = Path(args.out) if args.out else bench_batch.default_corpus_dir(params)
    corpus_manifest = bench_batch.ensure_corpus(corpus, params, log)
    files = bench_batch.corpus_files(corpus, params)
    project_path = corpus / PROJECT_DIR / "project.db"
    wanted = {"version": PROJECT_VERSION, "corpus": params}
    manifest_path = project_path.parent / "project.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    if args.rebuild or manifest.get("params") != wanted or not project_path.is_file():
        log(f"building the project in {project_path} (ingest, then the lemma index)")
        build(project_path, files, corpus_manifest, wanted)
        manifest = json.loads(manifest_path.read_text())
    results = measure(project_path, args.repeat)
    ok = report(results, {"params": params, "corpus": corpus_manifest},
                manifest["ingest_seconds"])
    if args.json:
        Path(args.json).write_text(json.dumps({"params": params, "corpus": corpus_manifest,
                                               "ingest_seconds": manifest["ingest_seconds"],
                                               **results, "target_met": ok}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
