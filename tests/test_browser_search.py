"""The Search page in a real browser (issue 16, item 3), with tests/test_browser.py's app server
and helpers: search by any form of a word, tick a hit and code it, code all hits, undo both
from the sidebar; open a hit in its transcript; hits holding Markdown and HTML show as text
and load nothing. Skipped as test_browser.py is, when /usr/bin/chromium is missing."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

import coding
from coding.storage.schema import CodingRow
from test_browser import (CODER, IMAGE, app_url, browser, chromium, dialogs,  # noqa: F401
                          open_page, page, sample_db, screenshot, wait_until_idle)


def search(page, pattern, mode):
    page.locator(".st-key-search_pattern input").fill(pattern)
    page.locator(".st-key-search_mode").get_by_text(mode, exact=True).click()
    page.locator(".st-key-search_go button").click()
    wait_until_idle(page)
    heading = page.locator("h3", has_text=re.compile(r"hits? in")).first
    expect(heading).to_be_visible()
    wait_until_idle(page)
    return int(heading.inner_text().split()[0].replace(",", ""))


def searched_codings(db):
    with coding.open_project(db) as project, project.store.reading() as session:
        return session.execute(select(CodingRow.start, CodingRow.end, CodingRow.coder)
                               .where(CodingRow.origin == "search")
                               .order_by(CodingRow.start)).all()


def click(page, key, then):
    """Click a button and wait for the rerun to show `then` (a text) and finish. The first
    <button> in the element: one with help text (Undo, Open) holds a second."""
    wait_until_idle(page)
    page.locator(f".st-key-{key} button").first.click()
    expect(page.get_by_text(then).first).to_be_visible()
    wait_until_idle(page)


def test_search_code_ticked_and_all_hits_then_undo(page, dialogs, app_url, sample_db):
    open_page(page, app_url, app_page="Search")
    hits = search(page, "support", "Any form (lemma)")
    assert hits > 1
    page.locator(".st-key-pick-1-0 label").click()
    expect(page.locator(".st-key-search_code_picked button")).to_have_text("Code the 1 ticked")
    wait_until_idle(page)
    click(page, "search_code_picked", then="Coded 1 hit with")
    assert len(searched_codings(sample_db)) == 1

    if hits > 100:
        page.locator(".st-key-search_confirm label").click()
        expect(page.locator(".st-key-search_code_all button")).to_be_enabled()
        wait_until_idle(page)
    click(page, "search_code_all", then=f"Coded {hits - 1} hits with")
    stored = searched_codings(sample_db)
    assert len(stored) == hits and {coder for _, _, coder in stored} == {CODER}
    screenshot(page, "browser-search.png")

    click(page, "undo", then=f"Undone: coded {hits} search hits")
    assert len(searched_codings(sample_db)) == 1
    click(page, "undo", then="Undone: coded 1 search hit")
    assert searched_codings(sample_db) == [] and dialogs == []


def test_search_opens_a_hit_in_its_transcript(page, dialogs, app_url):
    open_page(page, app_url, app_page="Search")
    search(page, "support", "Words")
    page.locator(".st-key-open-hit-1-0 button").first.click()
    expect(page).to_have_url(re.compile(r"page=Transcript"))
    assert dialogs == []


def test_search_shows_markdown_and_html_in_hits_as_text(page, dialogs, app_url):
    asked = []
    page.on("request", lambda request: asked.append(request.url)
            if "127.0.0.1:9/" in request.url else None)
    open_page(page, app_url, app_page="Search")
    assert search(page, r"wrote !\[x\]", "Regular expression") == 1
    row = page.locator('[data-testid="stMarkdownContainer"]', has_text="wrote").first
    assert IMAGE in row.inner_text().replace("\u2060", "")
    assert page.locator('img[src*="127.0.0.1"], img[src="x"]').count() == 0
    assert asked == [] and dialogs == []
