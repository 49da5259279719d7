"""Two processes change one project at the same time (issue 8): a reviewer working through the
queue one suggestion at a time, as the CLI and the review page do, and an app session adding
manual codings and memos. Neither sees an error and no change is lost, on SQLite and on
PostgreSQL. Two reviewers racing for the same suggestions decide each once; a write waits for
a long write in another process, and gives up with a clear message only after minutes.

Run as a script, this module is one of those processes: `python test_concurrency.py ROLE PROJECT`.
"""

import json
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import coding
from coding import StoreError
from coding.storage import store
from conftest import CODEBOOK, SAMPLES

CHANGES = 1000           # reviews by one process, manual codings by the other
MEMO_EVERY = 10          # the app session also writes a memo on every tenth coding it adds
PAGE = 50                # the reviewer reads the queue this many suggestions at a time
RACED = 300              # suggestions two reviewers race for


def build_study(project_url):
    """The 12 sample transcripts, their cases and the GCPH codebook, with rules and model
    suggestions queued (about 2,000 at this threshold). Returns the project's summary."""
    with coding.init_project(project_url, coder="setup") as project:
        project.import_codebook(CODEBOOK)
        project.ingest(sorted((SAMPLES / "transcripts").iterdir()),
                       cases=SAMPLES / "participants.csv")
        project.suggest(rules=True, model=True, min_score=0.3, warn=lambda message: None)
        return project.summary()


def review_queue(project):
    """Accept or reject CHANGES suggestions one at a time, most uncertain first."""
    decided, slowest = {"accept": [], "reject": []}, 0.0
    while len(decided["accept"]) + len(decided["reject"]) < CHANGES:
        page = project.pending(limit=PAGE)["coding_id"].tolist()
        assert page, "the queue ran dry"
        for coding_id in page[:CHANGES - len(decided["accept"]) - len(decided["reject"])]:
            decision = "reject" if coding_id % 3 == 0 else "accept"
            started = time.perf_counter()
            assert project.review(decision, ids=[coding_id]) == [coding_id]
            slowest = max(slowest, time.perf_counter() - started)
            decided[decision].append(coding_id)
    return {**decided, "slowest": slowest}


def code_by_hand(project):
    """Add CHANGES manual codings across the documents and codes, with a memo on every tenth."""
    documents = [(d.name, len(project.document_text(d.name))) for d in project.documents()]
    codes = [code.id for code in project.codebook().codes]
    added, slowest = {"codings": [], "memos": []}, 0.0
    for n in range(CHANGES):
        name, length = documents[n % len(documents)]
        start = (n * 7919) % (length - 200)
        began = time.perf_counter()
        coding_id = project.add_coding(name, codes[n % len(codes)], start, start + 40 + n % 150)
        added["codings"].append(coding_id)
        if n % MEMO_EVERY == 0:
            added["memos"].append(project.add_memo(f"note {n}", "coding", coding_id))
        slowest = max(slowest, time.perf_counter() - began)
    return {**added, "slowest": slowest}


def race_for_the_queue(project):
    """Accept the RACED most uncertain suggestions one at a time, as another reviewer does the
    same; a suggestion the other one decided first is refused (not pending any more)."""
    won, lost = [], []
    for coding_id in project.pending(limit=RACED)["coding_id"].tolist():
        try:
            won += project.review("accept", ids=[coding_id])
        except StoreError as error:
            assert str(error) == f"not pending suggestions: {coding_id}"
            lost.append(coding_id)
    return {"accept": won, "lost": lost}


def run_worker(role, project_url):
    """One process: open the project, say ready, wait for the go line, work, print the ids."""
    work = {"reviewer": review_queue, "app": code_by_hand, "rival": race_for_the_queue}[role]
    with coding.open_project(project_url, coder=role) as project:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.time()
        done = work(project)
        print(json.dumps({"started": started, "finished": time.time(), **done}), flush=True)


def run_both(project_url, roles=("reviewer", "app")):
    """Start two processes, release them together, return their reports."""
    workers = [subprocess.Popen([sys.executable, __file__, role, project_url], text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE) for role in roles]
    try:
        for worker in workers:
            ready = worker.stdout.readline()
            assert ready == "ready\n", worker.communicate()[1]
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=300) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (stdout, stderr) in zip(workers, outputs):
        assert worker.returncode == 0 and stderr == "", stderr  # no error reached either one
    return [json.loads(stdout) for stdout, _ in outputs]


def check_nothing_lost(project_url, before):
    started = time.time()
    reviewer, app = run_both(project_url)
    elapsed = time.time() - started
    assert reviewer["started"] < app["finished"] and app["started"] < reviewer["finished"]
    with coding.open_project(project_url) as project:
        after = project.summary()
        every = project.codings_frame(statuses=None).set_index("coding_id")
        events = project.events()
    statuses = after["codings_by_status"]
    assert statuses["manual"] - before["codings_by_status"]["manual"] == CHANGES
    assert statuses["accepted"] == len(reviewer["accept"])
    assert statuses["rejected"] == len(reviewer["reject"])
    assert statuses["accepted"] + statuses["rejected"] == CHANGES
    assert statuses["suggested"] == before["codings_by_status"]["suggested"] - CHANGES
    assert after["memos"] - before["memos"] == len(app["memos"]) == CHANGES // MEMO_EVERY
    # Each change is there, as its process was told, with its event.
    assert set(every.loc[app["codings"], "status"]) == {"manual"}
    assert set(every.loc[app["codings"], "coder"]) == {"app"}
    assert set(every.loc[reviewer["accept"], "status"]) == {"accepted"}
    assert set(every.loc[reviewer["reject"], "status"]) == {"rejected"}
    new = events[events["event_id"] > before["events"]]
    assert len(new) == after["events"] - before["events"] == 2 * CHANGES + len(app["memos"])
    by_action = new.groupby("action")
    assert sorted(by_action.get_group("add_coding")["entity_id"]) == sorted(app["codings"])
    assert sorted(by_action.get_group("add_memo")["entity_id"]) == sorted(app["memos"])
    for decision in ("accept", "reject"):
        logged = [i for ids in by_action.get_group(decision)["detail"].map(lambda d: d["ids"])
                  for i in ids]
        assert sorted(logged) == sorted(reviewer[decision])
    # The two really ran together: their changes interleave in the event log.
    turns = (new["coder"] != new["coder"].shift()).sum()
    assert turns >= 3, "one process finished before the other began writing"
    return elapsed, turns, max(reviewer["slowest"], app["slowest"])


def test_two_processes_change_a_sqlite_project_at_once_and_nothing_is_lost(tmp_path):
    path = tmp_path / "study.db"
    before = build_study(path)
    assert before["codings_by_status"]["suggested"] >= CHANGES + PAGE
    elapsed, turns, slowest = check_nothing_lost(path, before)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"sqlite: {2 * CHANGES + CHANGES // MEMO_EVERY} changes in {elapsed:.1f} s, "
          f"{turns} turns between them, slowest change {slowest:.2f} s")


def test_two_processes_change_a_postgresql_project_at_once_and_nothing_is_lost(postgres_url):
    before = build_study(postgres_url)
    assert before["codings_by_status"]["suggested"] >= CHANGES + PAGE
    elapsed, turns, slowest = check_nothing_lost(postgres_url, before)
    print(f"postgresql: {2 * CHANGES + CHANGES // MEMO_EVERY} changes in {elapsed:.1f} s, "
          f"{turns} turns between them, slowest change {slowest:.2f} s")


def check_each_decided_once(project_url):
    before = build_study(project_url)
    first, second = run_both(project_url, roles=("rival", "rival"))
    assert not set(first["accept"]) & set(second["accept"]), "accepted by both reviewers"
    assert sorted(first["accept"] + second["accept"]) == \
        sorted(first["accept"] + first["lost"]) == sorted(second["accept"] + second["lost"])
    with coding.open_project(project_url) as project:
        events = project.events()
        assert project.summary()["codings_by_status"]["accepted"] == RACED
    decided = [i for ids in events.loc[events["action"] == "accept", "detail"].map(
        lambda d: d["ids"]) for i in ids]
    assert len(decided) == len(set(decided)) == RACED
    assert len(events) - before["events"] == RACED


def test_two_reviewers_racing_for_the_same_suggestions_decide_each_once(tmp_path):
    """Each review reads a suggestion's status and changes it in one transaction, which on
    SQLite holds the write lock throughout: two reviewers never both accept one suggestion."""
    check_each_decided_once(tmp_path / "study.db")


def test_two_reviewers_racing_on_postgresql_decide_each_once(postgres_url):
    check_each_decided_once(postgres_url)


@pytest.fixture
def short_waits(monkeypatch):
    """Writers wait 0.3 s for the lock, then three times more after 0.05 s: 1.35 s in all."""
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(store, "LOCKED_RETRY_PAUSES", (0.05, 0.05, 0.05))


def hold_write_lock(path, seconds=None):
    """Another connection takes the project's write lock (and releases it after `seconds`)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    if seconds is not None:
        threading.Timer(seconds, holder.close).start()  # closing rolls back
    return holder


def test_a_write_waits_past_the_busy_timeout_for_a_long_write_then_goes_ahead(
        tmp_path, short_waits):
    with coding.init_project(tmp_path / "p.db", coder="ann") as project:
        started = time.time()
        hold_write_lock(tmp_path / "p.db", seconds=0.5)
        assert project.summary()["memos"] == 0  # reading is never held up by a writer
        project.add_memo("after the import")
        assert time.time() - started >= 0.5
        assert project.memos()["text"].tolist() == ["after the import"]


def test_a_write_blocked_for_too_long_is_a_clear_error_and_changes_nothing(
        tmp_path, short_waits):
    path = tmp_path / "p.db"
    with coding.init_project(path, coder="ann") as project:
        holder = hold_write_lock(path)
        try:
            with pytest.raises(StoreError) as info:
                project.add_memo("never stored")
        finally:
            holder.close()
        assert str(info.value) == (f"{path}: is busy: another process has been writing to it "
                                   "for over 1 s; try again when it has finished")
        assert project.summary()["memos"] == 0


def test_a_transaction_inside_another_is_a_bug_reported_at_once(project):
    """On SQLite the inner one would wait for the outer one's write lock, then give up."""
    with project.store.transaction():
        with pytest.raises(RuntimeError, match="inside another transaction"):
            with project.store.transaction():
                pass
    project.add_memo("the store is usable afterwards")
    assert len(project.memos()) == 1


if __name__ == "__main__":
    run_worker(*sys.argv[1:])
