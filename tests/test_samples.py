"""The bundled sample study: every transcript ingests with its quirks; gold codings load."""

import csv

import pytest

import coding
from conftest import CODEBOOK, SAMPLES

TRANSCRIPTS = SAMPLES / "transcripts"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "study.db"
    with coding.init_project(path, coder="tester") as project:
        project.import_codebook(CODEBOOK)
        results = project.ingest([TRANSCRIPTS], cases=SAMPLES / "participants.csv")
        project.import_codings(SAMPLES / "gold_codings.csv")
        yield project, results


def test_every_sample_transcript_ingests_into_its_case(study):
    project, results = study
    assert [r.status for r in results] == ["added"] * 12
    assert [(r.document[:3], r.case) for r in results] == [
        (f"p{n:02d}", f"P{n:02d}") for n in range(1, 13)]
    for result in results:
        assert 1500 <= result.words <= 4000, result


@pytest.mark.parametrize("name, interviewer, participant", [
    ("p01_community_link_worker.docx", "Interviewer", "Morag"),
    ("p02_service_manager.txt", "INT", "R"),
    ("p03_walking_group_member.vtt", "Interviewer", "Jean"),
    ("p04_practice_nurse.txt", "I", "P"),
    ("p05_unpaid_carer.docx", "Interviewer", "Isobel"),
    ("p06_peer_support_volunteer.md", "Interviewer", "Davie"),
    ("p07_health_improvement_lead.docx", "Q", "A"),
    ("p08_recovery_cafe_member.txt", "Interviewer", "Stevie"),
    ("p09_housing_support_officer.vtt", "Facilitator", "Lorraine"),
    ("p10_family_centre_parent.docx", "Interviewer", "Kirsty"),
    ("p11_third_sector_director.txt", "Interviewer", "Fiona Reid"),
    ("p12_community_nurse.srt", "Interviewer", "Tom"),
])
def test_sample_speakers_and_roles(study, name, interviewer, participant):
    turns = study[0].turns(name)
    assert set(zip(turns["speaker"], turns["role"])) == {(interviewer, "interviewer"),
                                                         (participant, "participant")}
    assert turns["speaker"].iloc[0] == interviewer
    # no turn text starts with a label or carries a timestamp
    assert not turns["text"].str.match(rf"^(\[\d|{interviewer}:|{participant}:|\*\*)").any()


def test_sample_quirks_are_handled(study):
    project = study[0]
    cp1252 = project.document_text("p04_practice_nurse.txt")
    assert "\u00a3" in cp1252 and "caf\u00e9" in cp1252 and "\u2019" in cp1252
    p04 = project.turns("p04_practice_nurse.txt")
    assert p04["time_start"].notna().all() and p04["time_start"].is_monotonic_increasing
    for name in ("p03_walking_group_member.vtt", "p09_housing_support_officer.vtt",
                 "p12_community_nurse.srt"):
        turns = project.turns(name)
        assert (turns["time_end"] > turns["time_start"]).all(), name
        assert turns["time_start"].is_monotonic_increasing, name
        assert not turns["text"].str.contains("<v |-->|</v>").any(), name
    p01 = project.document_text("p01_community_link_worker.docx")
    assert " | " in p01  # tables become "cell | cell" lines
    for name in ("p02_service_manager.txt", "p08_recovery_cafe_member.txt"):
        text = project.document_text(name)
        assert "\r" not in text and "\ufeff" not in text


def test_case_attributes_come_from_the_sheet(study):
    cases = study[0].cases().set_index("case")
    assert cases.loc["P02", "role"] == "manager"
    assert cases.loc["P02", "years_in_post"] == 14
    assert cases.loc["P03", "service"] == "Community walking group"


def test_gold_codings_load_as_manual_codings_on_participant_turns(study):
    project = study[0]
    with open(SAMPLES / "gold_codings.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    frame = project.codings_frame()
    assert len(frame) == len(rows) >= 4 * 35
    assert frame["document"].nunique() >= 4
    assert set(frame["status"]) == {"manual"} and set(frame["coder"]) == {"Aileen Murray"}
    assert set(frame["role"]) == {"participant"}
    assert set(frame["case_role"]) == {"staff", "service user"}
    codebook_ids = {code.id for code in coding.load_codebook(CODEBOOK).codes}
    assert set(frame["code"]) <= codebook_ids
    # each stored quote is the gold quote, read back through its offsets
    expected = sorted((r["document"], r["code"], " ".join(r["quote"].split())) for r in rows)
    stored = sorted(zip(frame["document"], frame["code"], frame["quote"].map(
        lambda q: " ".join(q.split()))))
    assert stored == expected
