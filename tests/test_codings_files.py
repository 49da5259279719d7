"""Codings files round-trip exactly and never land on a guessed copy of a quote (issue 15,
items 7 and 8)."""

import random

import pytest

import coding
from coding import CodingsFileError
from coding.interchange import exports

from conftest import CODEBOOK

TURNS = ["We built trust with the council,\nand it took years.  ",
         "Staff grew in confidence.\n\nThen the walking group started. ",
         "People decide for themselves now;   nobody tells them.\n"]


def interview(n):
    return "".join(f"Interviewer: Question {i}?\nP{n:02d}: {TURNS[i % 3]}\n" for i in range(9))


@pytest.fixture
def coded(tmp_path):
    """A project with 200 manual codings whose spans end in a line end or spaces."""
    rng = random.Random(15)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        (folder / f"p{n:02d}.txt").write_text(interview(n))
    with coding.init_project(tmp_path / "a.db", coder="Ann") as project:
        project.import_codebook(CODEBOOK)
        project.ingest([folder])
        codes = [c.id for c in project.codebook().codes]
        for document in project.documents():
            text = project.document_text(document.name)
            ends = [i + 1 for i, ch in enumerate(text) if ch in "\n "]
            spans = set()
            while len(spans) < 50:
                end = rng.choice(ends)
                spans.add((rng.randrange(max(0, end - 60), end - 1), end, rng.choice(codes)))
            for start, end, code in sorted(spans):
                project.add_coding(document.name, code, start, end,
                                   coder=rng.choice(["Ann", "Bo"]))
        assert len(project.codings_frame()) == 200
    return tmp_path / "a.db"


def spans(project):
    frame = project.codings_frame()
    return sorted(zip(frame["document"], frame["code"], frame["start"], frame["end"],
                      frame["coder"], frame["quote"]))


def test_our_own_csv_round_trips_exactly_three_times(coded, tmp_path):
    with coding.open_project(coded) as project:
        original = spans(project)
        folder = tmp_path / "in"
    assert sum(1 for *_, quote in original if quote[-1] in "\n ") == 200
    source = coded
    for trip in range(3):
        csv = tmp_path / f"trip{trip}.csv"
        with coding.open_project(source) as project:
            exports.write(exports.tables(project, "codings"), csv)
        target = tmp_path / f"trip{trip}.db"
        with coding.init_project(target, coder="importer") as fresh:
            fresh.import_codebook(CODEBOOK)
            fresh.ingest([folder])
            assert fresh.import_codings(csv) == (200, 0)
            assert spans(fresh) == original, f"round trip {trip + 1}"
        source = target


def test_a_quote_that_does_not_match_its_start_and_end_is_an_error(coded, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("document,code,coder,start,end,quote\n"
                    "p00.txt,relationships,Eve,30,50,something else entirely\n")
    with coding.open_project(coded) as project:
        text = project.document_text("p00.txt")
        with pytest.raises(CodingsFileError) as info:
            project.import_codings(path)
    assert str(info.value) == (
        "1 of 1 rows cannot be applied; nothing was imported:\n"
        f"{path}:2: the quote does not match the text at [30, 50) of p00.txt: the file has "
        f"\"something else entirely\", the document \"{' '.join(text[30:50].split())}\"")


def test_a_quote_found_several_times_is_an_error_unless_start_picks_one(coded, tmp_path):
    with coding.open_project(coded) as project:
        text = project.document_text("p01.txt")
        copies = [i for i in range(len(text)) if text.startswith("Staff grew in confidence.", i)]
        assert len(copies) == 3
        ambiguous = tmp_path / "ambiguous.csv"
        ambiguous.write_text("document,code,coder,quote\n"
                             "p01.txt,people_skills,Eve,Staff grew in confidence.\n")
        with pytest.raises(CodingsFileError) as info:
            project.import_codings(ambiguous)
        assert str(info.value) == (
            "1 of 1 rows cannot be applied; nothing was imported:\n"
            f"{ambiguous}:2: quote occurs 3 times in p01.txt (at "
            f"{', '.join(map(str, copies))}): give start and end to pick one: "
            "\"Staff grew in confidence.\"")
        picked = tmp_path / "picked.csv"
        picked.write_text("document,code,coder,quote,start\n"
                          f"p01.txt,people_skills,Eve,Staff grew in confidence.,{copies[1] + 2}\n")
        assert project.import_codings(picked) == (1, 0)
        frame = project.codings_frame()
        eve = frame[frame["coder"] == "Eve"]
    assert eve[["start", "end"]].values.tolist() == [[copies[1], copies[1] + 25]]
