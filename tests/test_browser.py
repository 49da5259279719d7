"""The Streamlit app in a real browser: Playwright (sync API) driving Debian's chromium.

One app server on a freshly built sample project serves the tests. The review test clicks
Accept / Reject on suggestion cards and checks the decisions survive a reload and are stored
under the coder's name; the transcript test checks HTML in a transcript is shown as text, never
rendered or run; the Markdown test visits every page as a coder, with a code, a case, a
document and an attribute, named like Markdown images and HTML, and checks no image loads.
Screenshots go to test-artifacts/ (gitignored).

Skipped when /usr/bin/chromium is missing, except in CI (CI=true), where that fails.
Install the browser with `apt-get install -y chromium` (never `playwright install`).
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

import coding
from coding.storage.schema import CodingRow

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CODER = "Browser Tester"
HTML_DOCUMENT = "html_injection.txt"
SCRIPT_TEXT = "<script>alert(1)</script>"
BOLD_TEXT = "<b>bold</b>"
IMAGE = "![x](http://127.0.0.1:9/p.png)"  # port 9 (discard): nothing answers, nothing leaks
ATTRIBUTE = "![a](http://127.0.0.1:9/a.png)"
BOLD_CASE = "**bold** <img src=x>"
PAGES = ("Documents", "Transcript", "Review", "Codebook", "Themes", "Agreement", "Export")
TIMEOUT_MS = 20_000  # for any one wait in the browser
expect.set_options(timeout=TIMEOUT_MS)


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def chromium():
    """Runs first: nothing is built when the browser is missing."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """`coding demo` into a fresh file, plus a transcript holding HTML."""
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "sample.db"
    run_cli("demo", str(db))
    transcript = folder / HTML_DOCUMENT
    transcript.write_text(f"Interviewer: What happened?\n"
                          f"P99: I typed {SCRIPT_TEXT} and {BOLD_TEXT} into the form.\n",
                          encoding="utf-8")
    run_cli("ingest", str(db), str(transcript))
    hostile = folder / f"{BOLD_CASE}.txt"
    hostile.write_text(f"Interviewer: Name?\nCy: I wrote {IMAGE} and {BOLD_CASE}.\n",
                       encoding="utf-8")
    sheet = folder / "hostile_people.csv"
    sheet.write_text(f"case,{ATTRIBUTE}\n{BOLD_CASE},{IMAGE}\n", encoding="utf-8")
    with coding.open_project(db, coder=IMAGE) as project:
        project.ingest([hostile], cases=sheet)
        project.add_code("image", IMAGE, definition=f"Defined as {IMAGE}")
        turn = project.turns(hostile.name).iloc[1]
        project.add_coding(hostile.name, "image", int(turn["start"]), int(turn["end"]))
    return db


@contextlib.contextmanager
def served(db):
    """`coding app` on `db` at a free port, yielding its address; the whole process group is
    stopped afterwards."""
    port = free_port()
    log = open(db.parent / "app.log", "wb")
    # The coder comes from the address only; edits to the source during the run must not put
    # up Streamlit's "source file changed" prompt.
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("CODING_APP_CODER", "CODING_CODER")}
    environment["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    # A session of its own, so the streamlit child is stopped with `coding app` (see stop()).
    server = subprocess.Popen([*cli(), "app", str(db), "--headless", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env=environment,
                              start_new_session=True)
    try:
        wait_for_health(f"http://localhost:{port}", server, db.parent / "app.log")
        yield f"http://localhost:{port}"
    finally:
        stop(server)
        log.close()


@pytest.fixture(scope="module")
def app_url(sample_db):
    with served(sample_db) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                              args=["--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    context.close()


@pytest.fixture
def dialogs(page):
    """Every dialog the page opens (each dismissed), so a fired alert() is seen."""
    seen = []

    def on_dialog(dialog):
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


# -- tests ------------------------------------------------------------------------------------
def test_review_decisions_are_stored_and_survive_a_reload(page, dialogs, app_url,
                                                          sample_db):
    open_page(page, app_url, app_page="Review")
    expect(card_ids_locator(page)).not_to_have_count(0)
    reviewed_before, total, _ = progress(page)
    first, second, third = card_ids(page)[:3]

    decide(page, "accept", first)
    decide(page, "accept", second)
    decide(page, "reject", third)

    page.reload()
    wait_until_idle(page, ready='[data-testid="stProgress"]')
    assert progress(page) == (reviewed_before + 3, total, total - reviewed_before - 3)
    for coding_id in (first, second, third):
        expect(page.locator(f".st-key-card-{coding_id}")).to_have_count(0)
    screenshot(page, "browser-review.png")

    with coding.open_project(sample_db) as project:
        frame = project.codings_frame(statuses=None).set_index("coding_id")
        with project.store.reading() as session:
            reviewed_by = dict(session.execute(
                select(CodingRow.id, CodingRow.reviewed_by)
                .where(CodingRow.id.in_([first, second, third]))).all())
    assert frame.loc[[first, second, third], "status"].tolist() == \
        ["accepted", "accepted", "rejected"]
    assert frame.loc[[first, second], "coder"].tolist() == [CODER, CODER]
    assert reviewed_by == {first: CODER, second: CODER, third: CODER}
    assert dialogs == []


def test_transcript_shows_html_as_text(page, dialogs, app_url):
    open_page(page, app_url, app_page="Transcript", doc=HTML_DOCUMENT)
    table = page.locator("table.transcript")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("P99")

    text = table.inner_text()
    assert SCRIPT_TEXT in text and BOLD_TEXT in text
    assert page.get_by_text(SCRIPT_TEXT, exact=False).count() >= 1
    assert page.get_by_text(BOLD_TEXT, exact=False).count() >= 1
    assert table.locator("b", has_text="bold").count() == 0
    assert table.locator("script").count() == 0
    assert page.evaluate("""() => [...document.querySelectorAll('script')]
                                  .some(s => s.textContent.includes('alert(1)'))""") is False
    screenshot(page, "browser-transcript.png")
    assert dialogs == []


def test_markdown_in_names_loads_no_image_on_any_page(page, dialogs, app_url):
    """Every page, as a coder named like a Markdown image: the names show as text, and the
    browser never asks 127.0.0.1:9 for anything."""
    asked = []
    page.on("request", lambda request: asked.append(request.url)
            if "127.0.0.1:9/" in request.url else None)
    for app_page in PAGES:
        query = urlencode({"page": app_page, "doc": f"{BOLD_CASE}.txt", "coder": IMAGE})
        page.goto(f"{app_url}/?{query}")
        wait_until_idle(page, ready='[data-testid="stSidebar"]')
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "")
        assert f"Coding as {IMAGE}" in sidebar, app_page
        assert page.locator('img[src*="127.0.0.1"], img[src="x"]').count() == 0, app_page
        links = page.locator('[data-testid="stMarkdownContainer"] a:not([href^="#"])')\
            .evaluate_all("nodes => nodes.map(n => n.outerHTML)")  # only headings' anchors
        assert links == [], app_page
        if app_page == "Codebook":
            expect(page.locator('.code-tree summary',
                                has_text="![x](http:")).to_have_count(1)
        if app_page == "Themes":
            screenshot(page, "browser-markdown-themes.png")
    assert asked == [] and dialogs == []


# -- helpers: the command line and the server -------------------------------------------------
def cli():
    return [sys.executable, "-m", "coding.cli"]


def run_cli(*args):
    done = subprocess.run([*cli(), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"coding {' '.join(args)} failed:\n{done.stdout}{done.stderr}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(url, server, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`coding app` exited with {server.returncode}:\n"
                        f"{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the app was not healthy within {timeout} s:\n"
                f"{log_path.read_text(errors='replace')}")


def stop(server):
    """SIGTERM to the group (`coding app` and its streamlit child), SIGKILL if that hangs."""
    for sent, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sent)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            server.poll()  # reap `coding app`, or its zombie keeps the group alive
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


# -- helpers: the browser ---------------------------------------------------------------------
def open_page(page, app_url, app_page, **params):
    """Open one page of the app as CODER, straight from the address (as a reload would)."""
    query = urlencode({"page": app_page, **params, "coder": CODER})
    page.goto(f"{app_url}/?{query}")
    wait_until_idle(page, ready='[data-testid="stSidebar"]')
    expect(page.get_by_text(f"Coding as {CODER}")).to_be_visible()


def wait_until_idle(page, ready=None):
    """Until the script has finished running and every element is drawn: nothing stale,
    no lazy-loading skeleton, no running-man widget. `ready`: a selector that shows the page
    has started to render (the script state starts at 'initial' on a fresh load)."""
    if ready:
        page.locator(ready).first.wait_for()
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    for busy in ('[data-testid="stStatusWidget"]', '[data-testid="stSkeleton"]',
                 '[data-stale="true"]'):
        expect(page.locator(busy)).to_have_count(0)


def card_ids_locator(page):
    return page.locator('[class*="st-key-accept-"]')


def card_ids(page):
    classes = card_ids_locator(page).evaluate_all("nodes => nodes.map(n => n.className)")
    return [int(re.search(r"st-key-accept-(\d+)", c).group(1)) for c in classes]


def decide(page, decision, coding_id):
    """Click Accept/Reject on one card and wait for the rerun that removes the card."""
    button = page.locator(f".st-key-{decision}-{coding_id} button")
    expect(button).to_have_text(re.compile(f"^{decision.capitalize()}"))  # and its key
    button.click()
    expect(page.locator(f".st-key-card-{coding_id}")).to_have_count(0)
    wait_until_idle(page)


def progress(page):
    """(reviewed, total, waiting) from 'N of M suggestions reviewed · W waiting'."""
    text = page.locator('[data-testid="stProgress"]').inner_text()
    found = re.search(r"([\d,]+) of ([\d,]+) suggestions reviewed\W+([\d,]+) waiting", text)
    assert found, f"no progress text in {text!r}"
    return tuple(int(n.replace(",", "")) for n in found.groups())


def screenshot(page, name):
    """The whole page: Streamlit scrolls inside <main class="stMain">, not the document,
    so the viewport is stretched to the content's height first."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(document.body.scrollHeight,
        ...[...document.querySelectorAll('.stMain, [data-testid="stSidebarContent"]')]
            .map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    wait_until_idle(page)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size(size)
