"""Calm and plain (issue 16, item 9): messages in words a researcher uses, the exact details a
click away; prepared downloads that no longer match their inputs disappear; no Deploy button;
the consensus coder is no person to sign in as."""

import tomllib

import coding
from test_app import db, displayed, open_app, run, sample_db, stored  # noqa: F401
from test_browser import app_url, browser, chromium, page, wait_until_idle  # noqa: F401
from test_browser import open_page as open_browser_page

from conftest import ROOT


def test_undo_says_what_it_undid_in_words_not_offsets(db):
    with coding.open_project(db, coder="Tess") as project:
        turn = project.turns("p01_community_link_worker.docx").iloc[1]
        start = int(turn["start"])
        end = start + project.document_text("p01_community_link_worker.docx")[
            start:int(turn["end"])].index(".") + 1
        coding_id = project.add_coding("p01_community_link_worker.docx", "empowering", start,
                                       end)
        quote = " ".join(project.document_text("p01_community_link_worker.docx")[start:end]
                         .split())
    at = open_app("Themes")
    at = run(at.sidebar.button(key="undo").click())
    shown = quote if len(quote) <= 60 else quote[:59].rstrip() + "\u2026"
    assert [displayed(s.value) for s in at.success] == [
        f"Undone: coded \u201c{shown}\u201d in p01_community_link_worker.docx as empowering "
        f"(coding {coding_id})"]


def test_who_is_coding_does_not_offer_the_consensus_coder(db):
    with coding.open_project(db, coder="Tess") as project:
        turn = project.turns("p01_community_link_worker.docx").iloc[1]
        project.add_coding("p01_community_link_worker.docx", "empowering", int(turn["start"]),
                           int(turn["end"]), coder="consensus")
    assert "consensus" in set(stored(db)["coder"])
    at = open_app(coder=None)
    options = at.selectbox(key="coder_pick").options
    assert "consensus" not in options and "Aileen Murray" in options


def test_a_prepared_download_disappears_when_its_inputs_change(db):
    at = open_app("Export")
    at = run(at.button(key="export_prepare").click())
    assert [b.proto.label for b in at.get("download_button")][0] == "Download codings.xlsx"
    at = run(at.selectbox(key="export_format").set_value("csv"))  # another format chosen
    assert "export_file" not in at.session_state
    at = run(at.button(key="export_prepare").click())
    at = run(at.button(key="export_report").click())
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Download codings.csv", "Download themes.docx"} <= set(labels)
    with coding.open_project(db, coder="Rab") as project:  # the data change meanwhile
        project.review("accept", ids=[int(project.pending(limit=1)["coding_id"].iloc[0])])
    at = run(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download codings.csv" not in labels and "Download themes.docx" not in labels
    assert labels == ["Codebook (YAML)"]


def test_the_app_has_no_deploy_button():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"


def test_no_deploy_button_in_the_browser(page, app_url):  # noqa: F811
    """`coding app` passes the same setting on its command line."""
    open_browser_page(page, app_url, app_page="Documents")
    wait_until_idle(page)
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
