"""Editing the codebook through the project: each edit is a new version, merges move codings."""

import pytest

from coding import CodebookError

from conftest import CODEBOOK


@pytest.fixture
def book_project(coded_project, tmp_path):
    (tmp_path / "t.txt").write_text("Interviewer: Hi.\nAnn: We built trust with the council. "
                                    "Staff grew in confidence.\n")
    coded_project.ingest([tmp_path / "t.txt"])
    return coded_project


def test_add_update_move_codes_store_new_versions(book_project):
    project = book_project
    versions = len(project.events().query("action == 'import_codebook'"))
    added = project.add_code("peer_support", "Peer support", parent="people_skills",
                             definition="People helping each other.")
    assert added.parent == "people_skills"
    project.update_code("peer_support", name="Peer support and mentoring",
                        examples="One helps another\n\n  Buddying  ", colour="#abcdef")
    code = project.codebook().get("peer_support")
    assert (code.name, code.examples, code.colour) == (
        "Peer support and mentoring", ("One helps another", "Buddying"), "#abcdef")
    project.move_code("peer_support", None)
    assert project.codebook().get("peer_support").parent is None
    assert project.codebook().path("peer_support") == "peer_support"
    assert len(project.events().query("action == 'import_codebook'")) == versions + 3
    assert project.events()["action"].tolist()[-1] == "move_code"


def test_bad_edits_are_refused_with_a_clear_message(book_project):
    project = book_project
    before = project.codebook()
    with pytest.raises(CodebookError, match="already a code with id 'person_centred'"):
        project.add_code("person_centred", "Again")
    with pytest.raises(CodebookError, match="parent 'nope' is not a code"):
        project.add_code("x", "X", parent="nope")
    with pytest.raises(CodebookError, match="is inside 'asset_features'"):
        project.move_code("asset_features", "person_centred")  # a cycle
    with pytest.raises(CodebookError, match="cannot edit id"):
        project.update_code("person_centred", id="other")
    with pytest.raises(CodebookError, match="no code 'ghost'"):
        project.merge_codes("ghost", "person_centred")
    assert project.codebook() == before  # nothing changed


def test_merge_moves_codings_drops_exact_duplicates_and_retires_the_source(book_project):
    project = book_project
    text = project.document_text("t.txt")
    start = text.index("We built")
    end = text.index("council.") + len("council.")
    project.add_coding("t.txt", "relationships", start, end)
    project.add_coding("t.txt", "community_connections", start, end)  # duplicate after merge
    project.add_coding("t.txt", "community_connections", start, start + 8)
    moved = project.merge_codes("community_connections", "relationships")
    assert moved == 1
    frame = project.codings_frame()
    assert frame["code"].tolist() == ["relationships", "relationships"]
    assert project.codebook().get("community_connections") is None
    event = project.events().iloc[-1]
    assert event["action"] == "merge_codes" and event["detail"]["duplicates_dropped"] == 1


def test_exported_codebook_after_edits_loads_back(book_project, tmp_path):
    from coding.readers.codebooks import load_codebook

    book_project.add_code("new_theme", "A new theme")
    book_project.export_codebook(tmp_path / "out.yaml")
    loaded = load_codebook(tmp_path / "out.yaml")
    assert loaded.get("new_theme").name == "A new theme"
    assert len(loaded.codes) == len(load_codebook(CODEBOOK).codes) + 1
