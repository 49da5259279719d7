"""Issue 13, the app's part: nothing silently lost or coded on the wrong text, nothing exposed.

Real projects in tmp_path (the sample study from `coding demo`, or a small hostile one built
here through the API), the app driven by AppTest, and the stored result read back."""

import html
import json
import re
import threading

import pytest
from streamlit.testing.v1 import AppTest

import coding
from coding.project import codebook as codebook_edit
from coding.errors import CodebookError, StoreError
from coding.ui.main import signed_in_coder
from coding.ui.state import plain

from test_app import APP, displayed, open_app, run, sample_db, stored, texts  # noqa: F401
from test_app import db  # noqa: F401  (the fixture: a copy of the sample study)

IMAGE = "![x](http://127.0.0.1:9/p.png)"
BOLD_CASE = "**bold** <img src=x>"
ATTRIBUTE = "![a](http://127.0.0.1:9/a.png)"  # an attribute (a column) named like an image
HOSTILE_BOOK = f"""
codebook:
  id: hostile
  name: "Hostile {IMAGE}"
codes:
  - id: image
    name: "{IMAGE}"
  - id: trust_a
    name: Trust
  - id: trust_b
    name: Trust
"""
DOCUMENTS = {  # file name -> text; each stem is a case: "code" and "value" clash with pandas
    "code.txt": "Interviewer: How was it?\nAnn: I trust them. They listen.\n",
    "value.txt": "Interviewer: And you?\nBo: Not much trust. Nobody listens.\n",
    f"{BOLD_CASE}.txt": f"Interviewer: Name?\nCy: I wrote {IMAGE} and {BOLD_CASE}.\n",
}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test",
        "client_id": "x", "client_secret": "y",
        "server_metadata_url": "https://id.example/.well-known/openid"}


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A project whose code names, coder, cases and documents are Markdown and HTML, with two
    codes of the same name and cases named like the columns pandas makes."""
    path = tmp_path / "hostile.db"
    (tmp_path / "book.yaml").write_text(HOSTILE_BOOK, encoding="utf-8")
    for name, text in DOCUMENTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "people.csv").write_text(
        f"case,{ATTRIBUTE}\ncode,a\nvalue,b\n{BOLD_CASE},c\n", encoding="utf-8")
    with coding.init_project(path, coder=IMAGE) as project:
        project.import_codebook(tmp_path / "book.yaml")
        results = project.ingest([tmp_path / name for name in DOCUMENTS],
                                 cases=tmp_path / "people.csv")
        assert [r.status for r in results] == ["added"] * 3
        for document in DOCUMENTS:
            turns = project.turns(document)
            answer = turns.iloc[1]
            for code in ("image", "trust_a", "trust_b"):
                project.add_coding(document, code, int(answer["start"]), int(answer["end"]))
    monkeypatch.setenv("CODING_PROJECT", str(path))
    return path


def markdown_shown(at):
    """Every string the page hands to an element that renders Markdown: messages, captions,
    headings, labels of widgets, buttons, expanders and tabs, and radio options."""
    bodies = [e.value for kind in ("markdown", "caption", "success", "error", "info",
                                   "warning", "title", "subheader", "header")
              for e in getattr(at, kind)]
    for kind in ("selectbox", "multiselect", "radio", "text_input", "text_area", "button",
                 "toggle", "checkbox", "slider", "number_input", "color_picker",
                 "expander", "tabs"):
        bodies += [e.label for e in getattr(at, kind) if getattr(e, "label", None)]
    bodies += [option for radio in at.radio for option in radio.options]
    bodies += [b.proto.label for kind in ("download_button", "file_uploader")
               for b in at.get(kind)]
    return bodies


def assert_escaped(at, *raw):
    """None of `raw` reaches a Markdown element as it is; where it shows, it is escaped."""
    bodies = markdown_shown(at)
    for text in raw:
        assert not [b for b in bodies if text in b], f"{text!r} unescaped"
    return bodies


# -- item 13: user data is text, never Markdown -------------------------------------------------
@pytest.mark.parametrize("page", ["Documents", "Transcript", "Review", "Codebook", "Themes",
                                  "Agreement", "Export"])
def test_markdown_in_names_is_shown_as_text_on_every_page(hostile, page):
    at = open_app(page, coder=IMAGE, doc=f"{BOLD_CASE}.txt")
    bodies = assert_escaped(at, IMAGE, ATTRIBUTE, "](http", "**bold**", "<img src=x>")
    assert f"Coding as **{plain(IMAGE)}**" in bodies  # the coder, in the sidebar
    if page == "Documents":  # a dataframe shows column names as text: no escaping there
        assert ATTRIBUTE in at.dataframe[0].value.columns
    assert f"Coding as **{IMAGE}**" in texts(at)  # ... which shows as typed


def test_markdown_names_in_messages_labels_and_options_are_escaped(hostile):
    at = open_app("Themes", coder=IMAGE)
    at = run(at.selectbox(key="quotes_code").set_value("image"))
    quotes = [c.value for c in at.caption if "turn" in c.value]
    assert len(quotes) == 3 and all(q.startswith(plain(IMAGE + " · ")) for q in quotes)
    assert any(plain(f"case {BOLD_CASE}") in q for q in quotes)
    assert_escaped(at, IMAGE, "**bold**", "<img src=x>")
    at = open_app("Transcript", coder=IMAGE, doc=f"{BOLD_CASE}.txt")
    assert f"Case {plain(BOLD_CASE)}" in " ".join(c.value for c in at.caption)
    at = run(at.selectbox(key="apply_code").set_value("image"))
    at = run(at.selectbox(key="apply_from").set_value(1))
    at = run(at.button(key="apply").click())
    assert [s.value for s in at.success] == [plain(f"Coded {IMAGE} in turn 1.")]
    assert displayed(at.success[0].value) == f"Coded {IMAGE} in turn 1."
    at = open_app("Codebook", coder=IMAGE)  # the tree: names escaped as HTML text
    tree = at.html[0].value
    assert f"{html.escape(IMAGE)} <span class=\"count\">(4 codings)</span>" in tree
    assert "<img" not in tree.replace(html.escape("<img"), "")


def test_plain_escapes_markdown_and_breaks_links_but_shows_the_same_characters():
    for text in (IMAGE, BOLD_CASE, ":red[x] $x^2$ :smile:", "# h\n- l\n1. o\n> q",
                 "www.example.com a@b.org <http://x.y>", "\\ \\\\ &lt; `c`"):
        escaped = plain(text)
        assert displayed(escaped) == text
        assert not re.search(r"(?<!\\)[!\[\]()*<>#`$:]", escaped.replace("\\\\", ""))
    assert plain(None) == ""


# -- item 14: no password in the app -------------------------------------------------------------
def test_database_password_is_hidden_in_messages(monkeypatch):
    url = "postgresql://tess:s3cret-pw@127.0.0.1:9/study"
    monkeypatch.setenv("CODING_PROJECT", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["coder"] = "Tess"
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "s3cret" not in message
    assert displayed(message).startswith("postgresql://tess:***@127.0.0.1:9/study: ")


def test_sidebar_shows_the_project_url_without_its_password(postgres_url, monkeypatch):
    from sqlalchemy import make_url

    url = make_url(postgres_url)
    if not url.password:
        pytest.skip("the PostgreSQL test server's URL has no password to hide")
    coding.init_project(postgres_url).close()
    monkeypatch.setenv("CODING_PROJECT", postgres_url)
    at = open_app("Documents")
    label = url.render_as_string(hide_password=True)
    assert f"**{plain(label)}**" in [m.value for m in at.sidebar.markdown]
    secret = f"{url.username}:{url.password}@"
    assert not [b for b in markdown_shown(at) if secret in displayed(b)]


# -- item 17: with sign-in, the coder is the e-mail ---------------------------------------------
def test_signed_in_coder_is_the_email_shown_with_the_name():
    assert signed_in_coder({"name": "Aileen Murray", "email": "aileen@uni.ac.uk"}) == \
        ("aileen@uni.ac.uk", "Aileen Murray <aileen@uni.ac.uk>")
    assert signed_in_coder({"email": " rab@uni.ac.uk "}) == ("rab@uni.ac.uk", "rab@uni.ac.uk")
    assert signed_in_coder({"name": "Rab"}) == ("Rab", "Rab")
    assert signed_in_coder({"sub": "1234"}) == ("1234", "1234")


def test_signed_in_coder_codes_under_the_email_and_sees_the_name(db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "aileen@uni.ac.uk", "name": "Aileen Murray"}
    at.query_params["coder"] = "Mallory"  # the address cannot choose the coder
    at.query_params["page"] = "Review"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Coding as **Aileen Murray <aileen@uni.ac.uk>**" in texts(at)
    assert at.query_params["coder"] == "aileen@uni.ac.uk"
    assert not [b for b in at.sidebar.button if b.key == "change_coder"]
    first = next(b for b in at.button if b.key and b.key.startswith("accept-"))
    coding_id = int(first.key.split("-")[1])
    run(first.click())
    frame = stored(db, None)
    assert frame.set_index("coding_id").loc[coding_id, "coder"] == "aileen@uni.ac.uk"
    assert "Aileen Murray" in set(frame["coder"])  # the demo's codings keep their name


# -- item 19: Themes with clashing names -------------------------------------------------------
def test_themes_page_with_two_codes_of_one_name_and_cases_named_code_and_value(hostile):
    at = open_app("Themes", coder=IMAGE)
    matrix = at.dataframe[0].value
    assert sorted(matrix.index) == sorted([IMAGE, "Trust (trust_a)", "Trust (trust_b)"])
    assert {"code", "value", BOLD_CASE} == set(matrix.columns)
    assert matrix.loc["Trust (trust_a)", "code"] == 1
    for value in ("presence", "words", "percent"):
        at = run(at.radio(key="case_value").set_value(value))
    at = run(at.radio(key="cooccurrence_mode").set_value("overlap"))
    together = next(d.value for d in at.dataframe if "Trust (trust_b)" in d.value.columns)
    assert together.loc["Trust (trust_a)", "Trust (trust_b)"] == 3
    at = run(at.selectbox(key="quotes_code").set_value("trust_b"))
    at = run(at.selectbox(key="quotes_case").set_value("value"))
    assert "1 quotes" in texts(at)
    at = run(at.selectbox(key="attribute").set_value(ATTRIBUTE))
    assert list(at.dataframe[1].value.columns) == ["a", "b", "c"]
    assert at.selectbox(key="quotes_value").label == plain(ATTRIBUTE)
    assert_escaped(at, ATTRIBUTE, IMAGE)


# -- item 3: no lost update on the codebook ------------------------------------------------------
def test_update_code_based_on_an_older_state_is_refused_naming_who_and_when(tmp_path):
    path = tmp_path / "study.db"
    (tmp_path / "book.yaml").write_text(HOSTILE_BOOK, encoding="utf-8")
    with coding.init_project(path, coder="Aileen") as aileen, \
            coding.open_project(path, coder="Rab") as rab:
        aileen.import_codebook(tmp_path / "book.yaml")
        opened = aileen.codebook().get("trust_a")
        rab.update_code("trust_a", definition="Rab's definition")
        rab.update_code("trust_b", name="Trust in services")  # another code: no matter
        at = rab.events().query("action == 'update_code'")["at"].iloc[0]
        with pytest.raises(CodebookError) as info:
            aileen.update_code("trust_a", based_on=opened, definition="Aileen's definition")
        assert str(info.value) == (
            f"{path}: code 'trust_a' was changed by Rab at {at:%Y-%m-%d %H:%M} UTC since you "
            "opened it (definition); your edit was not saved. Compare your text with the "
            "stored one, merge them, and save again.")
        assert aileen.codebook().get("trust_a").definition == "Rab's definition"
        state = codebook_edit.code_state(aileen.codebook().get("trust_a"))
        assert aileen.update_code("trust_a", based_on=state,
                                  definition="Both").definition == "Both"
        with pytest.raises(CodebookError, match="changed by Aileen at .* since you opened it"):
            rab.update_code("trust_a", based_on={"definition": "Rab's definition"},
                            name="Faith")
        assert rab.update_code("trust_a", name="Faith").name == "Faith"  # no based_on: as before
        assert rab.codebook().get("trust_a").definition == "Both"
        with pytest.raises(CodebookError, match="not editable fields of a code"):
            rab.update_code("trust_a", based_on={"id": "trust_a"}, name="x")


@pytest.fixture(params=["sqlite", "postgresql"])
def project_location(request, tmp_path):
    """A new project's location: a SQLite file, or a PostgreSQL database (see conftest)."""
    if request.param == "sqlite":
        return tmp_path / "study.db"
    return request.getfixturevalue("postgres_url")


def test_concurrent_edits_of_different_codes_keep_both(project_location, tmp_path):
    path = project_location
    (tmp_path / "book.yaml").write_text(HOSTILE_BOOK, encoding="utf-8")
    with coding.init_project(path, coder="setup") as project:
        project.import_codebook(tmp_path / "book.yaml")
    failures = []

    def edit(coder, code):
        try:
            with coding.open_project(path, coder=coder) as project:
                for n in range(12):
                    project.update_code(code, definition=f"{coder} {n}")
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=edit, args=args)
               for args in (("Aileen", "trust_a"), ("Rab", "trust_b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with coding.open_project(path) as project:
        codebook = project.codebook()
    assert (codebook.get("trust_a").definition, codebook.get("trust_b").definition) == \
        ("Aileen 11", "Rab 11")


def test_codebook_page_stale_save_is_refused_and_keeps_both_texts(db):
    at = open_app("Codebook")
    at = run(at.selectbox(key="edit_code").set_value("empowering"))
    with coding.open_project(db, coder="Rab") as rab:  # another session saves meanwhile
        rab.update_code("empowering", definition="Rab: enabling people to act.")
    at.text_area(key="edit_empowering_definition").input("Tess: people take control.")
    at = run(next(b for b in at.button if b.label == "Save code").click())
    errors = [displayed(e.value) for e in at.error]
    assert len(errors) == 1 and re.search(
        r"code 'empowering' was changed by Rab at \d{4}-\d\d-\d\d \d\d:\d\d UTC since you "
        r"opened it \(definition\); your edit was not saved", errors[0])
    with coding.open_project(db) as project:
        assert project.codebook().get("empowering").definition == \
            "Rab: enabling people to act."
    shown = [c.value for c in at.code]
    assert shown == ["Tess: people take control.", "Rab: enabling people to act."]
    assert at.text_area(key="edit_empowering_definition").value == "Tess: people take control."
    at.text_area(key="edit_empowering_definition").input("Rab and Tess: merged.")
    at = run(next(b for b in at.button if b.label == "Save code").click())
    assert not at.error and not at.code
    with coding.open_project(db) as project:
        assert project.codebook().get("empowering").definition == "Rab and Tess: merged."


def test_codebook_page_offers_the_stored_version_after_another_change(db):
    at = open_app("Codebook")
    at = run(at.selectbox(key="edit_code").set_value("empowering"))
    with coding.open_project(db, coder="Rab") as rab:
        rab.update_code("empowering", definition="Rab's.")
    at = run(at)  # a rerun, nothing clicked
    assert any("Someone changed this code since you opened it" in displayed(i.value)
               for i in at.info)
    at = run(at.button(key="edit_empowering_reload").click())
    assert at.text_area(key="edit_empowering_definition").value == "Rab's."
    assert not at.info


# -- item 4: Apply codes the text that was shown ------------------------------------------------
def test_add_coding_refuses_a_span_whose_text_changed(project, tmp_path):
    (tmp_path / "a.txt").write_text("Interviewer: Hi.\nAnn: one two three.\n")
    project.ingest([tmp_path / "a.txt"])
    project.save_codebook(coding.Codebook(id="b", name="B", codes=(coding.Code("a", "A"),)))
    turn = project.turns("a.txt").iloc[1]
    start, end = int(turn["start"]), int(turn["end"])
    sha = project.documents()[0].sha256
    with pytest.raises(StoreError) as info:
        project.add_coding("a.txt", "a", start, end, expected_text="one two four.")
    assert str(info.value) == (f"{project.store.label}: 'a.txt': the transcript changed since "
                               "you opened it; reload it and code again (nothing was stored)")
    with pytest.raises(StoreError, match="the transcript changed since you opened it"):
        project.add_coding("a.txt", "a", start, end, expected_sha256="0" * 64)
    assert project.codings_frame().empty
    project.add_coding("a.txt", "a", start, end, expected_text="one two three.",
                       expected_sha256=sha)
    assert project.codings_frame()["quote"].tolist() == ["one two three."]


def test_transcript_apply_after_the_document_was_replaced_stores_nothing(db, tmp_path):
    document = "p99_markup.txt"  # a text file, so another text can take its name
    at = open_app("Transcript", doc=document)
    at = run(at.selectbox(key="apply_code").set_value("empowering"))
    at = run(at.selectbox(key="apply_from").set_value(1))
    at = run(at.selectbox(key="apply_part").set_value(0))
    with coding.open_project(db) as project:
        old = project.document_text(document)
    # the same name, other text (longer, so the old offsets still fit): a backup of it
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / document).write_text(
        "Interviewer: Before we start, a word on consent.\nP77: Fine, go ahead.\n" + old)
    with coding.init_project(tmp_path / "other.db") as other:
        other.import_codebook(coding_codebook(db, tmp_path))
        result = other.ingest([tmp_path / "other" / document])[0]
        assert result.status == "added", result.error
        copy = other.backup(tmp_path / "other-backup.db")
    coding.restore_project(db, copy, coder="Rab")
    at = run(at.button(key="apply").click())
    assert [displayed(e.value) for e in at.error] == [
        f"{db}: '{document}': the transcript changed since you opened it; reload it and code "
        "again (nothing was stored)"]
    with coding.open_project(db) as project:
        assert project.codings_frame(statuses=None).empty  # the restored project has none
    assert "consent" in workbench_text(at)  # the page now shows the stored text
    at = run(at.selectbox(key="apply_from").set_value(1))
    at = run(at.button(key="apply").click())  # coded on what is shown now
    frame = stored(db)
    assert frame["quote"].tolist() == ["Fine, go ahead."]


def test_transcript_remove_and_memo_refuse_a_coding_number_that_now_means_another(db, tmp_path):
    document = "p99_markup.txt"
    with coding.open_project(db, coder="Tess") as project:
        other = project.backup(tmp_path / "other.db")  # the same ids handed out so far
        turn = project.turns(document).iloc[1]
        shown = project.add_coding(document, "empowering", int(turn["start"]), int(turn["end"]))
    with coding.open_project(other, coder="Rab") as project:  # the next id there: the same
        assert project.add_coding(document, "people_skills", int(turn["start"]),
                                  int(turn["start"]) + 5) == shown
        copy = project.backup(tmp_path / "other-backup.db")
    removing = open_app("Transcript", doc=document)  # two sessions showing coding `shown`
    removing = run(removing.selectbox(key="remove_id").set_value(shown))
    writing = open_app("Transcript", doc=document)
    writing = run(writing.selectbox(key="memo_target").set_value(shown))
    writing.text_area(key="memo_text").input("About the empowering coding.")
    coding.restore_project(db, copy, coder="Rab")
    message = (f"coding #{shown} is no longer the coding shown (the project changed "
               "meanwhile); nothing was changed: check the transcript and try again")
    for at, button in ((removing, "remove"), (writing, "memo_save")):
        at = run(at.button(key=button).click())
        assert [displayed(e.value) for e in at.error] == [message]
    with coding.open_project(db) as project:
        kept = project.codings_frame(ids=[shown])
        assert kept[["code", "coder"]].values.tolist() == [["people_skills", "Rab"]]
        assert "About the empowering coding." not in set(project.memos()["text"])


def workbench_text(at):
    """The transcript text the Transcript page's workbench component is given to draw."""
    [element] = at.get("bidi_component")
    return " ".join(turn[3] for turn in json.loads(element.proto.json)["turns"])


def coding_codebook(db, tmp_path):
    with coding.open_project(db) as project:
        project.export_codebook(tmp_path / "book.yaml")
    return tmp_path / "book.yaml"


# -- items 5 and 22: uploads -------------------------------------------------------------------
def upload(at, files):
    at = run(at.file_uploader(key="upload_files").set_value(files))
    return run(at.button(key="upload").click())


def test_two_uploads_of_one_name_are_both_read(db):
    at = open_app("Documents")
    first = b"Interviewer: Hello.\nP50: We run a garden together.\n"
    second = b"Interviewer: Hello.\nP51: I cook for the lunch club.\n"
    at = upload(at, [("notes.txt", first, "text/plain"), ("notes.txt", second, "text/plain"),
                     ("again.txt", first, "text/plain"), ("again.txt", first, "text/plain")])
    messages = [displayed(m.value) for m in [*at.success, *at.info, *at.warning, *at.error]]
    added = [m for m in messages if ": added as " in m]
    assert [m.split(" (case")[0] for m in added] == [
        "notes.txt (upload 1 of 2 with this name): added as notes.txt",
        "notes.txt (upload 2 of 2 with this name): added as notes (2).txt",
        "again.txt (upload 1 of 2 with this name): added as again.txt"]
    assert "again.txt (upload 2 of 2 with this name): already in the project as again.txt" \
        in messages
    with coding.open_project(db) as project:
        texts_ = {d.name: project.document_text(d.name) for d in project.documents()}
    assert texts_["notes.txt"] == first.decode() and texts_["notes (2).txt"] == second.decode()


@pytest.mark.parametrize("name", ["..", ".", "", "/", "a/..", "nul\x00.txt"])
def test_an_upload_without_a_usable_name_is_refused_and_the_rest_added(db, name):
    at = open_app("Documents")
    at = upload(at, [(name, b"Interviewer: Hi.\nP60: Hello.\n", "text/plain"),
                     ("fine.txt", b"Interviewer: Hi.\nP61: Fine.\n", "text/plain")])
    errors = [displayed(e.value) for e in at.error]
    assert len(errors) == 1 and (repr(name) in errors[0] or name in errors[0]), errors
    assert "rename the file and upload it again" in errors[0]
    assert any("fine.txt: added as fine.txt" in displayed(s.value) for s in at.success)
    with coding.open_project(db) as project:
        assert "fine.txt" in {d.name for d in project.documents()}
