"""The Transcript page's workbench in a real browser (issue 16): Playwright drives Debian's
chromium with a real mouse (down, move, up) over the component's text, types a code's name and
presses Enter, and the database must then hold exactly the selected characters: after emoji
and accents, and across two turns (one coding per turn, no speaker label). A suggestion is
accepted where it shows; a coded passage is recoded, given a memo and removed from its popover;
a new code is made from the selected words; each is undone from the sidebar. Code names,
memos, speakers and transcript text holding HTML and Markdown images show as text: no <img>,
no request, no dialog.

One app server serves the module (each costs about 5 s). Skipped when /usr/bin/chromium is
missing, except in CI (CI=true), where that fails.
"""

import re

import pytest
from playwright.sync_api import expect
from test_browser import (  # noqa: F401
    TIMEOUT_MS,
    browser,
    chromium,
    screenshot,
    served,
    wait_until_idle,
)

import coding

CODER = "Wb Tester"
BOOK = """
codes:
  - id: joy
    name: Joy
    colour: "#fde68a"
  - id: place
    name: Place
  - id: hostile
    name: "<img src=x onerror=alert(3)> ![c](http://127.0.0.1:9/c.png)"
"""
EMOJI = ("Interviewer: Tell me about the café.\n"
         "Zoë: Naïve joy 😀😀 at the café, honestly.\n"
         "Interviewer: And after that?\n"
         "Zoë: We walked home 🚶 slowly.\n")
SPEAKER = "<img src=x onerror=alert(1)>"
HOSTILE = (f"Interviewer: What did you write?\n"
           f"[{SPEAKER}] I wrote <img src=x onerror=alert(2)> and "
           f"![p](http://127.0.0.1:9/p.png) there.\n")
MEMO = "<img src=x onerror=alert(4)> ![m](http://127.0.0.1:9/m.png)"
LONG = "".join(f"Interviewer: And question {n}?\nPat: Answer {n}, " + "at some length. " * 12
               + "\n" for n in range(40))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """Two transcripts (emoji and accents; HTML and Markdown everywhere), three codes, a
    pending suggestion and a memo holding HTML."""
    folder = tmp_path_factory.mktemp("workbench")
    (folder / "book.yaml").write_text(BOOK, encoding="utf-8")
    (folder / "emoji.txt").write_text(EMOJI, encoding="utf-8")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (folder / "long.txt").write_text(LONG, encoding="utf-8")
    path = folder / "project.db"
    with coding.init_project(path, coder="Setup") as project:
        project.import_codebook(folder / "book.yaml")
        project.ingest([folder / "emoji.txt", folder / "hostile.txt", folder / "long.txt"])
        text = project.document_text("emoji.txt")
        start = text.index("We walked")
        project.add_coding("emoji.txt", "joy", start, start + len("We walked home"),
                           status="suggested", origin="rules:test", score=0.83, coder="rules")
        answer = project.turns("long.txt").iloc[1]
        for k in range(5):  # five suggestions in one turn: three show, two wait behind "more"
            project.add_coding("long.txt", "place", int(answer["start"]) + 10 * k,
                               int(answer["start"]) + 10 * k + 6, status="suggested",
                               origin="rules:test", score=0.5 + k / 10, coder="rules")
        turn = project.turns("hostile.txt").iloc[1]
        coded = project.add_coding("hostile.txt", "hostile", int(turn["start"]),
                                   int(turn["end"]))
        project.add_memo(MEMO, "coding", coded)
    return path


@pytest.fixture(scope="module")
def app_url(db):
    with served(db) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.asked = []  # requests for anything the hostile names point at
    opened.on("request", lambda r: opened.asked.append(r.url)
              if "127.0.0.1:9/" in r.url or r.url.rstrip("/").endswith("/x") else None)
    opened.dialogs = []
    opened.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
    yield opened
    context.close()


# -- tests ------------------------------------------------------------------------------------
def test_select_words_after_emoji_type_a_code_and_enter_codes_exactly_them(page, app_url, db):
    open_transcript(page, app_url, "emoji.txt")
    select(page, 1, "😀😀 at the café", "😀😀 at the café")
    picker = page.locator(".picker")
    expect(picker).to_be_visible()
    expect(picker.locator(".picker-title")).to_have_text("Code “😀😀 at the café” as:")
    page.keyboard.type("jo")
    expect(picker.locator(".option.active")).to_have_text("Joy")
    page.keyboard.press("Enter")
    expect_notice(page, "Coded 1 passage as Joy.")
    assert quotes(db) == [("joy", "😀😀 at the café", "manual", 1)]
    seg = page.locator("td.text .seg.coded", has_text="😀😀 at the café")
    expect(seg).to_have_count(1)
    expect(page.locator("td.margin .lane[data-code='joy']")).to_have_count(1)

    page.get_by_role("button", name="Next coded passage").click()
    expect(page.locator(".status")).to_have_text("Passage 1 of 1: Joy")
    screenshot(page, "workbench-coded.png")
    undo(page)
    assert quotes(db) == []


def test_a_selection_across_two_turns_makes_one_coding_per_turn(page, app_url, db):
    open_transcript(page, app_url, "emoji.txt")
    select(page, 1, "Naïve", "And after", end_turn=2)
    page.keyboard.type("Place")
    page.keyboard.press("Enter")
    expect_notice(page, "Coded 2 passages as Place.")
    assert quotes(db) == [("place", "Naïve joy 😀😀 at the café, honestly.", "manual", 1),
                          ("place", "And after", "manual", 2)]
    undo(page)
    assert quotes(db) == []


def test_accept_a_suggestion_in_the_transcript_and_undo(page, app_url, db):
    open_transcript(page, app_url, "emoji.txt")
    chip = page.locator(".chip.suggestion")
    expect(chip).to_have_count(1)
    expect(chip.locator(".label")).to_have_text("Joy")
    expect(chip.locator(".score")).to_have_text("0.83")
    expect(page.locator(".seg.sugg", has_text="We walked home")).to_have_count(1)
    chip.get_by_role("button", name="Accept suggestion: Joy").click()
    expect_notice(page, "Accepted the Joy suggestion.")
    assert quotes(db, statuses=None) == [("joy", "We walked home", "accepted", 3)]
    expect(page.locator(".chip.suggestion")).to_have_count(0)
    undo(page)
    assert quotes(db, statuses=None) == [("joy", "We walked home", "suggested", 3)]
    page.locator(".chip.suggestion").get_by_role("button", name="Reject suggestion: Joy").click()
    expect_notice(page, "Rejected the Joy suggestion.")
    assert quotes(db, statuses=None) == [("joy", "We walked home", "rejected", 3)]
    undo(page)
    assert quotes(db, statuses=None) == [("joy", "We walked home", "suggested", 3)]


def test_a_coded_passage_is_recoded_given_a_memo_and_removed_from_its_popover(page, app_url,
                                                                             db):
    open_transcript(page, app_url, "emoji.txt")
    select(page, 3, "slowly", "slowly")
    page.locator(".option.create").click()  # in vivo: a new code named by the words
    expect_notice(page, "Coded 1 passage as slowly.")
    with coding.open_project(db) as project:
        assert project.codebook().get("slowly").name == "slowly"
    assert quotes(db) == [("slowly", "slowly", "manual", 3)]

    page.locator(".seg.coded", has_text="slowly").click()
    popover = page.locator(".pop")
    expect(popover.locator(".coding strong")).to_have_text(["slowly"])
    popover.get_by_role("button", name="Recode…").click()
    page.keyboard.type("place")
    page.keyboard.press("Enter")
    expect_notice(page, "Recoded slowly as Place.")
    assert quotes(db) == [("place", "slowly", "manual", 3)]

    page.locator(".seg.coded", has_text="slowly").click()
    popover.get_by_role("button", name="Memo…").click()
    popover.get_by_label("Memo on this coding").fill("Pace matters <b>here</b>")
    popover.get_by_role("button", name="Save memo").click()
    expect_notice(page, "Memo saved.")
    page.locator(".seg.coded", has_text="slowly").click()
    expect(popover.locator(".memo")).to_have_text(f"{CODER}: Pace matters <b>here</b>")
    with coding.open_project(db, coder=CODER) as project:
        memo = project.memos().iloc[-1]
        project.remove_memo(int(memo["memo_id"]))  # so the coding can be removed alone
    open_transcript(page, app_url, "emoji.txt")
    page.locator(".seg.coded", has_text="slowly").click()
    popover.get_by_role("button", name="Remove").click()
    expect_notice(page, "Removed the Place coding.")
    assert quotes(db) == []
    undo(page)  # the removal
    assert quotes(db) == [("place", "slowly", "manual", 3)]
    with coding.open_project(db, coder=CODER) as project:
        project.undo(4)  # the memo's removal and writing, the recode, the coding
        project.undo(1)  # the in vivo code
        assert project.codebook().get("slowly") is None
    assert quotes(db) == []


def test_html_and_markdown_in_names_memos_speakers_and_text_show_as_text(page, app_url):
    open_transcript(page, app_url, "hostile.txt")
    table = page.locator("table.transcript")
    expect(table).to_contain_text("I wrote <img src=x onerror=alert(2)> and "
                                  "![p](http://127.0.0.1:9/p.png) there.")
    expect(page.locator("td.who").nth(1)).to_have_text(SPEAKER)
    name = "<img src=x onerror=alert(3)> ![c](http://127.0.0.1:9/c.png)"
    expect(page.locator("td.side .chip")).to_have_text([name])
    page.locator(".seg.coded").first.click()
    expect(page.locator(".pop .coding strong")).to_have_text([name])
    expect(page.locator(".pop .memo")).to_have_text(f"Setup: {MEMO}")
    page.keyboard.press("Escape")
    select(page, 1, "wrote", "wrote")
    page.keyboard.type("img")
    expect(page.locator(".picker .option").first).to_have_text(name)
    screenshot(page, "workbench-hostile.png")
    page.keyboard.press("Escape")
    assert page.locator("img").count() == 0  # the locator pierces the component's shadow root
    assert page.asked == [] and page.dialogs == []


def test_a_link_to_a_turn_scrolls_there_and_the_panel_stays_in_view(page, app_url):
    page.goto(f"{app_url}/?page=Transcript&doc=long.txt&turn=61&coder=Wb+Tester")
    wait_until_idle(page, ready='[data-testid="stSidebar"]')
    row = page.locator("tr.turn[data-seq='61']")
    expect(row).to_have_class(re.compile(r"\bfocus\b"))
    expect(row).to_be_in_viewport()
    expect(page.locator("tr.turn[data-seq='0']")).not_to_be_in_viewport()
    expect(page.locator(".toolbar")).to_be_in_viewport()  # the toolbar stays on top ...
    expect(page.get_by_text("Show pending suggestions")).to_be_in_viewport()  # ... the panel too
    screenshot(page, "workbench-focus.png")
    chips = page.locator("tr.turn[data-seq='1'] .chip.suggestion")
    expect(chips.filter(visible=True).locator(".score")).to_have_text(["0.90", "0.80", "0.70"])
    more = page.locator("tr.turn[data-seq='1'] .btn.more")
    expect(more).to_have_text("+2 more suggestions")
    more.click()
    expect(chips.filter(visible=True)).to_have_count(5)
    expect(more).to_have_text("Fewer suggestions")


# -- helpers ----------------------------------------------------------------------------------
def open_transcript(page, app_url, document):
    page.goto(f"{app_url}/?page=Transcript&doc={document}&coder={CODER.replace(' ', '+')}")
    wait_until_idle(page, ready='[data-testid="stSidebar"]')
    expect(page.locator("table.transcript tr.turn").first).to_be_visible()


def select(page, turn, start_text, end_text, end_turn=None, *, steps=8):
    """Drag the mouse from the first character of `start_text` in turn `turn` to the last of
    `end_text` (in `end_turn`, default the same turn)."""
    end_turn = turn if end_turn is None else end_turn
    first, last = page.locator("table.transcript").evaluate(BOXES, [
        [turn, start_text, False], [end_turn, end_text, True]])
    page.mouse.move(first["left"] + 1, first["y"])
    page.mouse.down()
    page.mouse.move(last["right"] - 1, last["y"], steps=steps)
    page.mouse.up()


# The boxes of the first character of one text and the last of another, each in a turn's text
# cell, measured after the first is scrolled to the middle of the window.
BOXES = """(table, ends) => {
    const ranges = ends.map(([turn, needle, last]) => {
        const cell = table.querySelector(`tr.turn[data-seq="${turn}"] td.text`);
        const text = cell.textContent;
        const at = text.indexOf(needle);
        if (at < 0) throw new Error('no ' + needle + ' in ' + text);
        const end = at + needle.length;
        const [a, b] = last ? [end - (text.codePointAt(end - 2) > 0xffff ? 2 : 1), end]
                            : [at, at + (text.codePointAt(at) > 0xffff ? 2 : 1)];
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        let seen = 0, node;
        while ((node = walker.nextNode())) {
            if (seen <= a && a < seen + node.length) range.setStart(node, a - seen);
            if (seen < b && b <= seen + node.length) range.setEnd(node, b - seen);
            seen += node.length;
        }
        return range;
    });
    ranges[0].startContainer.parentElement.scrollIntoView({block: 'center'});
    return ranges.map((range) => {
        const rect = range.getBoundingClientRect();
        return {left: rect.left, right: rect.right, y: rect.top + rect.height / 2};
    });
}"""


def expect_notice(page, text):
    expect(page.locator(".toolbar .status")).to_have_text(text)
    wait_until_idle(page)


def undo(page):
    page.locator('[data-testid="stSidebar"]').get_by_role("button",
                                                          name="Undo my last change").click()
    wait_until_idle(page)
    expect(page.get_by_text("Undone:")).to_be_visible()


def quotes(db, statuses=("accepted", "manual")):
    """(code, quote, status, turn) of the emoji transcript's codings, in text order."""
    with coding.open_project(db) as project:
        frame = project.codings_frame(statuses=statuses, documents=["emoji.txt"])
    return [(r.code, r.quote, r.status, r.turn) for r in frame.itertuples()]
