"""Coding what a coder selected (issue 16, item 1), without a browser: UTF-16 positions to code
points and back (emoji, accents), a selection across turns cut into one coding per turn without
speaker labels, snapping to word edges, the text the coder saw checked, one logged action
undone as one; and recoding a coding in place."""

import pytest

import coding
from coding import StoreError
from coding.project.selection import from_utf16, snap_to_words, split_by_turns, to_utf16

BOOK = """
codes:
  - id: joy
    name: Joy
  - id: place
    name: Place
"""
TEXT = ("Interviewer: Was it good? 😀 Tell me.\n"
        "Zoë: Café 😀😀 by the river, naïve joy.\n"
        "Interviewer: And then?\n"
        "Zoë: We went home.\n")


@pytest.fixture
def emoji(tmp_path):
    (tmp_path / "book.yaml").write_text(BOOK)
    (tmp_path / "zoe.txt").write_text(TEXT, encoding="utf-8")
    with coding.init_project(tmp_path / "p.db", coder="ann") as project:
        project.import_codebook(tmp_path / "book.yaml")
        project.ingest([tmp_path / "zoe.txt"])
        yield project


def utf16(text):
    return text.encode("utf-16-le")


def test_utf16_positions_convert_both_ways_round_emoji_and_accents():
    text = "Café 😀😀 naïve 👩‍👩‍👧 end"
    for cp in range(len(text) + 1):
        unit = len(utf16(text[:cp])) // 2
        assert to_utf16(text, [cp]) == [unit]
        assert from_utf16(text, unit) == cp
    assert to_utf16("plain", [0, 5]) == [0, 5]
    with pytest.raises(ValueError, match="falls inside the character at 5"):
        from_utf16(text, 6)  # between the halves of the first emoji
    with pytest.raises(ValueError, match="past the end"):
        from_utf16(text, 99)


def test_split_by_turns_drops_labels_gaps_and_edge_space():
    text = "I: Hi there. \nP1:  Fine, thanks.\nI: Good."
    turns = [(0, 3, 13), (1, 19, 32), (2, 36, 41)]
    assert [text[a:b] for _, a, b in split_by_turns(text, turns, 0, len(text))] == \
        ["Hi there.", "Fine, thanks.", "Good."]
    assert split_by_turns(text, turns, 6, 24) == [(0, 6, 12), (1, 19, 24)]
    assert split_by_turns(text, turns, 0, len(text), seqs={0, 2}) == [(0, 3, 12), (2, 36, 41)]
    assert split_by_turns(text, turns, 13, 18) == []  # the label only


def test_snap_to_words_widens_inside_its_turn_only():
    text = "We don't know naïve café-goers 😀 here"
    assert text[slice(*snap_to_words(text, 5, 10))] == "don't know"
    assert text[slice(*snap_to_words(text, 16, 27))] == "naïve café-goers"
    assert snap_to_words(text, 0, 4) == (0, 8)
    assert snap_to_words(text, 4, 5, low=4, high=5) == (4, 5)  # never past the turn
    assert text[slice(*snap_to_words(text, 31, 34))] == "😀 here"


def test_code_selection_codes_exactly_the_selected_characters_after_emoji(emoji):
    text = emoji.document_text("zoe.txt")
    sha = emoji.documents()[0].sha256
    start = text.index("😀😀 by")
    end = text.index(", naïve")
    ids = emoji.code_selection("zoe.txt", start, end, "place", expected_sha256=sha)
    frame = emoji.codings_frame()
    assert frame[["coding_id", "quote", "code", "coder", "status", "turn"]].values.tolist() \
        == [[ids[0], "😀😀 by the river", "place", "ann", "manual", 1]]


def test_code_selection_across_turns_makes_one_coding_per_turn_without_labels(emoji):
    text = emoji.document_text("zoe.txt")
    start, end = text.index("good?"), text.index(" home")
    ids = emoji.code_selection("zoe.txt", start, end, "joy")
    frame = emoji.codings_frame().set_index("coding_id").loc[ids]
    assert frame["quote"].tolist() == [
        "good? 😀 Tell me.", "Café 😀😀 by the river, naïve joy.", "And then?",
        "We went"]
    assert frame["turn"].tolist() == [0, 1, 2, 3]
    assert not any(q.startswith(("Interviewer", "Zoë")) for q in frame["quote"])
    assert emoji.code_selection("zoe.txt", start, end, "joy", turns=[1, 3]) == []  # coded
    event = emoji.events().iloc[-1]
    assert (event["action"], event["detail"]["ids"]) == ("code_selection", ids)
    history = emoji.history(limit=1)
    assert history["what"].iloc[0] == \
        f"coded 4 passages of zoe.txt as joy (codings {', '.join(map(str, ids))})"


def test_code_selection_keeps_to_the_turns_shown_and_snaps(emoji):
    text = emoji.document_text("zoe.txt")
    start, end = text.index("ood?"), text.index("ent home") + 2
    ids = emoji.code_selection("zoe.txt", start, end, "joy", snap=True, turns=[0, 3])
    assert emoji.codings_frame().set_index("coding_id").loc[ids, "quote"].tolist() == \
        ["good? 😀 Tell me.", "We went"]


def test_code_selection_is_undone_as_one_action(emoji):
    text = emoji.document_text("zoe.txt")
    before = emoji.codings_frame(statuses=None)
    emoji.code_selection("zoe.txt", text.index("Was"), text.index("river"), "joy")
    assert len(emoji.codings_frame()) == 2
    [(_, action, what)] = emoji.undo()
    assert action == "code_selection" and what.startswith("coded 2 passages")
    assert emoji.codings_frame(statuses=None).equals(before)


def test_code_selection_refuses_changed_text_labels_only_and_unknown_codes(emoji):
    text = emoji.document_text("zoe.txt")
    label = emoji.store.label
    with pytest.raises(StoreError) as info:
        emoji.code_selection("zoe.txt", 13, 20, "joy", expected_sha256="0" * 64)
    assert str(info.value) == (f"{label}: 'zoe.txt': the transcript changed since you opened "
                               "it; reload it and code again (nothing was stored)")
    with pytest.raises(StoreError) as info:
        emoji.code_selection("zoe.txt", 0, 12, "joy")
    assert str(info.value) == (f"{label}: the selection holds no words of the transcript (only "
                               "speaker labels or white space): select words to code")
    with pytest.raises(StoreError, match="no code 'nope' in the codebook"):
        emoji.code_selection("zoe.txt", 13, 20, "nope")
    with pytest.raises(StoreError, match=f"the selection is outside 'zoe.txt' \\(it has "
                                         f"{len(text)} characters\\)"):
        emoji.code_selection("zoe.txt", 13, len(text) + 1, "joy")
    assert emoji.codings_frame(statuses=None).empty


def test_change_code_recodes_in_place_keeping_memos_and_undoes(emoji):
    text = emoji.document_text("zoe.txt")
    [coding_id] = emoji.code_selection("zoe.txt", text.index("river"), text.index(", na"),
                                       "joy")
    emoji.add_memo("by the water", "coding", coding_id)
    assert emoji.change_code(coding_id, "place") == coding_id
    row = emoji.codings_frame().iloc[0]
    assert (row["coding_id"], row["code"], row["quote"]) == (coding_id, "place", "river")
    assert emoji.history(limit=1)["what"].iloc[0] == \
        f"recoded coding {coding_id} from joy to place"
    emoji.undo()
    assert emoji.codings_frame()["code"].tolist() == ["joy"]
    assert emoji.memos()["target_id"].tolist() == [coding_id]
    with pytest.raises(StoreError, match="no code 'nope'"):
        emoji.change_code(coding_id, "nope")
