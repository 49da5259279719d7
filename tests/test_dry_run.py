"""Imports cannot be undone, so they can be previewed: `coding import --dry-run` and the
app's Preview show what an import would add and skip, and store nothing (issue 15, item 12)."""

import hashlib

import pytest
from streamlit.testing.v1 import AppTest

import coding
from coding import StoreError
from coding.interchange import refi, transfer

from conftest import CODEBOOK, ROOT, SAMPLES


@pytest.fixture(scope="module")
def qdpx(tmp_path_factory):
    """The sample study (transcripts, cases, codebook, gold codings) as a REFI-QDA project."""
    folder = tmp_path_factory.mktemp("qdpx")
    with coding.init_project(folder / "source.db", coder="setup") as project:
        project.import_codebook(CODEBOOK)
        project.ingest([SAMPLES / "transcripts"], cases=SAMPLES / "participants.csv")
        project.import_codings(SAMPLES / "gold_codings.csv")
        refi.export_qdpx(project, folder / "study.qdpx")
        codings = len(project.codings_frame())
    return folder / "study.qdpx", codings


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cli_dry_run_reports_and_stores_nothing(qdpx, tmp_path, run):
    path, codings = qdpx
    project = tmp_path / "empty.db"
    coding.init_project(project).close()
    before = digest(project)
    result = run("import", project, path, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Dry run, nothing stored: {path}: 12 documents, 22 codes, "
                               f"{codings} codings")
    assert lines[1].startswith("would add 12 documents: p01_community_link_worker.docx, ")
    assert f"would add {codings} codings: {codings} by Aileen Murray" in lines
    assert digest(project) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]  # not even a backup
    result = run("import", project, path)
    assert result.exit_code == 0 and digest(project) != before
    with coding.open_project(project) as opened:
        assert len(opened.codings_frame()) == codings


def test_a_dry_run_of_a_bad_file_says_why_and_stores_nothing(tmp_path, run):
    project = tmp_path / "p.db"
    with coding.init_project(project) as opened:
        opened.import_codebook(CODEBOOK)
    bad = tmp_path / "codings.csv"
    bad.write_text("document,code,coder,quote\nnope.txt,relationships,Eve,x\n")
    before = digest(project)
    result = run("import", project, bad, "--dry-run")
    assert result.exit_code == 1
    assert result.output == (f"Error: 1 of 1 rows cannot be applied; nothing was imported:\n"
                             f"{bad}:2: no document 'nope.txt' in the project\n")
    assert digest(project) == before


def test_a_dry_run_needs_a_sqlite_project(postgres_url, qdpx):
    with coding.init_project(postgres_url) as project:
        with pytest.raises(StoreError, match="a dry run copies the project, which only works "
                                             "for a SQLite file"):
            transfer.preview_import(project, qdpx[0])


def test_the_app_previews_an_import_then_imports(qdpx, tmp_path, monkeypatch):
    path, codings = qdpx
    project = tmp_path / "app.db"
    coding.init_project(project).close()
    monkeypatch.setenv("CODING_PROJECT", str(project))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["coder"] = "Ann"
    at.query_params["page"] = "Documents"
    at.run()
    at.file_uploader(key="import_file").set_value(
        [("study.qdpx", path.read_bytes(), "application/zip")]).run()
    before = digest(project)
    at.button(key="import_preview").click().run()
    assert not at.exception
    shown = [m.value.replace("\\", "").replace("\u2060", "") for m in at.info]
    assert shown[0].startswith("Dry run, nothing stored: study.qdpx: 12 documents")
    assert f"would add {codings} codings: {codings} by Aileen Murray" in shown
    assert digest(project) == before
    at.button(key="import_apply").click().run()
    assert not at.exception
    with coding.open_project(project) as opened:
        assert len(opened.codings_frame()) == codings
