"""Shared fixtures: real files written to tmp_path, real SQLite projects, the shared samples."""

import os
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
def project(tmp_path):
    with coding.init_project(tmp_path / "study.db", coder="tester") as opened:
        yield opened


@pytest.fixture
def coded_project(project):
    project.import_codebook(CODEBOOK)
    return project
