"""kill -9 in the middle of an import or an export (issue 8; a batch is in test_batch.py): the
project opens, SQLite's integrity check passes, an import is all or nothing, an export's target
is absent or complete, and running the command again completes.

Each command runs as `python -m coding.cli ...` and is killed at a point it reports without
knowing it: its project file open, SQLite's write lock held (it is inside its one write
transaction; store.py takes the lock when the transaction begins), its uncommitted pages
spilling into the write-ahead log, its temporary export file appearing, or a share of the CPU
time a full run takes. Seeing those needs Linux's /proc.
"""

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

import coding
from coding.interchange import refi
from conftest import CODEBOOK, SAMPLES

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")

ROWS = 20_000          # codings in the big codings file (a memo on every fifth)
SPILLED = 256 * 1024   # bytes of write-ahead log that show a write transaction well under way


def cli(*args):
    return [sys.executable, "-m", "coding.cli", "--coder", "importer", *map(str, args)]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """study.db: the 12 sample transcripts, their cases and the codebook; codings.csv: ROWS
    codings spread over them (every row valid, none already present); coded.db: study.db with
    those codings; study.qdpx: coded.db as a REFI-QDA project."""
    folder = tmp_path_factory.mktemp("study")
    with coding.init_project(folder / "study.db", coder="setup") as project:
        project.import_codebook(CODEBOOK)
        project.ingest(sorted((SAMPLES / "transcripts").iterdir()),
                       cases=SAMPLES / "participants.csv")
        documents = [(d.name, len(project.document_text(d.name))) for d in project.documents()]
        codes = [code.id for code in project.codebook().codes]
    with open(folder / "codings.csv", "w", newline="", encoding="utf-8") as handle:
        rows = csv.writer(handle)
        rows.writerow(["document", "code", "coder", "start", "end", "memo"])
        for n in range(ROWS):
            name, length = documents[n % len(documents)]
            start = (n * 7919) % (length - 300)
            rows.writerow([name, codes[n % len(codes)], f"coder {n % 4}", start,
                           start + 20 + n % 250, f"memo {n}" if n % 5 == 0 else ""])
    shutil.copy(folder / "study.db", folder / "coded.db")
    with coding.open_project(folder / "coded.db", coder="setup") as project:
        project.import_codings(folder / "codings.csv")
        refi.export_qdpx(project, folder / "study.qdpx")
    return folder


def copy_of(source, folder):
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(source, folder / source.name))


# -- what a running command is doing, seen from outside --------------------------------------
def has_open(pid, path):
    """Whether process `pid` has `path` open (Linux /proc)."""
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == str(path.resolve())
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def cpu_seconds(pid):
    """CPU time process `pid` has used (Linux /proc): how far it has got, however busy the
    machine is."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def writing(path):
    """Whether another connection holds the project's write lock (a write transaction)."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True
    finally:
        connection.close()


def spilled(path):
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size >= SPILLED and writing(path)


def kill_when(command, ready, pause=0.002, timeout=120):
    """Run `command`; SIGKILL it the moment `ready(pid)` holds (asked every `pause` s).
    Returns True when the kill landed while it ran, False when it finished first."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    try:
        while process.poll() is None and time.time() < deadline:
            if ready(process.pid):
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return True
            time.sleep(pause)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()
    return False


# -- checks after a kill ---------------------------------------------------------------------
def integrity(path):
    with sqlite3.connect(path, timeout=30) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def counts(path):
    with coding.open_project(path) as project:
        summary = project.summary()
        imports = project.events()["action"].isin(["import_codings", "import_refi"]).sum()
    return (summary["documents"], summary["turns"], summary["codings"], summary["memos"],
            int(imports))


def test_kill_9_mid_import_codings_leaves_nothing_half_done_and_a_rerun_completes(
        study, tmp_path):
    before = counts(study / "study.db")
    whole = (before[0], before[1], before[2] + ROWS, before[3] + ROWS // 5, before[4] + 1)
    points = {"project open, rows being read and checked":
              lambda path: lambda pid: has_open(pid, path) and not writing(path),
              "write transaction begun": lambda path: lambda pid: writing(path),
              "write transaction well under way": lambda path: lambda pid: spilled(path)}
    for n, (point, ready) in enumerate(points.items()):
        path = copy_of(study / "study.db", tmp_path / str(n))
        command = cli("import-codings", path, study / "codings.csv")
        assert kill_when(command, ready(path)), f"the import finished before the kill ({point})"
        assert integrity(path) == "ok", point
        assert counts(path) == before, f"{point}: a half import is visible"  # all or nothing
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{ROWS} codings imported, 0 already present" in rerun.stdout
    assert counts(path) == whole and integrity(path) == "ok"


def test_kill_9_mid_qdpx_import_leaves_no_partial_document_and_a_rerun_completes(
        study, tmp_path):
    empty = tmp_path / "empty.db"
    coding.init_project(empty).close()
    points = {"write transaction begun": lambda path: lambda pid: writing(path),
              "write transaction well under way": lambda path: lambda pid: spilled(path)}
    for n, (point, ready) in enumerate(points.items()):
        path = copy_of(empty, tmp_path / str(n))
        command = cli("import", path, study / "study.qdpx")
        assert kill_when(command, ready(path)), f"the import finished before the kill ({point})"
        assert integrity(path) == "ok", point
        assert counts(path) == (0, 0, 0, 0, 0), f"{point}: a partial import is visible"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    documents, turns, codings, _, imports = counts(path)
    assert (documents, codings, imports) == (12, ROWS, 1) and turns > 0
    assert integrity(path) == "ok"


def test_kill_9_mid_export_leaves_no_half_written_file_and_a_rerun_completes(study, tmp_path):
    path = copy_of(study / "coded.db", tmp_path)
    target = tmp_path / "out" / "codings.xlsx"
    target.parent.mkdir()
    command = cli("export", path, "codings", "-o", target)
    import resource  # Unix only

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    full = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime  # CPU s of a full run
    assert first.returncode == 0, first.stderr
    reference = rows_of(target)
    assert reference[0] == ROWS + 1
    target.unlink()

    def temporary_appears(pid):
        return (target.parent / f".{target.name}.tmp{pid}").exists()

    def after(share):
        return lambda pid: cpu_seconds(pid) >= share * full

    points = {"project open, codings being read": (lambda pid: has_open(pid, path), 0.002),
              **{f"{share:.0%} of a full run's CPU time": (after(share), 0.002)
                 for share in (0.5, 0.8)},
              "temporary file appearing": (temporary_appears, 0)}
    interrupted = []
    for point, (ready, pause) in points.items():
        if kill_when(command, ready, pause):
            interrupted.append(point)
        assert integrity(path) == "ok", point
        # The target is absent or complete, never half written; a temporary may remain.
        assert not target.exists() or rows_of(target) == reference, point
        target.unlink(missing_ok=True)
    assert len(interrupted) >= 3, f"only {interrupted} interrupted the export"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rows_of(target) == reference
    assert [p.name for p in target.parent.iterdir() if not p.name.startswith(".")] == \
        [target.name]


def rows_of(workbook_path):
    """The Codings sheet's row count and last row: a truncated file does not even open."""
    book = load_workbook(workbook_path, read_only=True)
    try:
        rows = list(book["Codings"].iter_rows(values_only=True))
        return len(rows), rows[-1]
    finally:
        book.close()


def test_a_transaction_holds_the_write_lock_from_its_start(tmp_path):
    """What `writing` sees, and what these tests rely on: the lock is taken when a
    transaction begins, before it writes anything, and released when it ends."""
    path = tmp_path / "p.db"
    with coding.init_project(path) as project:
        assert not writing(path)
        with project.store.transaction():
            assert writing(path)
        assert not writing(path)
