"""The Review page (issue 16, items 5 and 9): one current suggestion the keys act on, with the
keys shown; Recode starts with no code chosen; where a suggestion came from in words, the exact
provenance a click away; after retraining, how the queue changed and why. AppTest on a copy of
the sample study; the keys themselves are pressed in Chromium below."""

import re

from playwright.sync_api import expect

import coding
from coding.project.suggestions import origin_in_words
from test_app import db, displayed, open_app, run, sample_db, stored  # noqa: F401
from test_browser import (CODER, app_url, browser, chromium, page, screenshot,  # noqa: F401
                          wait_until_idle)
from test_browser import open_page as open_browser_page
from test_browser import progress

KEYS_SHOWN = ("keys: A accept · X reject · N next · P previous · U undo (when the cursor is not "
              "in a text box)")


def cards(at):
    return [int(b.key.split("-")[1]) for b in at.button if b.key and b.key.startswith("accept-")]


def current(at):
    """The card marked as current (its heading starts with ▶)."""
    marked = [m for m in at.markdown if displayed(m.value).startswith("▶ ")]
    assert len(marked) == 1
    return displayed(marked[0].value)


def test_review_shows_the_keys_and_moves_the_current_suggestion(db):
    at = open_app("Review")
    with coding.open_project(db) as project:
        length = project.pending_count()
    captions = [displayed(c.value).replace("**", "") for c in at.caption]
    assert f"Suggestion 1 of {length:,} · {KEYS_SHOWN}" in captions
    first, second = cards(at)[:2]
    heading = current(at)
    at = run(at.button(key="review_next").click())
    assert f"Suggestion 2 of {length:,} · {KEYS_SHOWN}" in [
        displayed(c.value).replace("**", "") for c in at.caption]
    assert current(at) != heading
    at = run(at.button(key="review_previous").click())
    assert current(at) == heading
    at = run(at.button(key="review_previous").click())  # not before the first
    assert current(at) == heading
    at = run(at.button(key="review_next").click())
    at = run(at.radio(key="review_order").set_value("score"))  # another queue starts at its first
    assert f"Suggestion 1 of {length:,} · {KEYS_SHOWN}" in [
        displayed(c.value).replace("**", "") for c in at.caption]
    at = run(at.radio(key="review_order").set_value("uncertainty"))
    assert current(at) == heading
    at = run(at.button(key=f"accept-{first}").click())
    assert cards(at)[0] == second
    at = run(at.button(key="review_undo").click())
    assert [displayed(s.value) for s in at.success] == [
        f"Undone: accepted 1 suggestion ({first})"]
    assert cards(at)[0] == first


def test_recode_starts_with_no_code_chosen(db):
    at = open_app("Review")
    coding_id = cards(at)[0]
    assert at.selectbox(key=f"recode-to-{coding_id}").value is None
    assert at.button(key=f"recode-{coding_id}").disabled
    code = at.selectbox(key=f"recode-to-{coding_id}").options[0]
    with coding.open_project(db) as project:
        by_name = {c.name: c.id for c in project.codebook().codes}
    at = run(at.selectbox(key=f"recode-to-{coding_id}").set_value(by_name[code]))
    assert not at.button(key=f"recode-{coding_id}").disabled
    at = run(at.button(key=f"recode-{coding_id}").click())
    frame = stored(db, None)
    recoded = frame[frame["origin"].str.startswith("recode:")]
    assert recoded["code"].tolist() == [by_name[code]]


def test_suggestions_say_where_they_came_from_in_words(db):
    at = open_app("Review")
    with coding.open_project(db) as project:
        models = project.models()
        shown = project.pending(limit=10)
    (version, model), = [(v, m) for v, m in models.items() if m["name"] == "tfidf-logreg"]
    (semantic, _), = [(v, m) for v, m in models.items() if m["name"] == "semantic-logreg"]
    at_time = model["trained_at"].astimezone().strftime("%H:%M")
    said = f"trained at {at_time} on {model['positive_units']} coded sentences"
    assert origin_in_words(f"model:tfidf-logreg@{version}", models) == f"the model {said}"
    assert origin_in_words(f"rule:keywords+model:tfidf-logreg@{version}+semantic:"
                           f"semantic-logreg@{semantic}", models) == \
        f"the codebook's keywords and the model {said} and the semantic suggester {said}"
    assert origin_in_words("rule:derived", models) == "words of the codebook's definitions"
    assert origin_in_words("model:tfidf-logreg@0000", models) == "an earlier model"
    captions = [displayed(c.value) for c in at.caption]
    for item in shown.itertuples():
        assert any(c.startswith(f"Suggested by {origin_in_words(item.origin, models)}. "
                                "Precision so far at this score: too few reviewed (0) (from "
                                "reviewed suggestions of this code and suggester")
                   for c in captions)
    assert not any("tfidf-logreg@" in c or re.search(r"\[\d+, \d+\)", c) for c in captions)
    details = [t.value for t in at.text if t.value.startswith(shown["rationale"].iloc[0])]
    assert details and f"origin {shown['origin'].iloc[0]}" in details[0]  # one click away


def test_retraining_says_how_the_queue_changed_and_why(db):
    at = open_app("Review")
    at = run(at.button(key=f"accept-{cards(at)[0]}").click())
    before = stored(db, ["suggested"])
    with coding.open_project(db) as project:
        previous = project.events().query("action == 'train'")["detail"].iloc[-1]
    at = run(at.button(key="retrain").click())
    after = stored(db, ["suggested"])
    with coding.open_project(db) as project:
        events = project.events()
    model = events.query("action == 'train'")["detail"].iloc[-1]
    dropped = events.query("action == 'drop_stale_suggestions'")["detail"].iloc[-1]["dropped"]
    added = sum(d["added"] for d in events[events["event_id"] > events.query(
        "action == 'drop_stale_suggestions'")["event_id"].iloc[-1]].query(
        "action == 'suggest'")["detail"])
    span = ["document", "code", "start", "end"]
    stale = before[before["origin"].str.contains("model:")][span]
    again = len(stale.merge(after[span]).drop_duplicates())
    more = model["positive_units"] - previous["positive_units"]
    compared = f"{more} more than last time" if more else \
        "as many as last time (it learned from the rejections since)"  # a unit coded already
    assert [displayed(s.value) for s in at.success] == [
        f"Retrained on {model['positive_units']} coded sentences, {compared}. "
        f"The queue went from {len(before):,} to {len(after):,} suggestions: the old model's "
        f"{dropped:,} were dropped and {added:,} made from what it has learned now ({again:,} of "
        "them as before)."]


# -- the keys, pressed in Chromium -------------------------------------------------------------
def current_id(page):
    """The id of the card whose heading is marked current."""
    heading = page.locator('[class*="st-key-card-"]', has_text="▶").first
    return int(re.search(r"st-key-card-(\d+)", heading.get_attribute("class")).group(1))


def where(page):
    """'Suggestion 3 of 2,025': which suggestion is current, and how many wait."""
    return page.get_by_text(KEYS_SHOWN).inner_text().split(" · ")[0]


def press(page, key):
    """Press a key on the page and wait for the rerun it starts to change what is current
    (every key here moves the current suggestion or changes how many wait)."""
    before = where(page)
    page.locator("body").press(key)
    expect(page.get_by_text(KEYS_SHOWN)).not_to_have_text(re.compile(
        "^" + re.escape(before) + " · "))
    wait_until_idle(page)


def test_review_keys_accept_reject_move_and_undo(page, app_url, sample_db):  # noqa: F811
    open_browser_page(page, app_url, app_page="Review")
    expect(page.get_by_text(KEYS_SHOWN)).to_be_visible()
    reviewed, total, _ = progress(page)
    first = current_id(page)
    press(page, "a")  # accept the current suggestion
    expect(page.locator(f".st-key-card-{first}")).to_have_count(0)
    second = current_id(page)
    press(page, "n")  # next
    third = current_id(page)
    assert third != second
    press(page, "p")  # previous
    assert current_id(page) == second
    press(page, "x")  # reject it
    expect(page.locator(f".st-key-card-{second}")).to_have_count(0)
    assert progress(page)[0] == reviewed + 2
    press(page, "u")  # undo the rejection
    expect(page.locator(f".st-key-card-{second}")).to_have_count(1)
    assert progress(page)[0] == reviewed + 1
    screenshot(page, "browser-review-keys.png")
    with coding.open_project(sample_db) as project:
        frame = project.codings_frame(statuses=None).set_index("coding_id")
    assert frame.loc[[first, second], "status"].tolist() == ["accepted", "suggested"]
    assert frame.loc[first, "coder"] == CODER


def test_review_keys_do_nothing_while_typing(page, app_url):  # noqa: F811
    """Typing "a" to find a code to recode to filters the list; it accepts nothing."""
    open_browser_page(page, app_url, app_page="Review")
    first = current_id(page)
    reviewed = progress(page)[0]
    box = page.locator(f".st-key-recode-to-{first} input")
    box.click()
    box.press("a")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)  # time for a rerun, were one started
    wait_until_idle(page)
    assert progress(page)[0] == reviewed and current_id(page) == first


def test_review_cards_show_memos_with_author_and_time(db):
    from coding.ui.pages_themes import when

    at = open_app("Review")
    coding_id = cards(at)[0]
    with coding.open_project(db, coder="Morag") as project:
        project.add_memo("Is this <i>really</i> empowering?", "coding", coding_id)
        created = project.memos().iloc[-1]["created_at"]
    at = open_app("Review")
    assert f"Memo by Morag, {when(created)}" in [displayed(c.value) for c in at.caption]
    assert "Is this <i>really</i> empowering?" in [t.value for t in at.text]
