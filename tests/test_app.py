"""The Streamlit app driven by AppTest on a real copy of the sample project: each test opens a
page, acts, then checks what is rendered and what is stored."""

import json
import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

import coding
from coding.analysis import matrices as analysis
from coding.cli import main
from coding.ui.workbench import document_offset, safe_colour, workbench_data

from conftest import ROOT

APP = str(ROOT / "app.py")
HOSTILE = ("Interviewer: What did you type?\n"
           "P99: I typed <script>alert(1)</script> and <b>bold</b> into the form.\n")


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """The sample study, built once by `coding demo`, plus a transcript full of markup."""
    from click.testing import CliRunner

    folder = tmp_path_factory.mktemp("sample")
    db = folder / "sample.db"
    assert CliRunner().invoke(main, ["demo", str(db)]).exit_code == 0
    (folder / "p99_markup.txt").write_text(HOSTILE)
    assert CliRunner().invoke(main, ["ingest", str(db), str(folder / "p99_markup.txt")]) \
        .exit_code == 0
    return db


@pytest.fixture
def db(sample_db, tmp_path, monkeypatch):
    copy = tmp_path / "study.db"
    shutil.copy(sample_db, copy)
    monkeypatch.setenv("CODING_PROJECT", str(copy))
    return copy


def open_app(page=None, coder="Tess", **params):
    at = AppTest.from_file(APP, default_timeout=60)
    if coder:
        at.query_params["coder"] = coder
    if page:
        at.query_params["page"] = page
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def run(element):
    at = element.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def stored(db, statuses=("accepted", "manual")):
    with coding.open_project(db) as project:
        return project.codings_frame(statuses=statuses)


def displayed(markdown):
    """What a Markdown element shows: backslash escapes undone, word joiners (which keep GFM
    from linking URLs) dropped."""
    return re.sub(r"\\(.)", r"\1", str(markdown)).replace("\u2060", "")


def workbench(at):
    """What the transcript workbench is given to draw (AppTest cannot drive the component;
    tests/test_workbench.py does, in a browser)."""
    [element] = at.get("bidi_component")
    return json.loads(element.proto.json)


def texts(at):
    return " ".join([*(displayed(e.value) for e in [*at.markdown, *at.caption, *at.success,
                                                *at.info, *at.error]),
                     *(t.value for t in at.text)])


def test_coder_is_asked_once_and_stamped_on_changes(db):
    at = open_app(coder=None)
    assert at.title[0].value == "Who is coding?"
    at.text_input(key="coder_typed").input("Morag")
    at = run(at.button[0].click())  # the form's submit button
    assert "Coding as **Morag**" in texts(at)
    assert at.query_params["coder"] == "Morag"  # a reload keeps the name
    at = run(at.sidebar.radio(key="page").set_value("Review"))
    first = next(b for b in at.button if b.key and b.key.startswith("accept-"))
    coding_id = int(first.key.split("-")[1])
    run(first.click())
    row = stored(db, None).set_index("coding_id").loc[coding_id]
    assert (row["status"], row["coder"]) == ("accepted", "Morag")


def test_documents_page_lists_filters_and_uploads(db, tmp_path):
    at = open_app("Documents")
    table = at.dataframe[0].value
    assert len(table) == 13 and {"case", "words", "codings", "pending", "reviewed"} <= \
        set(table.columns)
    with coding.open_project(db) as project:
        words = {d.name: d.words for d in project.documents()}
    assert dict(zip(table["document"], table["words"])) == words
    attribute = next(o for o in at.selectbox(key="doc_filter_attribute").options
                     if o != "(none)")
    at = run(at.selectbox(key="doc_filter_attribute").set_value(attribute))
    values = at.multiselect(key="doc_filter_values").options
    at = run(at.multiselect(key="doc_filter_values").set_value(values[:1]))
    filtered = at.dataframe[0].value
    assert 0 < len(filtered) < 13 and set(filtered[attribute].astype(str)) == {values[0]}

    at = run(at.file_uploader(key="upload_files").set_value([
        ("new_interview.txt", b"Interviewer: Hello.\nP50: We run a garden together.\n",
         "text/plain"),
        ("broken.docx", b"this is not a zip file", "application/octet-stream")]))
    at = run(at.button(key="upload").click())
    errors = [displayed(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("broken.docx") and "/tmp" not in errors[0]
    assert any("new_interview.txt: added" in displayed(s.value) for s in at.success)
    with coding.open_project(db) as project:
        names = {d.name for d in project.documents()}
    assert "new_interview.txt" in names and "broken.docx" not in names and len(names) == 14


def test_transcript_page_codes_a_turn_a_sentence_removes_and_memos(db):
    at = open_app("Transcript", doc="p99_markup.txt")
    data = workbench(at)
    assert data["turns"][1][1:] == ["P99", "participant",
                                    "I typed <script>alert(1)</script> and <b>bold</b> into "
                                    "the form."]  # data, drawn as text (tests/test_workbench.py)
    assert not [h for h in at.html if "<script>" in h.value or "<b>" in h.value]
    at = open_app("Transcript")
    document = at.selectbox(key="doc").value
    at = run(at.selectbox(key="apply_code").set_value("empowering"))
    participant_turn = 1  # the first answer
    at = run(at.selectbox(key="apply_from").set_value(participant_turn))
    at = run(at.selectbox(key="apply_part").set_value(0))  # the first sentence
    at = run(at.button(key="apply").click())
    assert any("Coded Empowering" in displayed(s.value) for s in at.success)
    frame = stored(db)
    mine = frame[(frame["coder"] == "Tess") & (frame["document"] == document)]
    assert mine[["code", "status", "turn"]].values.tolist() == [
        ["empowering", "manual", participant_turn]]
    coding_id = int(mine["coding_id"].iloc[0])
    data = workbench(at)
    assert [c for c in data["codings"] if c[0] == coding_id] == [
        [coding_id, participant_turn, 0, int(mine["end"].iloc[0] - mine["start"].iloc[0]),
         "empowering", "Tess", "manual", None]]
    assert data["recent"][0] == "empowering"  # the picker offers it first
    assert data["focus"][0] == participant_turn  # and the turn is brought into view

    at = run(at.selectbox(key="memo_target").set_value(coding_id))
    assert at.selectbox(key="memo_target").format_func(coding_id) == \
        "Empowering and supportive: “Aye, no bother.”"
    at.text_area(key="memo_text").input("Strong example of <b>agency</b>")
    at = run(at.button(key="memo_save").click())
    assert "Strong example of <b>agency</b>" in [t.value for t in at.text]  # shown as text
    assert at.text_area(key="memo_text").value == ""  # the box clears after saving
    with coding.open_project(db) as project:
        memos = project.memos()
    memo = memos.iloc[-1]
    assert (memo["target_type"], memo["target_id"], memo["coder"]) == ("coding", coding_id,
                                                                       "Tess")
    assert [m[0] for m in workbench(at)["memos"]].count(coding_id) == 1
    memo_id = int(memo["memo_id"])
    assert at.selectbox(key="memo_edit_id").value == memo_id
    assert at.text_area(key="memo_edit_text").value == "Strong example of <b>agency</b>"
    at.text_area(key="memo_edit_text").input("A clear example of agency.")
    at = run(at.button(key="memo_update").click())
    assert "A clear example of agency." in [t.value for t in at.text]
    at = run(at.button(key="memo_delete").click())
    with coding.open_project(db) as project:
        assert memo_id not in set(project.memos()["memo_id"])
    at = run(at.sidebar.button(key="undo").click())  # the memo comes back
    assert "A clear example of agency." in [t.value for t in at.text]
    at = run(at.selectbox(key="remove_id").set_value(coding_id))
    with coding.open_project(db, coder="Tess") as project:
        project.remove_memo(memo_id)
    at = run(at.button(key="remove").click())
    assert coding_id not in set(stored(db)["coding_id"])


def test_transcript_filters_by_code_and_speaker_and_code_by_turn_forgets_old_ranges(db):
    at = open_app("Transcript")
    data = workbench(at)
    everyone = [t[0] for t in data["turns"]]
    speakers = {t[1] for t in data["turns"]}
    coded = {c[4] for c in data["codings"] if c[6] != "suggested"}
    code = sorted(coded)[0]
    at = run(at.selectbox(key="filter_code").set_value(code))
    data = workbench(at)
    shown = [t[0] for t in data["turns"]]
    assert 0 < len(shown) < len(everyone) and data["step_code"] == code
    assert {c[1] for c in data["codings"] if c[4] == code} == set(shown)
    assert f"Showing {len(shown)} of {len(everyone)} turns." in texts(at)
    at = run(at.selectbox(key="filter_code").set_value(""))
    participant = next(s for s in sorted(speakers) if s != "Interviewer")
    at = run(at.multiselect(key="filter_speakers").set_value([participant]))
    assert {t[1] for t in workbench(at)["turns"]} == {participant}
    at = run(at.multiselect(key="filter_speakers").set_value([]))
    at = run(at.toggle(key="show_suggested").set_value(False))
    assert not [c for c in workbench(at)["codings"] if c[6] == "suggested"]

    at = run(at.selectbox(key="apply_from").set_value(5))
    at = run(at.selectbox(key="apply_to").set_value(7))
    at = run(at.selectbox(key="apply_from").set_value(3))
    assert at.selectbox(key="apply_to").value == 3  # not the 7 chosen for another range


def test_workbench_data_cuts_codings_at_turns_in_utf16_units_and_spots_several_coders():
    text = "I: Hi 😀 there.\nP: Fine 😀😀 thanks."
    first, second = text[3:text.index("\n")], text[text.index("P: ") + 3:]
    turns = [dict(seq=0, speaker="I", role="interviewer", start=3, end=3 + len(first),
                  text=first),
             dict(seq=1, speaker="P", role="participant", start=len(text) - len(second),
                  end=len(text), text=second)]
    across = dict(coding_id=7, start=text.index("there"), end=text.index(" thanks"),
                  code="joy", coder="ann", status="manual", score=None)
    pending = dict(coding_id=8, start=text.index("thanks"), end=len(text) - 1, code="joy",
                   coder="rules", status="suggested", score=0.5)
    data = workbench_data("d.txt", "sha", turns, [across, pending],
                          [("joy", "Joy", safe_colour("url(http://127.0.0.1:9/x)"))])
    assert data["codings"] == [[7, 0, 6, 12, "joy", "ann", "manual", None],
                               [7, 1, 0, 9, "joy", "ann", "manual", None],
                               [8, 1, 10, 16, "joy", "rules", "suggested", 0.5]]
    turn_texts = {t[0]: t[3] for t in data["turns"]}
    assert [utf16_slice(turn_texts[seq], a, b) for _, seq, a, b, *_ in data["codings"]] == \
        ["there.", "Fine 😀😀", "thanks"]  # what JavaScript's slice() gives
    assert data["codes"] == [["joy", "Joy", "#fde68a", "#000"]]  # no url() reaches CSS
    assert not data["several_coders"]
    other = dict(across, coding_id=9, coder="bo")
    assert workbench_data("d.txt", "sha", turns, [across, other], [])["several_coders"]
    assert document_offset(turns[1]["start"], second, 9) == text.index(" thanks")
    with pytest.raises(ValueError, match="falls inside the character"):
        document_offset(turns[1]["start"], second, 6)  # inside the first emoji


def utf16_slice(text, a, b):
    return text.encode("utf-16-le")[2 * a:2 * b].decode("utf-16-le")


def test_review_page_accept_reject_recode_widen_bulk_and_reload(db):
    at = open_app("Review")
    progress = at.get("progress")[0].proto.text
    ids = [int(b.key.split("-")[1]) for b in at.button if b.key and b.key.startswith("accept-")]
    assert len(ids) == 10
    at = run(at.button(key=f"accept-{ids[0]}").click())
    at = run(at.button(key=f"reject-{ids[1]}").click())
    at = run(at.button(key=f"widen-{ids[2]}").click())
    with coding.open_project(db) as project:
        names = {code.name: code.id for code in project.codebook().codes}
    recode_to = names[at.selectbox(key=f"recode-to-{ids[3]}").options[0]]
    at = run(at.selectbox(key=f"recode-to-{ids[3]}").set_value(recode_to))
    at = run(at.button(key=f"recode-{ids[3]}").click())
    frame = stored(db, None).set_index("coding_id")
    assert frame.loc[ids[0], ["status", "coder"]].tolist() == ["accepted", "Tess"]
    assert frame.loc[ids[1], "status"] == "rejected"
    assert frame.loc[ids[3], "status"] == "rejected"
    recoded = frame[frame["origin"].str.startswith("recode:")]
    assert recoded[["code", "status"]].values.tolist() == [[recode_to, "accepted"]]
    widened = frame.loc[ids[2]]
    with coding.open_project(db) as project:
        turns = project.turns(widened["document"])
    turn = turns[turns["seq"] == widened["turn"]].iloc[0]
    assert (widened["start"], widened["end"]) == (turn["start"], turn["end"])
    shown = [int(b.key.split("-")[1]) for b in at.button if b.key and b.key.startswith("accept-")]
    assert ids[0] not in shown and ids[1] not in shown

    after = open_app("Review")  # a reload: a new session sees the same state
    new_progress = after.get("progress")[0].proto.text
    assert new_progress != progress
    reviewed = int(new_progress.split(" of ")[0].replace(",", ""))
    assert reviewed == int(progress.split(" of ")[0].replace(",", "")) + 3  # recode is one

    after = run(after.checkbox(key="auto_retrain").uncheck())  # else new suggestions arrive
    waiting = stored(db, ["suggested"])
    code = waiting["code"].value_counts().index[0]  # the page's code filter counts
    after = run(after.selectbox(key="review_code").set_value(code))
    after = run(after.slider(key="bulk_min").set_value(0.5))
    chosen = waiting[(waiting["code"] == code) & (waiting["score"] >= 0.5)]
    assert len(chosen) > 5
    after = run(after.button(key="bulk_preview").click())
    name = chosen["code_name"].iloc[0]
    # the validation gate: none of these has been reviewed, so nothing is offered...
    with coding.open_project(db) as project:
        gate = project.gate(code, 0.5)
    assert not gate.passes and gate.reviewed < 30 and gate.pending == len(chosen)
    assert [displayed(e.value) for e in after.error] == [gate.explain()]
    assert f"of '{code}' scor" in gate.explain() and "review" in gate.explain()
    assert not after.warning and "No code passes the gate" in after.info[0].value
    after = run(after.checkbox(key="bulk_override").check())  # ...unless the coder overrides
    assert [displayed(w.value) for w in after.warning] == [
        f"Accept {len(chosen)} suggestions of {name} scoring 0.50 or more? 5 of them, the "
        "highest scoring:"]
    samples = [t.value for t in after.text if t.value.startswith(f"{name} · ")]
    top = chosen.sort_values(["score", "coding_id"], ascending=[False, True]).head(5)
    assert samples == [f"{name} · {row.document} · {row.score:.2f}\n{' '.join(row.quote.split())}"
                       for row in top.itertuples()]
    assert len(stored(db, ["suggested"])) == len(waiting)  # nothing stored before confirming
    after = run(after.button(key="bulk_accept").click())
    assert [displayed(s.value) for s in after.success] == [
        f"Accepted {len(chosen)} suggestions of {name} scoring 0.50 or more."]
    left = stored(db, ["suggested"])
    assert len(left) == len(waiting) - len(chosen)
    assert not len(left[(left["code"] == code) & (left["score"] >= 0.5)])


def test_review_retrain_button_refreshes_the_queue(db):
    at = open_app("Review")
    first = next(b for b in at.button if b.key and b.key.startswith("accept-"))
    at = run(first.click())  # a new decision, so the model has something new to learn
    at = run(at.button(key="retrain").click())
    with coding.open_project(db) as project:
        events = project.events()["action"].tolist()
        waiting = project.pending()
    assert "drop_stale_suggestions" in events and events.count("train") >= 2
    assert int(at.get("progress")[0].proto.text.split("· ")[1].split()[0].replace(",", "")) \
        == len(waiting)


def test_codebook_page_edits_adds_moves_merges(db):
    at = open_app("Codebook")
    at = run(at.selectbox(key="edit_code").set_value("empowering"))
    at.text_area(key="edit_empowering_definition").input("Enabling people to take control.")
    at = run(next(b for b in at.button if b.label == "Save code").click())
    with coding.open_project(db) as project:
        assert project.codebook().get("empowering").definition == \
            "Enabling people to take control."
    at.text_input(key="add_id").input("peer_support")
    at.text_input(key="add_name").input("Peer support")
    at.selectbox(key="add_parent").set_value("people_skills")  # a form: sent on submit
    at = run(next(b for b in at.button if b.label == "Add code").click())
    at = run(at.selectbox(key="move_code").set_value("peer_support"))
    at = run(at.selectbox(key="move_parent").set_value("asset_features"))
    at = run(at.button(key="move").click())
    with coding.open_project(db) as project:
        assert project.codebook().path("peer_support") == "asset_features/peer_support"
        before = project.codings_frame()["code"].value_counts()
    at = run(at.selectbox(key="merge_source").set_value("flexible_responsive"))
    at = run(at.selectbox(key="merge_target").set_value("person_centred"))
    at = run(at.button(key="merge").click())
    assert any("codings moved" in displayed(s.value) for s in at.success)
    with coding.open_project(db) as project:
        after = project.codings_frame()["code"].value_counts()
        assert project.codebook().get("flexible_responsive") is None
    assert after.get("person_centred", 0) == before.get("person_centred", 0) + \
        before.get("flexible_responsive", 0)
    assert at.get("download_button")


def test_codebook_bad_edit_shows_an_error_and_changes_nothing(db):
    at = open_app("Codebook")
    at.text_input(key="add_id").input("empowering")  # taken
    at.text_input(key="add_name").input("Again")
    at = run(next(b for b in at.button if b.label == "Add code").click())
    assert any("already a code with id 'empowering'" in displayed(e.value) for e in at.error)
    assert not at.exception


def test_themes_page_matrices_and_quotes_open_the_transcript(db):
    at = open_app("Themes")
    frame = stored(db)
    cell_counts = frame.groupby(["code_name", "case"]).size()
    matrix = at.dataframe[0].value
    code_name, case = cell_counts.index[0]
    assert matrix.loc[code_name, case] == cell_counts.iloc[0]
    at = run(at.radio(key="case_value").set_value("presence"))
    assert set(at.dataframe[0].value.values.ravel()) <= {0, 1}
    code = frame["code"].iloc[0]
    at = run(at.selectbox(key="quotes_code").set_value(code))
    expected = frame[frame["code"] == code]
    assert f"{len(expected)} quotes" in texts(at)
    assert expected["quote"].iloc[0] in [t.value for t in at.text]
    attribute = next(o for o in at.selectbox(key="attribute").options if "role" in o)
    at = run(at.selectbox(key="attribute").set_value(attribute))
    assert len(at.dataframe) >= 4  # code x case, two attribute matrices, co-occurrence
    with coding.open_project(db) as project:
        roles = analysis.attribute_values(project.cases(), "role")
    assert "manager" in roles and "manager" not in set(frame[attribute])  # nobody coded ...
    assert list(at.dataframe[1].value.columns) == roles  # ... but it has its column of zeros
    assert at.dataframe[1].value["manager"].sum() == 0
    first = next(b for b in at.button if b.key and b.key.startswith("open-"))
    at = run(first.click())
    assert at.sidebar.radio(key="page").value == "Transcript"
    assert at.selectbox(key="doc").value == expected["document"].iloc[0]
    assert workbench(at)["focus"][0] == int(expected["turn"].iloc[0])  # scrolled to, marked


def test_export_page_prepares_matrices_reports_and_refi_files(db):
    import io

    import docx
    import openpyxl

    at = open_app("Export")
    at = run(at.selectbox(key="export_what").set_value("code-by-case"))
    at = run(at.radio(key="export_value").set_value("presence"))
    at = run(at.button(key="export_prepare").click())
    name, content, _ = at.session_state["export_file"]
    assert name == "code-by-case.xlsx"
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].values)
    frame = stored(db)
    by_case = frame.groupby(["code_name", "case"]).size()
    first = dict(zip(rows[0][1:], rows[1][1:]))  # the first code's row: 1 where it is used
    assert {case for case, present in first.items() if present} == \
        set(by_case[rows[1][0]].index)
    at = run(at.button(key="export_report").click())
    report = docx.Document(io.BytesIO(at.session_state["export_report_file"]))
    assert "Appendix: codebook" in [p.text for p in report.paragraphs]
    at = run(at.button(key="export_qdpx").click())
    assert at.session_state["export_qdpx_file"][:2] == b"PK"  # a zip archive
    import zipfile

    def origin(data):
        qde = zipfile.ZipFile(io.BytesIO(data)).read("project.qde").decode()
        return qde.split('origin="', 1)[1].split('"', 1)[0]

    assert "UTF-16" not in origin(at.session_state["export_qdpx_file"])
    at = run(at.checkbox(key="export_utf16").check())
    at = run(at.button(key="export_qdpx").click())  # for NVivo for Windows
    assert origin(at.session_state["export_qdpx_file"]).endswith(
        "(positions in UTF-16 code units)")
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Download code-by-case.xlsx", "Download themes.docx", "Download project.qdpx",
            "Codebook (YAML)"} <= set(labels)


def test_app_on_a_missing_project_shows_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CODING_PROJECT", str(tmp_path / "missing.db"))
    at = open_app("Review")
    assert "does not exist" in at.error[0].value and "coding demo" in at.error[0].value


def test_undo_button_reverses_this_coders_last_change_only(db):
    at = open_app("Review")
    first = next(b for b in at.button if b.key and b.key.startswith("accept-"))
    coding_id = int(first.key.split("-")[1])
    suggester = stored(db, None).set_index("coding_id").loc[coding_id, "coder"]
    at = run(first.click())
    with coding.open_project(db, coder="Rab") as other:  # another coder's later change
        theirs = int(other.pending(limit=1)["coding_id"].iloc[0])
        other.review("reject", ids=[theirs])
    at = run(at.sidebar.button(key="undo").click())
    assert any(displayed(s.value) == f"Undone: accepted 1 suggestion ({coding_id})"
               for s in at.success)
    frame = stored(db, None).set_index("coding_id")
    assert frame.loc[coding_id, ["status", "coder"]].tolist() == ["suggested", suggester]
    assert frame.loc[theirs, "status"] == "rejected"  # Rab's change stays
    assert coding_id in [int(b.key.split("-")[1]) for b in at.button
                         if b.key and b.key.startswith("accept-")]  # back in the queue
    at = run(at.sidebar.button(key="undo").click())  # Tess has nothing else to undo
    assert any("nothing to undo: Tess has no changes left" in displayed(e.value) for e in at.error)
    assert not at.exception


def test_with_login_configured_nobody_codes_before_signing_in(db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "test", "client_id": "x", "client_secret": "y",
                          "server_metadata_url": "https://id.example/.well-known/openid"}
    at.query_params["coder"] = "Mallory"  # a name in the address is not enough
    at.query_params["page"] = "Review"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Sign in to code"
    assert not [b for b in at.button if b.key and b.key.startswith("accept-")]
