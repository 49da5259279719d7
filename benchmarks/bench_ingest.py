"""Ingest at scale (issue 13): a file's cost must not grow with the documents already stored.

Times `coding ingest` as users run it (a fresh process, start-up included):
  1. 10,000 one-answer documents (survey-style: "Interviewer: ...?" and one answer) into an
     empty project (target: under 30 s);
  2. 300 interview files into an empty project, and the same 300 into a project that already
     holds 2,000 documents (target: within 1.5x of the empty run).

    .venv/bin/python benchmarks/bench_ingest.py              # both, ~1-2 min on 2 cores
    .venv/bin/python benchmarks/bench_ingest.py --small 2000 # a quicker first part
"""

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SMALL_SECONDS = 30.0
TARGET_RATIO = 1.5
WORDS = ("people community service staff support group confidence power local trust worker "
         "family carer listen change money time space voice partner health care home life "
         "together strength skill learn decide build share place friend neighbour").split()


def answers(folder, count, seed):
    """`count` one-answer documents: a question and a short answer each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
        (folder / f"r{n:05d}.txt").write_text(
            f"Interviewer: What matters to you?\nR{n:05d}: {words.capitalize()}.\n")
    return folder


def interviews(folder, count, seed, prefix):
    """`count` interviews of 20 turns."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        turns = []
        for t in range(10):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
            turns.append(f"Interviewer: Question {t}?\nP{n}: {words.capitalize()}.")
        (folder / f"{prefix}{n:04d}.txt").write_text("\n".join(turns) + "\n")
    return folder


def timed_ingest(project, folder):
    """Seconds for `coding ingest PROJECT FOLDER` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "coding.cli", "--coder", "bench", "ingest",
                           str(project), str(folder)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"ingest failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def init(project):
    subprocess.run([sys.executable, "-m", "coding.cli", "init", str(project)], check=True,
                   capture_output=True)
    return project


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="one-answer documents")
    parser.add_argument("--stored", type=int, default=2_000, help="documents already stored")
    parser.add_argument("--files", type=int, default=300, help="files ingested into both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        small = timed_ingest(init(work / "small.db"), answers(work / "answers", args.small, 1))
        print(f"{args.small:,} one-answer documents into an empty project: {small:.1f} s "
              f"({small / args.small * 1000:.2f} ms a file; target < {TARGET_SMALL_SECONDS:.0f}"
              f" s: {'met' if small < TARGET_SMALL_SECONDS else 'MISSED'})")

        batch = interviews(work / "batch", args.files, 2, "new")
        empty = timed_ingest(init(work / "empty.db"), batch)
        full = init(work / "full.db")
        timed_ingest(full, interviews(work / "stored", args.stored, 3, "old"))
        into_full = timed_ingest(full, batch)
        ratio = into_full / empty
        print(f"{args.files} interviews into an empty project: {empty:.1f} s; into one with "
              f"{args.stored:,} documents: {into_full:.1f} s; ratio {ratio:.2f} (target <= "
              f"{TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'MISSED'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
