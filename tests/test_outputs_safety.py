"""Issue 13: what the package writes and prints is safe. Output files never replace a device,
a FIFO or a symbolic link; csv cells never run as formulas and Markdown never renders data as
HTML or links; database passwords, Rich markup in data and lone surrogates in codebooks are
handled; the app listens on loopback; ingest never reads a device or a FIFO; Dask runs over
TLS. Real files in tmp_path, the CLI in-process, exact output."""

import csv
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import coding
from coding.interchange import exports
from coding.errors import CodingError, redact_url
from coding.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class FifoWatch:
    """Opens a FIFO for writing whenever someone opens it for reading (so a reader never
    hangs, it reads nothing) and records that it happened."""

    def __init__(self, path):
        self.path, self.read, self._stop = path, False, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody is reading; ENOENT: replaced or removed
                time.sleep(0.01)
                continue
            self.read = True
            os.close(descriptor)

    def stop(self):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    watch = FifoWatch(path)
    yield path, watch
    watch.stop()


@pytest.fixture
def exported(run, tmp_path):
    """A small coded project (a code is named like a formula) to export from the CLI."""
    (tmp_path / "book.yaml").write_text('codes:\n  - id: a\n    name: "=1+1"\n'
                                        '    keywords: [trust]\n')
    (tmp_path / "ann.txt").write_text("Interviewer: Hi.\nAnn: I trust them.\n")
    (tmp_path / "bo.txt").write_text("Interviewer: Hi.\nBo: We trust the group.\n")
    (tmp_path / "people.csv").write_text("case,group\nann,staff\nbo,staff\n")
    with coding.init_project(tmp_path / "s.db", coder="tester") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt", tmp_path / "bo.txt"], cases=tmp_path / "people.csv")
        for document, quote in (("ann.txt", "I trust them."), ("bo.txt", "We trust the group.")):
            start = project.document_text(document).index(quote)
            project.add_coding(document, "a", start, start + len(quote))
        project.add_coding("bo.txt", "a", start, start + 2, coder="rab")  # a second coder
    return "s.db"


# == 9: -o never replaces a device, a FIFO or a symbolic link ===================================

def test_output_through_a_symlink_updates_its_target_and_keeps_the_link(run, tmp_path,
                                                                         exported):
    (tmp_path / "papers").mkdir()
    target = tmp_path / "papers" / "codes.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    (tmp_path / "latest.csv").symlink_to("papers/codes.csv")
    result = run("export", exported, "code-by-case", "-o", "latest.csv")
    assert result.exit_code == 0, result.output
    assert result.output == "code-by-case (1 rows) written to latest.csv as csv\n"
    assert (tmp_path / "latest.csv").is_symlink()
    assert os.readlink(tmp_path / "latest.csv") == "papers/codes.csv"
    assert target.read_text() == "code,ann,bo\n'=1+1,1,2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the file keeps its permissions
    assert sorted(p.name for p in (tmp_path / "papers").iterdir()) == ["codes.csv"]


def test_output_to_a_fifo_is_refused_without_opening_it(run, tmp_path, exported, fifo):
    path, watch = fifo
    result = run("export", exported, "codings", "-o", path.name)
    assert result.exit_code == 1
    assert result.output == ("Error: pipe.csv: is a named pipe (FIFO), not a regular file; "
                             "nothing was written (choose another file name)\n")
    assert stat.S_ISFIFO(os.lstat(path).st_mode) and not watch.read


def test_output_to_a_device_or_a_link_to_one_is_refused(run, tmp_path, exported):
    (tmp_path / "null.csv").symlink_to("/dev/null")
    result = run("export", exported, "codings", "-o", "null.csv")
    assert result.exit_code == 1
    assert result.output == ("Error: null.csv: is a link to /dev/null, which is a character "
                             "device, not a regular file; nothing was written (choose another "
                             "file name)\n")
    assert os.readlink(tmp_path / "null.csv") == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if not IS_ROOT:
        pytest.skip("making a device node (the rest of this test) needs root")
    os.mknod(tmp_path / "dev.csv", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # another /dev/null
    result = run("export", exported, "codings", "--format", "csv", "-o", "dev.csv")
    assert result.output == ("Error: dev.csv: is a character device, not a regular file; "
                             "nothing was written (choose another file name)\n")
    assert stat.S_ISCHR(os.lstat(tmp_path / "dev.csv").st_mode)


def test_every_writer_refuses_a_fifo(run, tmp_path, exported, fifo):
    path, watch = fifo
    for args in (("export", exported, "report", "-o", path.name, "--format", "docx"),
                 ("export", exported, "qdpx", "-o", path.name),
                 ("codebook", "export", exported, "-o", path.name),
                 ("agreement", exported, "--coders", "tester", "rab", "-o", path.name)):
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.output.endswith("Error: pipe.csv: is a named pipe (FIFO), not a regular "
                                      "file; nothing was written (choose another file name)\n")
    with pytest.raises(CodingError, match="is a named pipe"):
        write_atomic(path, "text")
    assert stat.S_ISFIFO(os.lstat(path).st_mode) and not watch.read


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write in, and the reason the system gives. As root, permissions do
    not stop writing, so a read-only tmpfs is mounted there (the mount is undone afterwards);
    otherwise the folder is made 0o555."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if not IS_ROOT:
        folder.chmod(0o555)
        yield folder, "permission denied"
        folder.chmod(0o755)
        return
    if not shutil.which("mount") or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
            capture_output=True).returncode:
        pytest.skip("cannot mount a read-only file system here")
    try:
        yield folder, "read-only file system"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_output_in_a_read_only_folder_is_one_message(run, exported, read_only_folder):
    folder, reason = read_only_folder
    result = run("export", exported, "codings", "-o", "ro/codings.csv")
    assert result.exit_code == 1
    assert result.output == f"Error: ro/codings.csv: cannot write in ro: {reason}\n"
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
    assert list(folder.iterdir()) == []
    result = run("evaluate", exported, "--coder", "tester", "--folds", "2", "-o",
                 "ro/evaluation.csv")
    assert result.output.endswith(f"Error: ro/evaluation.csv: cannot write in ro: {reason}\n")


def test_write_atomic_replaces_a_file_and_leaves_no_temporary(tmp_path):
    write_atomic(tmp_path / "a.txt", "one\u00e9")
    write_atomic(tmp_path / "a.txt", b"two")
    assert (tmp_path / "a.txt").read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(CodingError) as info:
        write_atomic(tmp_path / "missing" / "a.txt", "x")
    assert str(info.value) == (f"{tmp_path}/missing/a.txt: cannot write this file: the folder "
                               f"{tmp_path}/missing does not exist")


# == 12: csv cells never run as formulas; --raw and raw=True keep text as it is ===============

FORMULA_BOOK = '''codes:
  - id: link
    name: '=HYPERLINK("http://x","y")'
  - id: plain
    name: Plain
'''
VTT = ("WEBVTT\n\n00:00.000 --> 00:02.000\n<v Interviewer>Hi.\n\n"
       "00:02.000 --> 00:04.000\n<v @Ann>=1+1 is all.\n\n"
       "00:04.000 --> 00:06.000\n<v Interviewer>And?\n\n"
       "00:06.000 --> 00:08.000\n<v @Ann>-2 then +3, '@ once and '= twice.\n")


@pytest.fixture
def formulas(tmp_path):
    """Code names, speakers, coders, memos, quotes and attributes that start like formulas."""
    (tmp_path / "book.yaml").write_text(FORMULA_BOOK)
    (tmp_path / "ann.vtt").write_text(VTT)
    (tmp_path / "people.csv").write_text("case,place,change\nann,@home,-3\n")
    with coding.init_project(tmp_path / "s.db", coder="tester") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.vtt"], cases=tmp_path / "people.csv")
        text = project.document_text("ann.vtt")
        for code, quote, coder, memo in (
                ("link", "=1+1 is all.", "-me", "+check this"),
                ("plain", "-2 then +3", "@team", "=SUM(A1:A9)"),
                ("plain", "'@ once", "tester", "'=kept as typed"),
                ("plain", "'= twice.", "tester", "plain memo")):
            start = text.index(quote)
            coding_id = project.add_coding("ann.vtt", code, start, start + len(quote),
                                           coder=coder)
            project.add_memo(memo, "coding", coding_id)
        yield project


def csv_records(content):
    return list(csv.DictReader(io.StringIO(content, newline="")))


def test_csv_export_puts_an_apostrophe_before_formula_like_text(formulas, tmp_path, run):
    result = run("export", "s.db", "codings", "-o", "codings.csv")
    assert result.exit_code == 0, result.output
    rows = csv_records((tmp_path / "codings.csv").read_text())
    assert [(r["code_name"], r["speaker"], r["quote"], r["coder"], r["memo"], r["place"],
             r["change"]) for r in rows] == [
        ("'=HYPERLINK(\"http://x\",\"y\")", "'@Ann", "'=1+1 is all.", "'-me", "'+check this",
         "'@home", "-3"),
        ("Plain", "'@Ann", "'-2 then +3", "'@team", "'=SUM(A1:A9)", "'@home", "-3"),
        ("Plain", "'@Ann", "''@ once", "tester", "''=kept as typed", "'@home", "-3"),
        ("Plain", "'@Ann", "''= twice.", "tester", "plain memo", "'@home", "-3")]
    assert rows[0]["start"].isdigit()  # numbers stay numbers, -3 too
    matrix = run("export", "s.db", "code-by-case", "-o", "matrix.csv")
    assert matrix.exit_code == 0
    assert (tmp_path / "matrix.csv").read_text() == (
        "code,ann\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1\nPlain,3\n")


def test_csv_export_raw_writes_text_untouched(formulas, tmp_path, run):
    result = run("export", "s.db", "codings", "--raw", "-o", "raw.csv")
    assert result.exit_code == 0, result.output
    rows = csv_records((tmp_path / "raw.csv").read_text())
    assert [(r["code_name"], r["quote"], r["coder"], r["memo"], r["place"]) for r in rows] == [
        ('=HYPERLINK("http://x","y")', "=1+1 is all.", "-me", "+check this", "@home"),
        ("Plain", "-2 then +3", "@team", "=SUM(A1:A9)", "@home"),
        ("Plain", "'@ once", "tester", "'=kept as typed", "@home"),
        ("Plain", "'= twice.", "tester", "plain memo", "@home")]
    tables = exports.tables(formulas, "codings")
    assert exports.to_bytes(tables, "csv", raw=True) == (tmp_path / "raw.csv").read_bytes()
    assert exports.to_bytes(tables, "csv") == exports.to_csv(tables["Codings"]).encode("utf-8")
    assert csv_records(exports.to_csv(tables["Codings"]))[0]["quote"] == "'=1+1 is all."
    assert csv_records(exports.to_csv(tables["Codings"], raw=True))[0]["quote"] == "=1+1 is all."


def test_csv_codings_export_imports_back_exactly(formulas, tmp_path, run):
    assert run("export", "s.db", "codings", "-o", "codings.csv").exit_code == 0
    assert run("init", "copy.db").exit_code == 0
    assert run("codebook", "import", "copy.db", "book.yaml").exit_code == 0
    assert run("ingest", "copy.db", "ann.vtt").exit_code == 0
    result = run("import-codings", "copy.db", "codings.csv")
    assert result.output == "4 codings imported, 0 already present\n"

    def codings(project):
        frame = project.codings_frame()
        memos = exports.coding_memos(project)
        return sorted((row.code, row.start, row.end, row.coder, row.quote,
                       memos.get(row.coding_id)) for row in frame.itertuples())

    with coding.open_project(tmp_path / "copy.db") as copy:
        assert codings(copy) == codings(formulas)
        assert sorted(memo for *_, memo in codings(copy)) == [
            "'=kept as typed", "+check this", "=SUM(A1:A9)", "plain memo"]


# == 13: Markdown exports show data as text ==================================================

def test_markdown_export_escapes_html_links_and_pipes(tmp_path, run):
    (tmp_path / "book.yaml").write_text(
        "codes:\n  - id: img\n    name: <img src=x onerror=alert(1)>\n"
        "  - id: link\n    name: '![a](http://x/p.png) and [a](http://x)'\n"
        "  - id: plain\n    name: 'a | b, *c*, _d_, `e`, ~f~, $g$, &amp; \\h'\n")
    (tmp_path / "ann.txt").write_text("Interviewer: Hi.\nAnn: One. Two. Three.\n")
    (tmp_path / "people.csv").write_text("case,file\nann|<b>x</b>,ann.txt\n")
    with coding.init_project(tmp_path / "s.db", coder="tester") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "ann.txt"], cases=tmp_path / "people.csv")
        text = project.document_text("ann.txt")
        for code, quote in (("img", "One."), ("link", "Two."), ("plain", "Three.")):
            start = text.index(quote)
            project.add_coding("ann.txt", code, start, start + len(quote))
    result = run("export", "s.db", "code-by-case", "-o", "m.md")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.md").read_text() == (
        "| code | ann\\|\\<b\\>x\\</b\\> |\n"
        "| --- | ---: |\n"
        "| \\<img src=x onerror=alert\\(1\\)\\> | 1 |\n"
        "| \\!\\[a\\]\\(http://x/p.png\\) and \\[a\\]\\(http://x\\) | 1 |\n"
        "| a \\| b, \\*c\\*, \\_d\\_, \\`e\\`, \\~f\\~, \\$g\\$, \\&amp; \\\\h | 1 |\n")
    # Rendered as CommonMark with raw HTML allowed and GitHub's tables, every cell is its text
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(
        (tmp_path / "m.md").read_text())
    assert "<img" not in html and "<a " not in html and "<b>" not in html and "<em>" not in html
    assert "<td>![a](http://x/p.png) and [a](http://x)</td>" in html
    assert "<td>a | b, *c*, _d_, `e`, ~f~, $g$, &amp;amp; \\h</td>" in html


# == 14: database passwords are never shown ==================================================

UNREACHABLE = "postgresql+psycopg://user:s3cret@127.0.0.1:1/x"


def test_init_and_summary_never_show_a_database_password(run):
    for command in ("init", "summary", "documents", "app"):
        result = run(command, UNREACHABLE)
        assert result.exit_code == 1, command
        assert "s3cret" not in result.output
        assert result.output.startswith("Error: postgresql+psycopg://user:***@127.0.0.1:1/x: ")
    result = run("summary", "postgresql+psycopg://127.0.0.1:1/x?user=u&password=s3cret")
    assert result.output.startswith(
        "Error: postgresql+psycopg://127.0.0.1:1/x?user=u&password=***: ")
    result = run("init", "postgresql+nodriver://u:s3cret@db.example.org/x")
    assert result.output == ("Error: postgresql+nodriver://u:***@db.example.org/x: cannot use "
                             "this database URL: Can't load plugin: "
                             "sqlalchemy.dialects:postgresql.nodriver\n")


def test_redact_url_hides_passwords_as_sqlalchemy_does():
    from sqlalchemy.engine import make_url

    for url in ("postgresql+psycopg://ann:s3cret@db.example.org:5432/study",
                "postgresql://ann:p%40ss@db/study?sslmode=require", "mysql://root:x@localhost/db"):
        assert redact_url(url) == make_url(url).render_as_string(hide_password=True)
    for unchanged in ("study.db", "sqlite:////tmp/study.db", "postgresql://ann@db/study",
                      "postgresql://db:5432/study", "a: b"):
        assert redact_url(unchanged) == unchanged
    # a password with an unescaped "@", which make_url would cut, is hidden whole
    assert redact_url("x postgresql://ann:p@ss@db/s y") == "x postgresql://ann:***@db/s y"
    error = CodingError("refused by postgresql://ann:s3cret@db/s", path=UNREACHABLE, line=3)
    assert str(error) == ("postgresql+psycopg://user:***@127.0.0.1:1/x:3: refused by "
                          "postgresql://ann:***@db/s")


def test_init_and_summary_on_postgresql_show_the_url_without_its_password(run, postgres_url):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    if not url.password:
        pytest.skip("the test server's URL has no password to hide")
    shown = url.render_as_string(hide_password=True)
    assert run("init", postgres_url).output == f"Created project {shown}\n"
    summary = run("summary", postgres_url).output
    assert summary.startswith(f"Project {url.database}  ({shown})\n")
    assert f":{url.password}@" not in summary


# == 20: data is printed as text, never as Rich markup ========================================

def test_cli_prints_brackets_in_data_as_they_are(run, tmp_path):
    (tmp_path / "book.yaml").write_text(
        "codebook:\n  name: '[draft] book :smile:'\ncodes:\n"
        "  - id: draft\n    name: '[draft]'\n    keywords: [laughs]\n")
    (tmp_path / "[x].txt").write_text("Interviewer: Hi [bold]x[/bold].\n"
                                      "Ann: I [/] I laughs [laughs].\n")
    assert run("init", "s.db").exit_code == 0
    assert run("codebook", "import", "s.db", "book.yaml").output == (
        "Imported codebook '[draft] book :smile:': 1 codes\n")
    assert run("ingest", "s.db", "[x].txt").output == (
        "added      [x].txt  (case [x], 2 turns, 6 words)\n"
        "1 added, 0 already in the project, 0 failed\n")
    assert run("suggest", "s.db", "--rules").exit_code == 0
    review = run("review", "s.db")
    assert review.exit_code == 0, review.output
    assert review.output == (
        "1 pending suggestions (showing 1, by uncertainty)\n"
        "┏━━━━┳━━━━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
        "┃ id ┃ document ┃ code  ┃ score ┃ precision     ┃ quote        ┃ why           ┃\n"
        "┡━━━━╇━━━━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
        "│ 1  │ [x].txt  │ draft │ 0.45  │ too few       │ I [/] I      │ keywords:     │\n"
        "│    │          │       │       │ reviewed (0)  │ laughs       │ \"laughs\"      │\n"
        "│    │          │       │       │               │ [laughs].    │               │\n"
        "└────┴──────────┴───────┴───────┴───────────────┴──────────────┴───────────────┘\n")
    gated = run("review", "s.db", "--accept", "all")  # the gate refuses, naming the code
    assert gated.stdout == "accepted 0 suggestions\n" and gated.stderr.startswith(
        "draft: not accepted: no reviewed suggestions of 'draft' score 0 to 0.45")
    assert run("review", "s.db", "--accept", "all", "--force").stdout == \
        "accepted 1 suggestions\n"
    assert run("documents", "s.db").output.splitlines()[3] == (
        "│ [x].txt  │ txt    │ [x]  │ 6     │ 2     │ 1       │")
    summary = run("summary", "s.db").output
    assert summary.startswith("Project s  (s.db)\n")
    assert "│ draft │ 1       │ 1         │" in summary
    with coding.open_project(tmp_path / "s.db", coder="[bold]x[/bold]") as project:
        start = project.document_text("[x].txt").index("[/]")
        project.add_coding("[x].txt", "draft", start, start + 3)
    log = run("log", "s.db", "--limit", "1").output.splitlines()
    assert log[4].startswith("│ 5 │ ") and log[4].endswith(
        " │ [bold]x[/bold] │ add_coding │ coded \u201c[/]\u201d in       │")  # the quote, as written
    agreement = run("agreement", "s.db", "--coders", "rules", "[bold]x[/bold]")
    assert agreement.exit_code == 0, agreement.output
    assert "│ draft │ all units  │     1 │           1 │     1.000 │ 1.000 │ 1.000 │" \
        in agreement.output
    assert "Warning: draft (all units): unstable: 1 units" in agreement.output  # markup kept


# == 16: ingest never reads a device or a FIFO; Dask over TLS ================================

def test_ingest_and_batch_refuse_devices_and_fifos_without_reading_them(run, tmp_path, fifo):
    path, watch = fifo
    os.rename(path, tmp_path / "pipe.txt")  # a transcript's name: the reader would open it
    path = watch.path = tmp_path / "pipe.txt"
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "ann.txt").write_text("Interviewer: Hi.\nAnn: Fine.\n")
    assert run("init", "s.db").exit_code == 0
    for args, shown in ((("ingest", "s.db", "/dev/zero"), "/dev/zero"),
                        (("ingest", "s.db", "ann.txt", "pipe.txt"), "pipe.txt"),
                        (("ingest", "s.db", "zero.txt"), "zero.txt"),
                        (("batch", "s.db", "pipe.txt", "ann.txt", "--rules"), "pipe.txt")):
        result = run(*args)
        assert result.exit_code == 1, args
        kind = "a named pipe (FIFO)" if shown == "pipe.txt" else "a character device"
        assert result.output == (f"Error: {shown}: is not a regular file but {kind}; "
                                 "nothing was read\n")
    assert not watch.read and stat.S_ISFIFO(os.lstat(path).st_mode)
    assert "documents  0" in run("summary", "s.db").output  # nothing half-done
    # inside a folder, only regular files are taken
    result = run("ingest", "s.db", ".")
    assert result.output == ("added      ann.txt  (case ann, 2 turns, 2 words)\n"
                             "1 added, 0 already in the project, 0 failed\n")
    assert not watch.read


def test_dask_scheduler_link_checks():
    from coding.suggestions.batch import DaskScheduler

    assert DaskScheduler("tcp://127.0.0.1:8786").warning() is None
    assert DaskScheduler("tcp://[::1]:8786").warning() is None
    assert DaskScheduler("tcp://localhost:8786").security() is None
    assert DaskScheduler("tcp://10.0.0.5:8786").warning() == (
        "the Dask scheduler tcp://10.0.0.5:8786 is reached over plain TCP: the batch's pickled "
        "data crosses the network unencrypted and unauthenticated; use a tls:// address with "
        "--dask-tls-ca, --dask-tls-cert and --dask-tls-key")
    assert DaskScheduler("cluster.example.org:8786").warning().startswith(
        "the Dask scheduler cluster.example.org:8786 is reached over plain TCP")
    assert DaskScheduler("tls://10.0.0.5:8786", "ca.pem", "me.pem").warning() is None
    with pytest.raises(CodingError) as info:
        DaskScheduler("tcp://10.0.0.5:8786", ca_file="ca.pem").security()
    assert str(info.value) == ("TLS certificates were given but the Dask address "
                               "tcp://10.0.0.5:8786 is not tls://; use tls://HOST:PORT")


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate (its own CA) and its key, as PEM files."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=coding-test", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True,
                   capture_output=True)
    return cert, key


def test_batch_runs_on_a_dask_scheduler_over_tls(tmp_path, run, certificate):
    distributed = pytest.importorskip("distributed")
    from distributed.security import Security

    cert, key = certificate
    transcript = ROOT / "data_samples" / "transcripts" / "p02_service_manager.txt"
    codebook = ROOT / "codebooks" / "gcph_asset_based.yaml"
    server = Security(require_encryption=True, tls_ca_file=str(cert),
                      tls_scheduler_cert=str(cert), tls_scheduler_key=str(key),
                      tls_worker_cert=str(cert), tls_worker_key=str(key),
                      tls_client_cert=str(cert), tls_client_key=str(key))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tls://", host="127.0.0.1", security=server,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        refused = run("batch", "s.db", transcript, "--codebook", codebook, "--rules", "--dask",
                      address)
        assert refused.exit_code == 1
        assert refused.output == (f"Error: the Dask address {address} is tls:// but has no "
                                  "--dask-tls-ca and no --dask-tls-cert (PEM files; or set "
                                  "dask's distributed.comm.tls configuration)\n")
        result = run("batch", "s.db", transcript, "--codebook", codebook, "--rules",
                     "--dask", address, "--dask-tls-ca", cert, "--dask-tls-cert", cert,
                     "--dask-tls-key", key)
        ran = cluster.scheduler.transition_counter  # tasks the scheduler handed out
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output  # reached, over TLS, not the local fallback
    assert result.output.startswith("1 added, 0 already in the project, 0 failed; ")
    assert ran >= 1  # the work ran on the cluster
    with coding.open_project(tmp_path / "s.db") as project:
        assert len(project.pending()) > 0


# == 15: the app listens on this computer only ===============================================

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_addresses(command, cwd, port, environment, log):
    """Start a Streamlit server in `cwd`, wait until it listens on `port`, and return the
    addresses it listens on (then stop it); its output goes to `log`."""
    psutil = pytest.importorskip("psutil")
    with open(log, "wb") as output:
        server = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                  env={**os.environ, "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
                                       **environment})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            found = {(c.laddr.ip, c.laddr.port) for c in
                     psutil.Process(server.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
            if any(p == port for _, p in found):
                return found
            time.sleep(0.2)
        pytest.fail(f"the app did not listen on port {port} within 60 s:\n{log.read_text()}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_coding_app_listens_on_loopback_only(tmp_path):
    with coding.init_project(tmp_path / "s.db", coder="tester"):
        pass
    port = free_port()
    found = listening_addresses([sys.executable, "-m", "coding.cli", "app", "s.db",
                                 "--headless", "--port", str(port)], tmp_path, port, {},
                                tmp_path / "app.log")
    assert found == {("127.0.0.1", port)}


def test_streamlit_run_app_py_listens_on_loopback_only(tmp_path):
    # .streamlit/config.toml beside app.py is read when Streamlit starts in that folder
    with coding.init_project(tmp_path / "s.db", coder="tester"):
        pass
    port = free_port()
    found = listening_addresses([sys.executable, "-m", "streamlit", "run", "app.py",
                                 "--server.headless", "true", "--server.port", str(port)],
                                ROOT, port, {"CODING_PROJECT": str(tmp_path / "s.db")},
                                tmp_path / "streamlit.log")
    assert found == {("127.0.0.1", port)}


def test_every_input_file_option_refuses_devices_and_fifos_unread(run, tmp_path, fifo):
    path, watch = fifo
    assert run("init", "s.db").exit_code == 0
    for args, name in ((("import-codings", "s.db", "pipe.csv"), "FILE"),
                       (("import", "s.db", "pipe.csv"), "FILE"),
                       (("cases", "s.db", "pipe.csv"), "SHEET"),
                       (("codebook", "validate", "pipe.csv"), "FILE"),
                       (("codebook", "import", "s.db", "pipe.csv"), "FILE"),
                       (("ingest", "s.db", ".", "--cases", "pipe.csv"), "--cases")):
        result = run(*args)
        assert result.exit_code == 2, args
        assert result.output.splitlines()[-1] == (
            f"Error: Invalid value for '{name}': pipe.csv: is not a regular file but a named "
            "pipe (FIFO); nothing was read")
    result = run("codebook", "validate", "/dev/zero")
    assert result.output.splitlines()[-1] == (
        "Error: Invalid value for 'FILE': /dev/zero: is not a regular file but a character "
        "device; nothing was read")
    with pytest.raises(coding.CodebookError) as info:
        coding.load_codebook(path)
    assert str(info.value) == f"{path}: is not a regular file but a named pipe (FIFO); " \
                              "nothing was read"
    assert not watch.read
