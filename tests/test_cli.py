"""The command line, in-process with CliRunner: exit codes and exact messages."""

from conftest import CODEBOOK


def test_init_ingest_summary(run, tmp_path):
    (tmp_path / "p01.txt").write_text("Interviewer: What helped?\nAnn: The group.\n")
    assert run("init", "s.db").output == "Created project s.db\n"
    result = run("ingest", "s.db", "p01.txt")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "added      p01.txt  (case p01, 2 turns, 4 words)",
        "1 added, 0 already in the project, 0 failed"]
    again = run("ingest", "s.db", "p01.txt")
    assert again.output.splitlines()[0] == "unchanged  p01.txt  (same content as p01.txt)"
    summary = run("summary", "s.db").output
    assert "documents  1  (4 words, 2 turns: 1 interviewer, 1 participant)" in summary


def test_bad_file_exits_1_with_one_message_and_no_traceback(run, tmp_path):
    run("init", "s.db")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    result = run("ingest", "s.db", "broken.docx")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.splitlines()[-1].startswith(
        "broken.docx: is not a readable .docx (damaged or truncated zip")
    assert run("summary", "s.db").output.count("documents  0") == 1


def test_codebook_validate_reports_lines(run, tmp_path):
    ok = run("codebook", "validate", CODEBOOK)
    assert ok.exit_code == 0 and ok.output == f"{CODEBOOK}: OK, 22 codes (8 top-level)\n"
    (tmp_path / "bad.yaml").write_text("codes:\n  - id: a\n    name: A\n    parent: b\n")
    result = run("codebook", "validate", "bad.yaml")
    assert result.exit_code == 1
    assert result.output == "Error: bad.yaml:2: code 'a' has parent 'b', which is not defined\n"


def test_codebook_import_export_and_codings(run, tmp_path):
    (tmp_path / "p01.txt").write_text("Interviewer: What helped?\nAnn: I trust the group.\n")
    run("init", "s.db")
    assert run("codebook", "import", "s.db", CODEBOOK).output.startswith(
        "Imported codebook 'GCPH asset-based approaches in health and care': 22 codes")
    run("ingest", "s.db", "p01.txt")
    (tmp_path / "c.csv").write_text("document,code,coder,quote\np01.txt,relationships,Al,I trust\n")
    assert run("import-codings", "s.db", "c.csv").output == "1 codings imported, 0 already present\n"
    assert run("codebook", "export", "s.db", "-o", "out.yaml").exit_code == 0
    assert (tmp_path / "out.yaml").read_text().startswith("codebook:\n  id: gcph_asset_based\n")


def test_unknown_project_and_bad_role_option(run):
    result = run("summary", "missing.db")
    assert result.exit_code == 1
    assert result.output == "Error: missing.db: does not exist; create it with `coding init`\n"
    run("init", "s.db")
    bad = run("settings", "s.db", "--role", "Researcher")
    assert bad.exit_code == 2 and "expected LABEL=ROLE" in bad.output
    good = run("settings", "s.db", "--role", "Researcher=interviewer")
    assert "roles: {'Researcher': 'interviewer'}" in good.output


def test_missing_case_column_exits_1(run, tmp_path):
    run("init", "s.db")
    (tmp_path / "p01.txt").write_text("Interviewer: What helped?\nAnn: The group.\n")
    (tmp_path / "people.csv").write_text("name,role\nAnn,staff\n")
    result = run("ingest", "s.db", "p01.txt", "--cases", "people.csv")
    assert result.exit_code == 1
    assert result.output.startswith("Error: people.csv:1: has no case id column")


def test_demo_builds_the_sample_study_and_is_safe_to_rerun(run, tmp_path):
    first = run("demo", "sample.db")
    assert first.exit_code == 0, first.output
    assert "12 added, 0 already in the project, 0 failed" in first.stdout
    assert "  documents  12  (" in first.stdout and "  cases      12  (" in first.stdout
    assert "  codes      22  (1 codebook versions)" in first.stdout
    again = run("demo", "sample.db")
    assert "0 added, 12 already in the project, 0 failed" in again.stdout
    assert "gold codings: 0 imported" in again.stdout
    assert "(unchanged)" in again.stdout
    assert ("6. batch-coded with rules, the model and the semantic suggester on 2 workers: 0 "
            "new suggestions") in again.stdout
    queued = int(first.stdout.split("on 2 workers: ")[1].split()[0])
    assert queued > 100 and f"{queued} suggested" in first.stdout
