"""The Agreement page and blind coding, driven by AppTest on a real copy of the sample study to
which a second coder, Rab, has been added through the API: Rab codes three of the documents
like Aileen Murray, but leaves some codings out and puts others under another code."""

import shutil

import pytest

import coding
from coding.analysis.agreement import disagreements
from coding.analysis.evaluation import overlaps

from test_app import displayed, open_app, run, stored, texts, workbench

AILEEN, RAB = "Aileen Murray", "Rab"
SWITCH_TO = "empowering"  # the code Rab uses instead of Aileen's, one time in five


@pytest.fixture(scope="session")
def team_db(tmp_path_factory):
    """The sample study (built once by `coding demo`) with Rab's codings added."""
    from click.testing import CliRunner

    from coding.cli import main

    db = tmp_path_factory.mktemp("team") / "team.db"
    assert CliRunner().invoke(main, ["demo", str(db)]).exit_code == 0
    with coding.open_project(db, coder=RAB) as project:
        frame = project.codings_frame()
        documents = sorted(frame["document"].unique())[:3]
        ours = frame[frame["document"].isin(documents)].reset_index(drop=True)
        left_out = ours.loc[ours["document"] == documents[0], "code"].iloc[0]  # Rab never
        # uses it in the first document
        for i, row in ours.iterrows():
            if i % 5 == 4 or (row.document == documents[0] and row.code == left_out):
                continue
            code = SWITCH_TO if i % 5 == 3 else row.code
            project.add_coding(row.document, code, int(row.start), int(row.end), coder=RAB)
    return db, documents, left_out


@pytest.fixture
def db(team_db, tmp_path, monkeypatch):
    copy = tmp_path / "study.db"
    shutil.copy(team_db[0], copy)
    monkeypatch.setenv("CODING_PROJECT", str(copy))
    return copy


def test_agreement_page_shows_the_projects_figures_and_downloads(db):
    at = open_app("Agreement")
    assert at.multiselect(key="agree_coders").options == [AILEEN, RAB, "model", "rules",
                                                          "semantic", "llm"]
    at = run(at.multiselect(key="agree_coders").set_value([AILEEN, RAB]))
    shown = at.dataframe[0].value
    with coding.open_project(db) as project:
        expected = project.agreement([AILEEN, RAB], "sentence")
    assert len(shown) == len(expected) and "ALL" in set(shown["code"])
    for column in ("code", "variant", "units", "coded_units", "warning"):
        assert shown[column].tolist() == expected[column].tolist(), column
    for column in ("agreement", "kappa", "alpha"):
        assert shown[column].fillna(-9).tolist() == pytest.approx(
            expected[column].fillna(-9).tolist()), column
    assert shown.loc[shown["code"] == "ALL", "code_name"].tolist() == ["All codes (pooled)"] * 2
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download agreement.csv", "Download agreement.xlsx"]

    at = run(at.selectbox(key="agree_unit").set_value("turn"))
    at = run(at.multiselect(key="agree_codes").set_value([SWITCH_TO, "people_skills"]))
    with coding.open_project(db) as project:
        expected = project.agreement([AILEEN, RAB], "turn", codes=[SWITCH_TO, "people_skills"])
        name = project.codebook().get("people_skills").name
    shown = at.dataframe[0].value
    assert shown["code"].tolist() == expected["code"].tolist()
    assert shown["kappa"].tolist() == pytest.approx(expected["kappa"].tolist())
    warned = expected[expected["warning"] != ""]  # few turns have people skills: unstable
    assert set(warned["code"]) == {"people_skills"}
    message = displayed(at.warning[0].value)  # every warning spelt out, not only in a table cell
    assert f"{len(warned)} of {len(expected)} figures rest on too little data" in message
    for row in warned.itertuples():
        assert f"{name} ({row.variant}): {row.warning}" in message


def test_agreement_page_reports_a_coder_without_codings(db):
    with coding.open_project(db) as project:  # the suggesters' work goes: "rules" coded nothing
        ids = project.codings_frame(statuses=["suggested"]).query("coder == 'rule'")["coding_id"]
        for coding_id in ids:
            project.remove_coding(int(coding_id))
    at = open_app("Agreement")
    at = run(at.multiselect(key="agree_coders").set_value([AILEEN, "rules"]))
    assert any("no codings by rules" in displayed(e.value) for e in at.error)
    assert not at.dataframe


def disagreement_buttons(at, decision):
    return [b for b in at.button if b.key and b.key.startswith(f"{decision}-")]


def test_disagreements_list_and_keep_b_stores_a_consensus_coding(db):
    at = open_app("Agreement", coder="Lead")
    at = run(at.selectbox(key="disagree_a").set_value(AILEEN))
    at = run(at.selectbox(key="disagree_b").set_value(RAB))
    at = run(at.selectbox(key="disagree_code").set_value(SWITCH_TO))
    with coding.open_project(db) as project:
        differ = disagreements(project.agreement_data([AILEEN, RAB], "sentence",
                                                      codes=[SWITCH_TO]), SWITCH_TO)
    assert len(differ) > 40  # three pages of 20
    assert f"{len(differ)} disagreements left" in texts(at)
    assert len(disagreement_buttons(at, "keep_b")) == 20
    assert len(disagreement_buttons(at, "neither")) == 20
    at = run(at.number_input(key="disagree_page").set_value(3))
    assert len(disagreement_buttons(at, "keep_b")) == len(differ) - 40
    at = run(at.number_input(key="disagree_page").set_value(1))

    unit = differ.head(20)[differ.head(20)[RAB] == 1].iloc[0]  # Rab coded it, Aileen not
    document, start, end = unit["document"], int(unit["start"]), int(unit["end"])
    with coding.open_project(db) as project:
        text = project.document_text(document)[start:end]
        name = project.codebook().get(SWITCH_TO).name
        rab = project.codings_frame().query("coder == @RAB and code == @SWITCH_TO "
                                            "and document == @document")
    assert text in [t.value for t in at.text]  # the unit's text, shown as text
    at = run(at.button(key=f"keep_b-{document}-{start}-{end}").click())

    consensus = stored(db, None).query("coder == 'consensus'")
    spans = [(int(s), int(e)) for s, e in zip(rab["start"], rab["end"]) if s < end and e > start]
    assert sorted(zip(consensus["start"], consensus["end"])) == spans
    assert set(consensus["code"]) == {SWITCH_TO} and set(consensus["status"]) == {"accepted"}
    assert set(consensus["document"]) == {document}
    assert any(f"coded {name}, as {RAB} coded it" in displayed(s.value) for s in at.success)
    keys = {b.key for b in disagreement_buttons(at, "keep_b")}
    assert f"keep_b-{document}-{start}-{end}" not in keys
    left = [r for r in differ.itertuples() if not (r.document == document and any(
        overlaps(r.start, r.end, s, e) for s, e in spans))]
    assert len(keys) == 20 and f"{len(left)} disagreements left" in texts(at)

    row = left[0]  # "neither": a rejected consensus coding of the unit says "not this code"
    key = f"neither-{row.document}-{int(row.start)}-{int(row.end)}"
    at = run(at.button(key=key).click())
    rejected = stored(db, ["rejected"]).query("coder == 'consensus'")
    assert rejected[["document", "start", "end", "code"]].values.tolist() == [
        [row.document, int(row.start), int(row.end), SWITCH_TO]]
    assert key not in {b.key for b in at.button}
    assert f"{len(left) - 1} disagreements left" in texts(at)
    assert any(f"not {name}, keeping neither coding" in displayed(s.value) for s in at.success)


def coded_on_page(at):
    """The codes of the codings (not suggestions) the Transcript page's workbench draws."""
    return {coding[4] for coding in workbench(at)["codings"] if coding[6] != "suggested"}


def test_blind_coding_hides_other_coders_on_transcript_themes_and_agreement(db, team_db):
    _, documents, left_out = team_db
    at = open_app("Transcript", coder=RAB, doc=documents[0])
    assert left_out in coded_on_page(at)  # only Aileen used it here
    at = run(at.sidebar.toggle(key="blind").set_value(True))
    assert at.query_params["blind"] == "1"  # a reload keeps it
    assert left_out not in coded_on_page(at)
    frame = stored(db)
    rab = frame[frame["coder"] == RAB]
    mine = rab[rab["document"] == documents[0]]
    assert coded_on_page(at) == set(mine["code"])  # Rab's own codes are still there
    assert f"{len(mine)} of your codings" in texts(at)

    at = open_app("Transcript", coder=RAB, doc=documents[0], blind="1")  # from the address
    assert at.sidebar.toggle(key="blind").value and left_out not in coded_on_page(at)

    at = open_app("Themes", coder=RAB, blind="1")
    assert at.dataframe[0].value.to_numpy().sum() == len(rab)  # code x case counts
    assert f"{len(rab)} quotes" in texts(at)
    at = run(at.sidebar.toggle(key="blind").set_value(False))
    assert f"{len(frame)} quotes" in texts(at) and "blind" not in at.query_params

    at = open_app("Agreement", coder=RAB, blind="1")
    assert any("Blind coding is on" in displayed(i.value) for i in at.info)
    assert not at.multiselect and not at.dataframe and not disagreement_buttons(at, "keep_b")


def test_reliability_of_a_parents_children_with_the_methods_paragraph(db):
    with coding.open_project(db) as project:
        codebook = project.codebook()
    parents = [c.id for c in codebook.walk() if len(codebook.children(c.id)) >= 2]
    at = open_app("Agreement")
    assert at.radio(key="rel_source").value == "parent"
    assert at.selectbox(key="rel_parent").options[:1] == [
        codebook.get(parents[0]).name]  # options show names
    at = run(at.multiselect(key="rel_coders").set_value([AILEEN, RAB]))
    at = run(at.number_input(key="rel_bootstrap").set_value(1000))
    with coding.open_project(db) as project:
        expected = project.category_reliability(parents[0], [AILEEN, RAB], bootstrap=1000,
                                                seed=1)
    table = next(d.value for d in at.dataframe if "statistic" in d.value.columns)
    assert table["statistic"].tolist() == [r.name for r in expected.results]
    assert table["value"].fillna(-9).tolist() == pytest.approx(
        [r.value for r in expected.results])
    alpha = expected.results[0].bootstrap
    assert table.loc[0, ["ci_low", "ci_high"]].tolist() == pytest.approx([alpha.low, alpha.high])
    paragraph = "Two coders (Aileen Murray and Rab) independently coded"
    assert paragraph in texts(at) and "1,000 bootstrap samples" in texts(at)
    for warning in expected.warnings:
        assert any(warning in displayed(w.value) for w in at.warning)
    labels = [b.proto.label for b in at.get("download_button")]
    assert [label for label in labels if "reliability" in label] == [
        f"Download reliability.{fmt}" for fmt in ("xlsx", "docx", "md", "json")]


def test_reliability_of_an_uploaded_rating_table(db):
    csv = ("observer,1,2,3,4,5,6,7,8,9,10,11,12\nA,1,2,3,3,2,1,4,1,2,,,\n"
           "B,1,2,3,3,2,2,4,1,2,5,,3\nC,,3,3,3,2,3,4,2,2,5,1,\nD,1,2,3,3,2,4,4,1,2,5,1,\n")
    at = open_app("Agreement")
    at = run(at.radio(key="rel_source").set_value("table"))
    at = run(at.selectbox(key="rel_coders_in").set_value("rows"))
    at = run(at.selectbox(key="rel_table_level").set_value("interval"))
    at = run(at.file_uploader(key="rel_upload").set_value(
        [("krippendorff.csv", csv.encode(), "text/csv")]))
    table = next(d.value for d in at.dataframe if "statistic" in d.value.columns)
    assert round(table.loc[0, "value"], 3) == 0.849  # Krippendorff (2011), interval
    assert "the 12 units of krippendorff.csv" in texts(at)
    at = run(at.text_input(key="rel_order").set_value("low,high"))
    assert [displayed(e.value) for e in at.error] == [
        "krippendorff.csv: ratings not in the order (low, high): '1', '2', '3', '4', '5'"]
