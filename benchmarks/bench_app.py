#!/usr/bin/env python
"""Benchmark the Streamlit app's server side on a GCPH-sized project: the Review page's first
render, one Accept click, the Themes page, and the Transcript page of a 9,000-word document
(its first render; a selection to a stored coding), measured with streamlit's AppTest; then the
Transcript page in Chromium with Playwright (the page drawn; a selection coded and drawn).

Run from the project root with the project's venv:

    .venv/bin/python benchmarks/bench_app.py             # 89 docs x 9,000 words, ~25 s (+20 s once)
    .venv/bin/python benchmarks/bench_app.py --quick     # smoke run (12 docs x 2,000 words)
    .venv/bin/python benchmarks/bench_app.py --json app.json --profile
    .venv/bin/python benchmarks/bench_app.py --no-browser   # server side only

The corpus comes from bench_batch.py's generator (.txt by default). It is ingested once with the
shipped codebook, `project.batch(files, codebook=..., rules=True, model=True, workers=2)`, into
a SQLite project kept next to the corpus and reused while its parameters match. Every
measurement works on a fresh copy of that project, so the accepts never pile up.

The measurements run in a fresh subprocess of this script (hidden `--measure` mode that prints
one JSON line), so the cold figure really includes the imports.
"""

import argparse
import hashlib
import importlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_batch  # noqa: E402  (stdlib only at import time; the package is imported lazily)

ROOT = bench_batch.ROOT
APP = ROOT / "app.py"
CODEBOOK = bench_batch.CODEBOOK
PROJECT_VERSION = 1  # bump when the way the project is built changes, so it is rebuilt
PROJECT_DIR = "app-bench-project"
PROJECT_FILE = "project.db"
PROJECT_MANIFEST = "project.json"
RESULT_MARK = "BENCH_APP_RESULT "
CODER = "Bench"

# Targets from the issue, in seconds.
TARGETS = {"review": 1.5, "accept": 0.2, "themes": 2.0, "transcript": 1.0, "selection": 0.3}
STEPS = ("review", "review-rerun", "accept", "themes", "themes-pending", "transcript")
ROWS = [  # key in the results, label, target key (None: context only)
    ("review_cold", "Review first render, cold process (imports + cold caches)", None),
    ("review_first", "Review first render, new session, warm process, cold data caches",
     "review"),
    ("review_warm", "Review render, new session, warm data caches", None),
    ("review_rerun", "Review rerun, same session, nothing changed (floor for an accept)", None),
    ("accept", "one Accept click (click + rerun)", "accept"),
    ("themes_first", "Themes page, first switch (cold Themes caches)", "themes"),
    ("themes_repeat", "Themes page, switching back to it (warm caches)", "themes"),
    ("themes_pending", "extra: Themes incl. pending suggestions, first", "themes"),
    ("themes_pending_repeat", "extra: Themes incl. pending suggestions, repeat", "themes"),
    ("transcript_first", "Transcript of the longest document, first render, new session, "
     "cold data caches", "transcript"),
    ("transcript_rerun", "Transcript rerun, same session, nothing changed", None),
    ("selection", "a selection to a stored coding: Project.code_selection + the page's rerun",
     "selection"),
    ("selection_store", "  of which storing it (Project.code_selection)", None),
    ("browser_transcript", "in Chromium: Transcript page opened to the transcript drawn", None),
    ("browser_selection", "in Chromium: Enter in the code picker to the coding drawn", None),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The project (built in a subprocess, reused while the parameters match)
# ---------------------------------------------------------------------------------------------

def project_params(corpus, workers):
    return {"version": PROJECT_VERSION, "corpus": corpus,
            "codebook": CODEBOOK.name,
            "codebook_sha256": hashlib.sha256(CODEBOOK.read_bytes()).hexdigest(),
            "rules": True, "model": True, "unit": "sentence", "workers": workers}


def ensure_project(corpus_dir, params, rebuild):
    """The manifest of a built project matching `params`, building it first when needed."""
    folder = Path(corpus_dir) / PROJECT_DIR
    manifest_path, db = folder / PROJECT_MANIFEST, folder / PROJECT_FILE
    if not rebuild and manifest_path.is_file() and db.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params:
            log(f"reusing project {db} ({manifest['pending']:,} pending suggestions)")
            return manifest
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    log(f"building project {db}: batch rules+model, workers={params['workers']}")
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--build-project",
                    str(folder), "--corpus-dir", str(corpus_dir), "--params", json.dumps(params)],
                   check=True, cwd=ROOT)
    return json.loads(manifest_path.read_text())


def build_project(folder, corpus_dir, params):
    """Hidden `--build-project` mode: ingest the corpus with rules and model suggestions."""
    sys.path.insert(0, str(ROOT))
    import coding

    folder, corpus_dir = Path(folder), Path(corpus_dir)
    corpus = json.loads((corpus_dir / bench_batch.MANIFEST).read_text())
    files = [str(corpus_dir / name) for name in corpus["files"]]
    db = folder / PROJECT_FILE
    started = time.perf_counter()
    project = coding.init_project(str(db), coder="bench")
    warnings = []
    report = project.batch(files, codebook=str(CODEBOOK), rules=params["rules"],
                           model=params["model"], unit=params["unit"],
                           workers=params["workers"], warn=warnings.append)
    seconds = time.perf_counter() - started
    project.close()
    if report.failed:
        raise SystemExit(f"batch failed for {len(report.failed)} files: {report.failed[:3]}")
    with sqlite3.connect(db) as connection:  # fold the WAL in, so one file is the project
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = dict(connection.execute(
            "SELECT status, count(*) FROM codings GROUP BY status").fetchall())
        documents = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
        cases = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
        turns = connection.execute("SELECT count(*) FROM turns").fetchone()[0]
        codes = connection.execute("SELECT count(*) FROM codes").fetchone()[0]
    manifest = {"params": params, "documents": documents, "cases": cases, "turns": turns,
                "codes": codes, "words": corpus["words"], "pending": counts.get("suggested", 0),
                "statuses": counts, "suggestions_added": report.suggestions,
                "build_seconds": round(seconds, 2), "warnings": warnings,
                "size_mb": round(db.stat().st_size / 2**20, 1)}
    (folder / PROJECT_MANIFEST).write_text(json.dumps(manifest, indent=2))
    log(f"project built in {seconds:.1f} s: {documents} documents, {manifest['pending']:,} "
        f"pending suggestions, {manifest['size_mb']} MB")


# ---------------------------------------------------------------------------------------------
# Measurements (hidden `--measure` mode, in a fresh process)
# ---------------------------------------------------------------------------------------------

class AppFailure(SystemExit):
    pass


def check(at, what, title=None):
    """Fail loudly on an exception in the app, an st.error, or the wrong page."""
    problems = []
    for exc in at.exception:
        problems.append(f"exception: {exc.message}\n" + "\n".join(exc.stack_trace or []))
    for error in at.error:
        problems.append(f"st.error: {error.value}")
    if title is not None and not problems:
        titles = [t.value for t in at.title]
        if title not in titles:
            problems.append(f"expected the page titled '{title}', got titles {titles}")
    if problems:
        raise AppFailure(f"{what}: the app failed:\n" + "\n\n".join(problems))


def new_app(page, timeout):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.query_params["coder"] = CODER
    at.query_params["page"] = page
    return at


def timed(call):
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def accept_keys(at):
    return [b.key for b in at.button if b.key and b.key.startswith("accept-")]


def waiting_count(at):
    """Pending suggestions, read from the Review page's progress bar text."""
    import re

    for bar in at.get("progress"):
        text = getattr(bar, "text", "") or bar.proto.text
        match = re.search(r"([\d,]+) waiting", text)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def quiet_streamlit():
    """Drop the harmless warnings streamlit logs when the harness touches caches or session
    state outside a script run. A filter, because every AppTest run resets the log levels."""
    import logging

    from streamlit.logger import get_logger

    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        get_logger(name)  # streamlit's loggers are made on first use; make them now
        logging.getLogger(name).addFilter(lambda record: False)


def clear_data_caches():
    import streamlit as st

    st.cache_data.clear()


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 4) for v in values]}


def one_accept(at):
    """Click the first card's Accept, rerun, and check that the suggestion left the queue."""
    keys = accept_keys(at)
    if not keys:
        raise AppFailure("no Accept button on the Review page")
    key, before = keys[0], waiting_count(at)
    seconds, _ = timed(lambda: at.button(key=key).click().run())
    check(at, f"accept ({key})", "Review suggestions")
    after = waiting_count(at)
    if key in accept_keys(at) or (before is not None and after != before - 1):
        raise AppFailure(f"clicking {key} did not accept it: waiting {before} -> {after}")
    return seconds


def measure(args):
    """Run every step once (renders and accepts repeated), print one JSON line."""
    out = {"project": args.project, "load_average_start": os.getloadavg()}
    os.environ["CODING_PROJECT"] = args.project
    sys.argv = [str(APP), args.project]
    started = time.perf_counter()
    importlib.import_module("streamlit.testing.v1")  # the harness, timed apart from the app

    out["import_apptest_seconds"] = time.perf_counter() - started
    quiet_streamlit()
    timeout = args.timeout

    # (a) Review: cold process, then new sessions in a warm process.
    at = new_app("Review", timeout)
    out["review_cold"], _ = timed(at.run)
    check(at, "Review, cold", "Review suggestions")
    out["pending_before"] = waiting_count(at)
    firsts = []
    for _ in range(args.repeat):
        clear_data_caches()
        at = new_app("Review", timeout)
        seconds, _ = timed(at.run)
        check(at, "Review, first render", "Review suggestions")
        firsts.append(seconds)
    out["review_first"] = summary(firsts)
    warms = []
    for _ in range(args.repeat):
        at = new_app("Review", timeout)
        seconds, _ = timed(at.run)
        check(at, "Review, warm caches", "Review suggestions")
        warms.append(seconds)
    out["review_warm"] = summary(warms)
    reruns = []
    for _ in range(args.repeat):
        seconds, _ = timed(at.run)
        check(at, "Review, rerun", "Review suggestions")
        reruns.append(seconds)
    out["review_rerun"] = summary(reruns)

    # (b) Accept the first card, again and again, in that session.
    out["accept"] = summary([one_accept(at) for _ in range(args.accepts)])
    out["pending_after"] = waiting_count(at)

    # (c) Themes: switch to it, back to Review, and to it again; then include suggestions.
    def radio():
        return at.sidebar.radio(key="page")

    def toggle():
        return at.toggle(key="themes_suggested")

    out["themes_first"], _ = timed(lambda: radio().set_value("Themes").run())
    check(at, "Themes, first", "Themes")
    radio().set_value("Review").run()
    check(at, "back to Review", "Review suggestions")
    out["themes_repeat"], _ = timed(lambda: radio().set_value("Themes").run())
    check(at, "Themes, repeat", "Themes")
    out["themes_pending"], _ = timed(lambda: toggle().set_value(True).run())
    check(at, "Themes with suggestions", "Themes")
    toggle().set_value(False).run()
    check(at, "Themes without suggestions", "Themes")
    out["themes_pending_repeat"], _ = timed(lambda: toggle().set_value(True).run())
    check(at, "Themes with suggestions, repeat", "Themes")

    measure_transcript(out, args, timeout)

    out["load_average_end"] = os.getloadavg()
    targets = evaluate(out)
    out["targets"] = targets
    if args.profile is not None:
        steps = args.profile or [t["step"] for t in targets if t["status"] == "MISSED"]
        steps = list(dict.fromkeys(steps))
        if not steps:
            log("--profile: every target met, nothing to profile")
        for step in steps:
            profile_step(step, timeout, args.profile_top)
    print(RESULT_MARK + json.dumps(out), flush=True)


def bench_document(project):
    """The document the Transcript figures are taken on: the one with the most words."""
    import coding

    with coding.open_project(project) as opened:
        return max(opened.documents(), key=lambda d: d.words)


def transcript_app(document, timeout):
    at = new_app("Transcript", timeout)
    at.query_params["doc"] = document
    return at


def measure_transcript(out, args, timeout):
    """(d) The Transcript page of the longest document: its first render in a new session with
    cold data caches (repeated), a rerun, and selections coded: Project.code_selection (what
    the workbench's callback calls) and the rerun that draws the coding, per selection."""
    import coding

    info = bench_document(args.project)
    out["transcript_document"] = {"name": info.name, "words": info.words, "turns": info.turns}
    firsts = []
    for _ in range(args.repeat):
        clear_data_caches()
        at = transcript_app(info.name, timeout)
        seconds, _ = timed(at.run)
        check(at, "Transcript, first render")
        firsts.append(seconds)
    out["transcript_first"] = summary(firsts)
    out["transcript_rerun"] = summary([timed(at.run)[0] for _ in range(args.repeat)])
    check(at, "Transcript, rerun")
    with coding.open_project(args.project, coder=CODER) as project:
        turns = project.turns(info.name)
        codes = [code.id for code in project.codebook().walk()]
        stores, totals = [], []
        for k in range(args.accepts):
            turn = turns.iloc[(k * 7) % len(turns)]
            start = int(turn["start"]) + 3
            end = min(int(turn["end"]), start + 40)
            started = time.perf_counter()
            ids = project.code_selection(info.name, start, end, codes[k % len(codes)],
                                         expected_sha256=info.sha256)
            stored = time.perf_counter() - started
            at.run()
            totals.append(time.perf_counter() - started)
            stores.append(stored)
            check(at, "Transcript after a selection")
            if len(ids) != 1:
                raise AppFailure(f"selection {k} stored {ids}")
    out["selection"], out["selection_store"] = summary(totals), summary(stores)


def value_of(result):
    return result["median"] if isinstance(result, dict) else result


def evaluate(out):
    targets = []
    for key, label, target in ROWS:
        if key not in out:
            continue
        value = value_of(out[key])
        limit = TARGETS.get(target)
        status = "n/a" if limit is None else ("met" if value <= limit else "MISSED")
        step = {"review_first": "review", "review_rerun": "review-rerun", "accept": "accept",
                "themes_first": "themes",
                "themes_repeat": "themes", "themes_pending": "themes-pending",
                "themes_pending_repeat": "themes-pending", "transcript_first": "transcript",
                "selection": "transcript"}.get(key)
        targets.append({"key": key, "label": label, "value": value, "limit": limit,
                        "status": status, "step": step,
                        "spread": [out[key]["min"], out[key]["max"]]
                        if isinstance(out[key], dict) else None})
    return targets


@contextmanager
def profiled(title, top):
    """cProfile both the script thread (where the app's code runs) and the test harness."""
    import cProfile
    import pstats

    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    script_profiles = []
    original = LocalScriptRunner._run_script_thread

    def run_script_thread(self):
        profile = cProfile.Profile()
        script_profiles.append(profile)
        profile.enable()
        try:
            return original(self)
        finally:
            profile.disable()

    LocalScriptRunner._run_script_thread = run_script_thread
    harness = cProfile.Profile()
    started = time.perf_counter()
    harness.enable()
    try:
        yield
    finally:
        harness.disable()
        LocalScriptRunner._run_script_thread = original
    wall = time.perf_counter() - started
    bar = "=" * 100
    print(f"\n{bar}\nPROFILE {title}: {wall:.3f} s wall under cProfile\n{bar}", file=sys.stderr)
    if script_profiles:
        stats = pstats.Stats(script_profiles[0], stream=sys.stderr)
        for profile in script_profiles[1:]:
            stats.add(profile)
        print("--- script thread (the app's code), by cumulative time", file=sys.stderr)
        stats.sort_stats("cumulative").print_stats(top)
        print("--- script thread, by own time", file=sys.stderr)
        stats.sort_stats("tottime").print_stats(top)
    stats = pstats.Stats(harness, stream=sys.stderr)
    print("--- test harness thread (waiting for the script + parsing the element tree), by own "
          "time", file=sys.stderr)
    stats.sort_stats("tottime").print_stats(max(8, top // 3))


def profile_step(step, timeout, top):
    if step == "review":
        clear_data_caches()
        at = new_app("Review", timeout)
        with profiled("Review first render (warm process, cold data caches)", top):
            at.run()
        check(at, "profile review", "Review suggestions")
    elif step == "review-rerun":
        at = new_app("Review", timeout)
        at.run()
        check(at, "profile review rerun: review", "Review suggestions")
        with profiled("Review rerun, same session, nothing changed (x3, summed)", top):
            for _ in range(3):
                at.run()
        check(at, "profile review rerun", "Review suggestions")
    elif step == "accept":
        at = new_app("Review", timeout)
        at.run()
        check(at, "profile accept: review", "Review suggestions")
        with profiled("one Accept click (x3, summed)", top):
            for _ in range(3):
                one_accept(at)
    elif step == "transcript":
        info = bench_document(os.environ["CODING_PROJECT"])
        clear_data_caches()
        at = transcript_app(info.name, timeout)
        with profiled("Transcript first render (warm process, cold data caches)", top):
            at.run()
        check(at, "profile transcript")
    elif step in ("themes", "themes-pending"):
        at = new_app("Review", timeout)
        at.run()
        check(at, "profile themes: review", "Review suggestions")
        if step == "themes-pending":
            at.sidebar.radio(key="page").set_value("Themes").run()
            check(at, "profile themes: themes", "Themes")
            clear_data_caches()
            with profiled("Themes with pending suggestions included, first", top):
                at.toggle(key="themes_suggested").set_value(True).run()
        else:
            clear_data_caches()
            with profiled("Themes page, first switch", top):
                at.sidebar.radio(key="page").set_value("Themes").run()
        check(at, f"profile {step}", "Themes")


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def run_measure(project_db, args):
    """Copy the built project and measure it in a fresh process; returns the result dict."""
    with tempfile.TemporaryDirectory(prefix="coding-bench-app-") as tmp:
        copy = Path(tmp) / "project.db"
        shutil.copyfile(project_db, copy)
        command = [sys.executable, str(Path(__file__).resolve()), "--measure",
                   "--project", str(copy), "--accepts", str(args.accepts),
                   "--repeat", str(args.repeat), "--timeout", str(args.timeout),
                   "--profile-top", str(args.profile_top)]
        if args.profile is not None:
            command += ["--profile", *args.profile]
        env = dict(os.environ, CODING_PROJECT=str(copy))
        started = time.perf_counter()
        completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                   env=env)  # stderr (profiles, warnings) passes through
        wall = time.perf_counter() - started
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        sys.stderr.write(completed.stdout[-4000:])
        raise SystemExit(f"measurement failed with exit code {completed.returncode}")
    result = json.loads(lines[-1][len(RESULT_MARK):])
    result["process_wall_seconds"] = wall
    result["import_app_seconds"] = import_seconds()
    return result


FIND_ROOT = """() => [...document.querySelectorAll('*')]
    .find(e => e.shadowRoot && e.shadowRoot.querySelector('table.transcript')).shadowRoot"""
CODE_AND_WAIT = """async (root) => {
    // Enter in the picker, then wait for the toolbar to say the coding is stored and drawn
    const status = root.querySelector('.toolbar .status');
    const input = root.querySelector('.picker-input');
    const started = performance.now();
    const drawn = new Promise((resolve) => {
        const watch = new MutationObserver(() => {
            if (/^(Coded|Already)/.test(status.textContent)) { watch.disconnect(); resolve(); }
        });
        watch.observe(status, {childList: true, characterData: true, subtree: true});
    });
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true,
                                                      composed: true}));
    await drawn;
    return (performance.now() - started) / 1000;
}"""


def run_browser(project_db, args):
    """In Chromium (Debian's, driven by Playwright): open the Transcript page of the longest
    document until every turn is drawn (`--repeat` times, timed in the page from navigation
    start), then select words with the mouse, type a code's name and time Enter until the new
    coding is drawn (`--accepts` times)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from test_browser import cli, free_port, stop, wait_for_health

    with tempfile.TemporaryDirectory(prefix="coding-bench-browser-") as tmp:
        copy = Path(tmp) / "project.db"
        shutil.copyfile(project_db, copy)
        info = bench_document(copy)
        import coding

        with coding.open_project(copy) as opened:
            code_name = next(iter(opened.codebook().walk())).name
        port = free_port()
        log_path = Path(tmp) / "app.log"
        environment = dict(os.environ, STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
        with open(log_path, "wb") as log:
            server = subprocess.Popen([*cli(), "app", str(copy), "--headless", "--port",
                                       str(port)], stdout=log, stderr=subprocess.STDOUT,
                                      env=environment, start_new_session=True, cwd=ROOT)
            try:
                url = f"http://localhost:{port}"
                wait_for_health(url, server, log_path, timeout=60)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path="/usr/bin/chromium", args=["--disable-dev-shm-usage"])
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.set_default_timeout(60_000)
                    query = f"/?page=Transcript&coder={CODER}&doc={info.name}"
                    loads = []
                    for _ in range(args.repeat):
                        page.goto(url + query)
                        page.locator("tr.turn").nth(info.turns - 1).wait_for(state="attached")
                        loads.append(page.evaluate("performance.now()") / 1000)
                    codings = []
                    for k in range(args.accepts):
                        cell = page.locator("tr.turn td.text").nth(1 + 3 * k)
                        cell.scroll_into_view_if_needed()
                        box = cell.bounding_box()
                        page.mouse.move(box["x"] + 2, box["y"] + 10)
                        page.mouse.down()
                        page.mouse.move(box["x"] + min(160, box["width"] - 4), box["y"] + 10,
                                        steps=4)
                        page.mouse.up()
                        page.locator(".picker-input").wait_for()
                        page.keyboard.type(code_name[:6])
                        root = page.evaluate_handle(FIND_ROOT)
                        codings.append(page.evaluate(CODE_AND_WAIT, root))
                        page.locator('[data-testid="stApp"][data-test-script-state='
                                     '"notRunning"]').wait_for()
                    browser.close()
            finally:
                stop(server)
    return {"browser_transcript": summary(loads), "browser_selection": summary(codings),
            "browser_document": {"name": info.name, "words": info.words, "turns": info.turns}}


def import_seconds():
    """How long `import coding.ui.main` (the app's modules) takes in a fresh process that has
    already imported streamlit and its AppTest, as the cold measurement had."""
    code = ("import time, streamlit.testing.v1; t = time.perf_counter(); import coding.ui.main; "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, cwd=ROOT).stdout) for _ in range(3)]
    return statistics.median(runs)


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_report(result, corpus, project, args):
    params = corpus["params"]
    print()
    print(f"Project: {project['documents']} .{params['format']} transcripts x "
          f"~{params['words_per_doc']:,} words = {corpus['words']:,} spoken words, "
          f"{project['cases']} cases, {project['turns']:,} turns, {project['codes']} codes; "
          f"batch rules+model (workers={project['params']['workers']}) left "
          f"{project['pending']:,} pending suggestions; {project['size_mb']} MB")
    print(f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.machine()}; times are streamlit AppTest wall times (script run + element "
          f"tree), server side only; load average {result['load_average_start'][0]:.2f} at "
          f"the start, {result['load_average_end'][0]:.2f} at the end")
    print(f"Pending in the app: {result['pending_before']:,} before, {result['pending_after']:,} "
          f"after {args.accepts} accepts")
    print()
    rows = []
    for t in result["targets"]:
        value = fmt(t["value"])
        if t["spread"]:
            value += f"  ({fmt(t['spread'][0])} - {fmt(t['spread'][1])})"
        rows.append([t["label"], value, f"<= {fmt(t['limit'])}" if t["limit"] else "-",
                     t["status"]])
    print(bench_batch.format_table(rows, ["step", "value (median, min - max)", "target",
                                          "status"], ["l", "r", "l", "l"]))
    print()
    print(f"Compared with the review target: the first render in a new session of a warm "
          f"process with the data caches cleared (median of {args.repeat}). The cold figure also "
          f"pays for importing the app's modules (`import coding.ui.main` after streamlit: "
          f"{result['import_app_seconds']:.2f} s in a fresh process); importing streamlit's "
          f"AppTest ({result['import_apptest_seconds']:.2f} s) is not counted. Accept: median "
          f"of {args.accepts} clicks.")
    if "transcript_document" in result:
        shown = result["transcript_document"]
        print(f"Transcript rows: {shown['name']} ({shown['words']:,} words, {shown['turns']} "
              f"turns); a selection is timed from the call that stores it to the end of the "
              f"rerun that draws it (median of {args.accepts}). The Chromium rows are timed in "
              "the page: from navigation start to the last turn drawn, and from Enter in the "
              "code picker to the toolbar saying the coding is stored and drawn.")
    print("The two 'extra' rows go beyond the issue's targets: with the 'Include pending "
          f"suggestions' toggle on, Themes counts {project['pending']:,} codings, not only the "
          f"{args.accepts} accepted, as it will once a study has been reviewed.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 12 docs x 2000 words unless --docs/--words-per-doc")
    parser.add_argument("--docs", type=int, default=None, help="transcripts (default 89)")
    parser.add_argument("--words-per-doc", type=int, default=None,
                        help="spoken words per transcript (default 9000)")
    parser.add_argument("--format", choices=("txt", "docx"), default="txt")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keyword-rate", type=float, default=0.3,
                        help="share of sentences that get one codebook keyword phrase")
    parser.add_argument("--out", help="corpus folder (default: bench_batch's folder in the "
                        "system temp dir named after the parameters); the project is built in "
                        f"its {PROJECT_DIR}/ subfolder")
    parser.add_argument("--workers", type=int, default=2, help="batch workers for the build")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the project even when one with matching parameters exists")
    parser.add_argument("--accepts", type=int, default=10,
                        help="Accept clicks to time (default 10; keep it under 25, or the 25th "
                        "click also retrains the model)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="new-session Review renders per variant (default 3)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="AppTest timeout per run, seconds")
    parser.add_argument("--profile", nargs="*", choices=STEPS, default=None,
                        help="after measuring, run steps under cProfile and print the top "
                        "functions to stderr: the steps named, or with no names every step "
                        "whose target was missed")
    parser.add_argument("--profile-top", type=int, default=30,
                        help="functions per profile listing (default 30)")
    parser.add_argument("--no-browser", dest="browser", action="store_false",
                        help="skip the Transcript figures in Chromium (Playwright)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    parser.add_argument("--build-project", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-dir", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        sys.path.insert(0, str(ROOT))
        measure(args)
        return 0
    if args.build_project:
        build_project(args.build_project, args.corpus_dir, json.loads(args.params))
        return 0
    if args.accepts < 1 or args.repeat < 1:
        parser.error("--accepts and --repeat must be at least 1")

    began = time.perf_counter()
    args.docs = args.docs or (12 if args.quick else 89)
    args.words_per_doc = args.words_per_doc or (2000 if args.quick else 9000)
    params = bench_batch.corpus_params(args)
    corpus_dir = Path(args.out) if args.out else bench_batch.default_corpus_dir(params)
    corpus = bench_batch.make_corpus(corpus_dir, params, log)
    project = ensure_project(corpus_dir, project_params(params, args.workers), args.rebuild)
    log("measuring in a fresh process...")
    result = run_measure(corpus_dir / PROJECT_DIR / PROJECT_FILE, args)
    if args.browser and Path("/usr/bin/chromium").exists():
        log("measuring the Transcript page in Chromium...")
        result.update(run_browser(corpus_dir / PROJECT_DIR / PROJECT_FILE, args))
        result["targets"] = evaluate(result)
    print_report(result, corpus, project, args)
    total = time.perf_counter() - began
    print(f"\nTotal benchmark time: {total:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "corpus": dict(corpus, path=str(corpus_dir)), "project": project,
            "quick": args.quick, "results": result, "targets": result["targets"],
            "total_seconds": total}, indent=2))
        log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
