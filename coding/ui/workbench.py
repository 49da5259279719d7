"""The transcript workbench: a small bidirectional component (Streamlit components v2, inline
HTML/CSS/JS from coding/ui/workbench/, no build step, nothing fetched) that shows a transcript
with its codings and suggestions, and sends back what the coder did: code a selection, remove,
recode or write a memo on a coding, accept or reject a suggestion (issue 16, items 1, 2, 4).

What goes to the browser is plain data (`workbench_data`, pure, tested without a browser);
the JavaScript puts every piece of it into the page as text, never as HTML. Positions go out
and come back as UTF-16 offsets into a turn's text, which is what JavaScript counts;
`coding.project.selection` converts them to and from the code points we store.
"""

import re
from bisect import bisect_right
from functools import partial
from importlib.resources import files

import streamlit as st

from ..project.selection import from_utf16, to_utf16
from .render import PALETTE, text_colour

KEY = "workbench"
NAME = "coding_workbench"
_ASSETS = files(__package__) / "workbench"
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}|[a-zA-Z]{3,20}")


def _assets():
    return ((_ASSETS / "workbench.css").read_text(encoding="utf-8"),
            (_ASSETS / "workbench.js").read_text(encoding="utf-8"))


_CSS, _JS = _assets()


def safe_colour(value, fallback=PALETTE[0]):
    """A codebook colour the browser may use as a background: #rgb, #rrggbb or a colour name;
    anything else (a url(), a ';') becomes `fallback`."""
    value = (value or "").strip()
    return value if _COLOUR.fullmatch(value) else fallback


def workbench_data(document, sha256, turns, codings, codes, memos=(), recent=(), focus=None,
                   notice=None, can_add=True, step_code=None, empty=None):
    """The component's data: plain lists, positions in UTF-16 units of each turn's text.

    turns: rows with seq, speaker, role, start, end, text (the turns to show, in order);
    codings: rows with coding_id, start, end, code, coder, status, score (document offsets in
    code points; a coding across turns is drawn in each); codes: (id, name, colour) in the
    order to offer them; memos: (coding id, author, text); recent: code ids used lately.
    """
    shown = [(int(t["seq"]), int(t["start"]), int(t["end"]), t["text"]) for t in turns]
    starts = [start for _, start, _, _ in shown]
    pieces = []
    for row in codings:
        start, end = int(row["start"]), int(row["end"])
        k = max(bisect_right(starts, start) - 1, 0)
        while k < len(shown) and shown[k][1] < end:
            seq, turn_start, turn_end, text = shown[k]
            a, b = max(start, turn_start), min(end, turn_end)
            if a < b:
                a16, b16 = to_utf16(text, [a - turn_start, b - turn_start])
                score = row.get("score")
                pieces.append([int(row["coding_id"]), seq, a16, b16, row["code"],
                               row.get("coder") or "", row["status"],
                               None if score is None or score != score else float(score)])
            k += 1
    coders = {p[5] for p in pieces if p[6] != "suggested"}
    return {
        "document": document, "sha256": sha256,
        "turns": [[t["seq"], t["speaker"] or "", t["role"] or "", t["text"]] for t in turns],
        "codes": [[code_id, name, colour, text_colour(colour)] for code_id, name, colour in codes],
        "codings": pieces, "memos": [[int(c), a or "", m] for c, a, m in memos],
        "recent": list(recent), "focus": focus, "notice": notice, "can_add": can_add,
        "several_coders": len(coders) > 1, "step_code": step_code, "empty": empty,
    }


def document_offset(turn_start, turn_text, utf16_offset):
    """A position the browser sent ([turn, UTF-16 offset in its text]) as a code point offset
    into the document; ValueError when it does not fall on a character of the turn."""
    return turn_start + from_utf16(turn_text, int(utf16_offset))


def show(data, on_action):
    """Mount the workbench; `on_action(payload)` runs (as a callback, before the next run)
    when the coder does something."""
    component = st.components.v2.component(NAME, css=_CSS, js=_JS)
    return component(key=KEY, data=data, on_action_change=partial(_dispatch, on_action))


def _dispatch(on_action):
    value = st.session_state.get(KEY)
    payload = value.get("action") if hasattr(value, "get") else getattr(value, "action", None)
    if isinstance(payload, dict):
        on_action(payload)
