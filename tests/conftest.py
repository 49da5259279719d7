"""Shared fixtures: real files written to tmp_path, real SQLite projects, the shared samples."""

import os
import uuid
from pathlib import Path

import pytest

import coding

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data_samples"
CODEBOOK = ROOT / "codebooks" / "gcph_asset_based.yaml"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def shared():
    """../shared (real files from other tools): skipped in a user's clone, required in CI."""
    if not SHARED.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED} is missing in CI")
        pytest.skip("../shared is not present (a user's clone)")
    return SHARED


@pytest.fixture
def postgres_url():
    """A new, empty PostgreSQL database for one test, dropped afterwards: made through the
    server that $CODING_TEST_POSTGRES (a SQLAlchemy URL whose role may create databases) names.
    Skipped when that is not set, except in CI, where .ci/run starts a server and sets it."""
    server = os.environ.get("CODING_TEST_POSTGRES") or os.environ.get("CODING_TEST_PG_URL")
    if not server:
        if os.environ.get("CI") == "true":
            pytest.fail("CODING_TEST_POSTGRES is not set in CI (.ci/run sets it)")
        pytest.skip("CODING_TEST_POSTGRES is not set (a PostgreSQL server URL)")
    from sqlalchemy import create_engine, make_url

    name = f"coding_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def run(tmp_path, monkeypatch):
    """`coding ...` in-process, in tmp_path, as coder "cli-tester": run("summary", db)."""
    from click.testing import CliRunner

    from coding.cli import main

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, ["--coder", "cli-tester", *map(str, args)])

    return invoke


@pytest.fixture
def project(tmp_path):
    with coding.init_project(tmp_path / "study.db", coder="tester") as opened:
        yield opened


@pytest.fixture
def coded_project(project):
    project.import_codebook(CODEBOOK)
    return project


# A two-case study whose matrices are worked out by hand in test_analysis and test_exports.
ANN = ("Interviewer: Hi.\nAnn: one two three. four five.\nInterviewer: More?\n"
       "Ann: six seven eight nine.\n")
BO = "Interviewer: Hi.\nBo: ten eleven.\n"
BOOK = """
codes:
  - id: a
    name: Alpha
  - id: b
    name: Beta
"""


@pytest.fixture
def two_cases(project, tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "people.csv").write_text("case,group\nann,staff\nbo,service user\n")
    (tmp_path / "ann.txt").write_text(ANN)
    (tmp_path / "bo.txt").write_text(BO)
    project.import_codebook(tmp_path / "book.yaml")
    project.ingest([tmp_path / "ann.txt", tmp_path / "bo.txt"], cases=tmp_path / "people.csv")

    def code(document, code_id, quote, status="manual"):
        text = project.document_text(document)
        start = text.index(quote)
        project.add_coding(document, code_id, start, start + len(quote), status=status)

    code("ann.txt", "a", "one two three.")
    code("ann.txt", "a", "two three. four five.")
    code("ann.txt", "b", "four five.")
    code("ann.txt", "b", "six seven eight nine.")
    code("bo.txt", "a", "ten eleven.")
    code("bo.txt", "b", "ten eleven.", status="suggested")  # not counted by default
    return project
