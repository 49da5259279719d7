"""Speaker labels and roles: which lines start a turn, who speaks, and in what role.

A transcript arrives as lines. A line may start with an optional timestamp and a speaker label
("Interviewer:", "[id1]", "**Davie:**", "[00:03:12] I:", "Isobel<tab>"); a line without one
continues the current turn. Turn spans exclude the label, so a coded quote never starts with "Interviewer:".
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from ..errors import TranscriptError
from ..records import INTERVIEWER, PARTICIPANT, Turn

# "[00:03:12] ", "00:03:12 ", "(01:02.5) " before a label.
TIMESTAMP = r"(?:[\[(]?(?P<time>\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?)[\])]?[ \t]+)?"

DEFAULT_LABEL_PATTERNS = (
    r"\*\*(?P<speaker>[^*\n:]{1,40}):\*\*[ \t]*",  # **Davie:** (Markdown)
    r"\*\*(?P<speaker>[^*\n:]{1,40})\*\*:[ \t]*",  # **Davie**:
    # [id1] (QualCoder), but not a timestamp or a transcriber's note such as [laughs]
    r"\[(?!\d{1,2}:\d{2})(?!(?i:laugh|pause|inaudible|crosstalk|silence|cough|sigh|unclear|"
    r"overlap|long pause|interruption|music|noise)\w*\])(?P<speaker>[^\]\n]{1,40})\][ \t]*",
    # Interviewer: / INT: / Fiona Reid: / Participant 3: / P01: -- up to four capitalised words
    r"(?P<speaker>[A-Z][\w.'\u2019-]*(?:[ \t][A-Z0-9][\w.'\u2019-]*){0,3}):(?:[ \t]+|$)",
)
# "Interviewer<tab>...": a Word table or tabbed layout saved as text (and REFI-QDA sources
# exported from such a .docx). Weaker evidence than a colon, so segment() takes these only
# from an interview: names used at least twice, one of them an interviewer's.
TAB_LABEL = re.compile(r"[ \t]*" + TIMESTAMP +
                       r"(?P<speaker>[A-Z][\w.'\u2019-]*(?:[ ][A-Z0-9][\w.'\u2019-]*){0,3})"
                       r"\t+(?=\S)")

DEFAULT_ROLES = {"interviewer": INTERVIEWER, "int": INTERVIEWER, "i": INTERVIEWER,
                 "q": INTERVIEWER, "facilitator": INTERVIEWER}


@dataclass
class SpeakerRules:
    """Label patterns (regexes with a `speaker` group) and a label -> role map.

    Labels are compared lower-cased, without trailing numbers ("Interviewer 2" -> "interviewer").
    Any label not in the map is a participant.
    """

    patterns: tuple[str, ...] = DEFAULT_LABEL_PATTERNS
    roles: dict = field(default_factory=lambda: dict(DEFAULT_ROLES))

    def __post_init__(self):
        compiled = []
        for pattern in self.patterns:
            try:
                regex = re.compile(r"[ \t]*" + TIMESTAMP + "(?:" + pattern + ")")
            except re.error as exc:
                raise TranscriptError(f"speaker pattern {pattern!r} is not a valid regular "
                                      f"expression: {exc}") from exc
            if "speaker" not in regex.groupindex:
                raise TranscriptError(f"speaker pattern {pattern!r} has no (?P<speaker>...) group")
            compiled.append(regex)
        self._regexes = compiled
        self.roles = {key.lower(): value for key, value in self.roles.items()}

    @classmethod
    def from_settings(cls, settings):
        """Rules from a project's settings: {"speaker_patterns": [...], "roles": {...}}."""
        roles = dict(DEFAULT_ROLES)
        roles.update({k.lower(): v for k, v in (settings.get("roles") or {}).items()})
        patterns = tuple(settings.get("speaker_patterns") or ()) + DEFAULT_LABEL_PATTERNS
        return cls(patterns=patterns, roles=roles)

    def match(self, line):
        """(speaker, body_offset, seconds or None) when the line starts with a label, else None."""
        for regex in self._regexes:
            found = regex.match(line)
            if found:
                speaker = found.group("speaker").strip()
                return speaker, found.end(), parse_time(found.group("time"))
        return None

    def role(self, speaker):
        if speaker is None:
            return PARTICIPANT
        key = re.sub(r"[\s\d.:_-]+$", "", speaker.lower()) or speaker.lower()
        return self.roles.get(key, self.roles.get(speaker.lower(), PARTICIPANT))


def parse_time(value):
    """'01:02:03.5' / '02:03' / '00:00:01,200' -> seconds."""
    if not value:
        return None
    seconds = 0.0
    for part in value.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


@dataclass
class Line:
    """One line of a transcript before segmentation.

    `speaker`/`body` are set when the reader already knows the speaker (a bold run in .docx, a
    voice tag in .vtt); otherwise the rules look for a label. `heading` lines never join a turn.
    """

    text: str
    speaker: str | None = None
    body: int = 0
    heading: bool = False
    time_start: float | None = None
    time_end: float | None = None


def bold_label_line(text, first):
    """The line of a paragraph whose first run, `first`, is bold (.docx, .odt): that run is the
    speaker's label ("Interviewer", "Isobel:") when it reads as one (at most four words and 40
    characters, with speech after it); otherwise the paragraph is plain text."""
    if text.startswith(first):
        label = first.strip().rstrip(":").strip()
        if 0 < len(label) <= 40 and len(label.split()) <= 4 and text[len(first):].strip():
            return Line(text, speaker=label, body=len(first))
    return Line(text)


def segment(lines, rules):
    """Join lines with "\\n" into the frozen text and split it into turns.

    When no line has a speaker, each paragraph (block of non-blank lines) is a turn with no
    speaker, so a document analysis or a plain essay can still be coded.
    """
    text = "\n".join(line.text for line in lines)
    marks, offset = [], 0  # (line, start offset, speaker info)
    for line in lines:
        info = None
        if line.speaker is not None:
            info = (line.speaker, line.body, line.time_start)
        elif not line.heading:
            info = rules.match(line.text)
        marks.append((line, offset, info))
        offset += len(line.text) + 1
    marks = _with_tab_labels(marks, rules)
    if any(info for _, _, info in marks):
        turns = _labelled_turns(marks, rules)
    else:
        turns = _paragraph_turns(marks)
    return text, tuple(turns)


def _with_tab_labels(marks, rules):
    """Marks with "Name<tab>" lines as labels, when they read as an interview: only names that
    label two lines or more, and only if one of those is an interviewer's. A one-off
    "Table 1<tab>2019" row or a "Date<tab>12 May" header stays text."""
    found = {}
    for i, (line, _, info) in enumerate(marks):
        if info is None and not line.heading:
            label = TAB_LABEL.match(line.text)
            if label:
                found[i] = label
    counts = Counter(label.group("speaker").strip() for label in found.values())
    names = {name for name, count in counts.items() if count >= 2}
    if not any(rules.role(name) == INTERVIEWER for name in names):
        return marks
    marks = list(marks)
    for i, label in found.items():
        name = label.group("speaker").strip()
        if name in names:
            line, offset, _ = marks[i]
            marks[i] = (line, offset, (name, label.end(), parse_time(label.group("time"))))
    return marks


def _labelled_turns(marks, rules):
    turns, current = [], None
    for line, offset, info in marks:
        if line.heading:
            current = _close(turns, current)
            continue
        body = len(line.text) - len(line.text.lstrip())
        if info:
            current = _close(turns, current)
            speaker, body, seconds = info
            current = {"speaker": speaker, "start": None, "end": None,
                       "time_start": line.time_start if line.time_start is not None else seconds,
                       "time_end": line.time_end}
            body += len(line.text[body:]) - len(line.text[body:].lstrip())
        if current is not None and line.text[body:].strip():
            if current["start"] is None:  # a label alone on its line: the turn starts below
                current["start"] = offset + body
            current["end"] = offset + len(line.text.rstrip())
            if line.time_end is not None:
                current["time_end"] = line.time_end
    _close(turns, current)
    return [Turn(t["start"], t["end"], t["speaker"], rules.role(t["speaker"]),
                 t["time_start"], t["time_end"]) for t in turns]


def _paragraph_turns(marks):
    turns, current = [], None
    for line, offset, _ in marks:
        if line.heading or not line.text.strip():
            current = _close(turns, current)
            continue
        if current is None:
            start = offset + len(line.text) - len(line.text.lstrip())
            current = {"start": start, "time_start": line.time_start, "time_end": line.time_end}
        current["end"] = offset + len(line.text.rstrip())
        if line.time_end is not None:
            current["time_end"] = line.time_end
    _close(turns, current)
    return [Turn(t["start"], t["end"], None, PARTICIPANT, t["time_start"], t["time_end"])
            for t in turns]


def _close(turns, current):
    """Keep a turn that holds text; returns None so callers can reset `current`."""
    if current is not None and current["start"] is not None and current["end"] > current["start"]:
        turns.append(current)
    return None
