"""Batch coding: pool and Dask give the same suggestions as one process; reruns add nothing;
kill -9 mid-run leaves a sound project that a rerun completes."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import coding
from coding.cli import main
from conftest import CODEBOOK, SAMPLES

TRANSCRIPTS = sorted((SAMPLES / "transcripts").iterdir())


def corpus(folder, copies):
    """`copies` distinct text transcripts made from the sample .txt/.md files."""
    folder.mkdir(exist_ok=True)
    sources = [p for p in TRANSCRIPTS if p.suffix in (".txt", ".md")]
    for n in range(copies):
        source = sources[n % len(sources)]
        text = coding.ingest_file(source).text
        (folder / f"copy{n:03d}{source.suffix}").write_text(
            f"{text}\nInterviewer: Thank you, participant {n}.\n", encoding="utf-8")
    return folder


def suggestions_of(project):
    frame = project.codings_frame(statuses=["suggested"])
    return sorted(zip(frame["document"], frame["code"], frame["start"], frame["end"],
                      frame["score"].round(4), frame["origin"].str.split("@").str[0]))


def batch_into(path, paths, **options):
    with coding.init_project(path, coder="batch") as project:
        report = project.batch(paths, codebook=CODEBOOK, **options)
        return report, suggestions_of(project)


def test_pool_gives_the_same_suggestions_as_one_process(tmp_path):
    one, serial = batch_into(tmp_path / "one.db", TRANSCRIPTS)
    two, pooled = batch_into(tmp_path / "two.db", TRANSCRIPTS, workers=2)
    assert len(one.added) == len(two.added) == 12 and not one.failed
    assert serial == pooled and len(serial) > 100
    assert one.words == two.words > 20000


def test_batch_is_idempotent_and_reports_bad_files(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    path = tmp_path / "p.db"
    with coding.init_project(path, coder="batch") as project:
        first = project.batch([*TRANSCRIPTS[:3], bad], codebook=CODEBOOK)
        before = suggestions_of(project)
        again = project.batch([*TRANSCRIPTS[:3], bad], codebook=CODEBOOK)
        assert (len(first.added), first.failed) == (3, [f"{bad}: is empty (no text to code)"])
        assert (len(again.added), len(again.unchanged), again.suggestions) == (0, 3, 0)
        assert suggestions_of(project) == before


def test_kill_9_mid_batch_leaves_a_sound_project_and_a_rerun_completes(tmp_path):
    folder = corpus(tmp_path / "corpus", 120)
    path = tmp_path / "p.db"
    coding.init_project(path).close()
    command = [sys.executable, "-m", "coding.cli", "batch", str(path), str(folder),
               "--codebook", str(CODEBOOK), "--rules"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    stored = 0
    while time.time() < deadline and process.poll() is None:
        with sqlite3.connect(path, timeout=30) as connection:
            stored = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        if stored >= 5:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        empty = connection.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                                   "(SELECT 1 FROM turns t WHERE t.document_id = d.id)")
        assert empty.fetchone()[0] == 0  # no half-written document
    assert 5 <= documents < 120, "the batch was not interrupted mid-run"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with coding.open_project(path) as project:
        resumed = suggestions_of(project)
        assert project.summary()["documents"] == 120
    _, clean = batch_into(tmp_path / "clean.db", [folder], rules=True, model=False)
    assert resumed == clean  # same suggestions as an uninterrupted run, none duplicated


def test_dask_local_cluster_gives_the_same_suggestions_as_the_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    _, pooled = batch_into(tmp_path / "pool.db", TRANSCRIPTS[:6], workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        report, on_dask = batch_into(tmp_path / "dask.db", TRANSCRIPTS[:6],
                                     dask=cluster.scheduler_address)
    assert len(report.added) == 6 and on_dask == pooled


def test_unreachable_dask_falls_back_to_local_processes(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["batch", str(tmp_path / "p.db"), str(TRANSCRIPTS[1]),
                                  "--codebook", str(CODEBOOK), "--rules",
                                  "--dask", "tcp://127.0.0.1:9"])
    assert result.exit_code == 0, result.output
    assert "Warning: Dask scheduler tcp://127.0.0.1:9 is unreachable" in result.stderr
    assert "using local processes instead" in result.stderr
    assert result.stdout.startswith("1 added, 0 already in the project, 0 failed; ")
