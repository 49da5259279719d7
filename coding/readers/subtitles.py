"""Caption files -> lines: WebVTT (.vtt, with Teams' and Zoom's meeting transcripts), SubRip
(.srt, cue numbers optional) and YouTube's SubViewer (.sbv).

Every timing line is checked here, naming its line, before webvtt-py parses the file: webvtt-py
silently drops a cue whose timing it cannot read, and reads an impossible time such as
`00:75:02` as 1 h 15 min (issue 13). Then the cues become turns: consecutive cues of one
speaker are one turn on one line (`Name: cue cue`), with the first cue's start time and the
last one's end time (`cue_lines`, also used for Teams' .docx export).
"""

import html
import re
from collections import Counter

from ..errors import TranscriptError
from .speakers import Line, parse_time
from .text import check_is_text, decode_bytes, normalise

FORMATS = {"vtt": "VTT", "srt": "SRT", "sbv": "SBV"}
EXAMPLES = {"vtt": "'00:00:01.000 --> 00:00:04.000'", "srt": "'00:00:01,000 --> 00:00:04,000'",
            "sbv": "'0:00:01.000,0:00:04.000'"}

_CUE_TIME = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_SBV_TIME = re.compile(r"^\s*([^,\s]+),([^,\s]+)\s*$")
_TIMESTAMP = re.compile(r"^(?:\d{1,2}:)?\d{2}:\d{2}[.,]\d{3}$")
_SBV_TIMESTAMP = re.compile(r"^\d{1,2}:\d{2}:\d{2}\.\d{3}$")
# Teams writes each field without padding and the milliseconds as a plain number: `0:0:6.90`
# is 6.090 s (a cue `0:0:6.90 --> 0:0:6.500` would otherwise end before it starts); see the
# Microsoft Graph callTranscript examples (`0:0:0.0 --> 0:0:5.320`).
TEAMS_TIMESTAMP = re.compile(r"^(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,3})$")
# A label in a meeting tool's cue: a display name as typed ("jane doe", "Doe, Jane (she/her)"),
# taken only when it labels several cues and most cues have one (Zoom writes one on every cue).
_LOOSE_LABEL = re.compile(r"(?P<speaker>[^\s:<>\[\]()][^:<>\n?!;\"\u201c\u201d]{0,59}?)"
                          r":[ \t]+(?=\S)")
_MAX_LABEL_WORDS = 6


def read_subtitles(data, path, rules, fmt):
    """Lines of a caption file; `fmt` is "vtt", "srt" or "sbv".

    Voice tags (`<v Name>`, as Teams writes them) or `Name:` prefixes (as Zoom writes them)
    give the speakers. Without any speaker, every cue is a turn of its own.
    """
    import webvtt

    text, encoding, warnings = decode_bytes(data, path)
    text = normalise(text)
    check_is_text(text, path)
    kind = FORMATS[fmt]
    if fmt == "vtt" and not text.lstrip().startswith("WEBVTT"):
        raise TranscriptError("is not a valid VTT file: it must start with a 'WEBVTT' line",
                              path=path, line=1)
    lines = text.split("\n")
    timings = check_cue_times(lines, path, fmt)
    try:
        captions = webvtt.from_buffer(_for_webvtt(lines, timings, fmt), format=fmt).captions
    except Exception as exc:  # webvtt-py: MalformedFileError / MalformedCaptionError
        raise TranscriptError(f"is not a valid {kind} file ({exc}): expected cues of a timing "
                              f"line such as {EXAMPLES[fmt]} followed by text",
                              path=path) from exc
    if not captions:
        raise TranscriptError(f"holds no {kind} cues ({EXAMPLES[fmt]} lines followed by text)",
                              path=path)
    cues = []
    for caption in captions:
        body = " ".join(html.unescape(caption.text).split())
        voice = " ".join(html.unescape(caption.voice or "").split()) if fmt == "vtt" else ""
        cues.append([voice or None, body, caption.start_time.in_milliseconds() / 1000,
                     caption.end_time.in_milliseconds() / 1000])
    metadata = {"encoding": encoding, **({"warnings": list(warnings)} if warnings else {})}
    return cue_lines(_with_labels(cues, rules)), metadata


def cue_lines(cues):
    """Lines from cues [speaker or None, text, start, end]: one line per turn, consecutive cues
    of a speaker (and cues without one after them) joined; without any speaker, one paragraph
    per cue."""
    if not any(cue[0] for cue in cues):
        lines = []
        for _, body, start, end in cues:
            lines += [Line(body, time_start=start, time_end=end), Line("")]
        return lines[:-1]
    turns = []
    for speaker, body, start, end in cues:
        if turns and (speaker is None or speaker == turns[-1][0]):
            turns[-1][1].append(body)
            turns[-1][3] = end if turns[-1][3] is None else max(turns[-1][3], end)
        else:
            turns.append([speaker, [body], start, end])
    lines = []
    for speaker, bodies, start, end in turns:
        label = f"{speaker}: " if speaker else ""
        lines.append(Line(label + " ".join(b for b in bodies if b), speaker=speaker,
                          body=len(label), time_start=start, time_end=end))
    return lines


def _with_labels(cues, rules):
    """Cues with the speaker of a `Name:` prefix (or `>> NAME:`, as broadcast captions mark a
    new speaker) taken out of the text: the project's label patterns first, then a display
    name as meeting tools write it, when it labels two cues or more and half the cues have a
    label (a Zoom transcript, not a phrase that happens to end in a colon)."""
    loose = {}
    for i, cue in enumerate(cues):
        if cue[0] is not None:
            continue
        body = cue[1][2:].lstrip() if cue[1].startswith(">>") else cue[1]
        found = rules.match(body)
        if found:
            speaker, offset, _ = found
            cue[0], cue[1] = speaker, body[offset:]
            continue
        label = _LOOSE_LABEL.match(body)
        if label and len(label.group("speaker").split()) <= _MAX_LABEL_WORDS:
            loose[i] = (label.group("speaker").strip(), body[label.end():])
    counts = Counter(speaker for speaker, _ in loose.values())
    names = {name for name, count in counts.items() if count >= 2}
    labelled = sum(1 for cue in cues if cue[0]) + sum(
        1 for speaker, _ in loose.values() if speaker in names)
    if names and labelled * 2 >= len(cues):
        for i, (speaker, body) in loose.items():
            if speaker in names:
                cues[i][0], cues[i][1] = speaker, body
    return cues


def check_cue_times(lines, path, fmt):
    """The indexes of the timing lines, each checked; a bad one raises TranscriptError naming
    its line (webvtt-py would drop the cue and its speech).

    VTT: every line with "-->". SRT: the first line of a cue block, or the second after a cue
    number; "-->" further down is speech (issue 13). SBV: the first line of every block.
    """
    if fmt == "sbv":
        return _check_sbv_times(lines, path)
    timings, position, timed = [], 0, False  # the line's place in its block; block timed
    for index, line in enumerate(lines):
        position = position + 1 if line.strip() else 0
        timed = timed and position > 0
        if "-->" not in line or (fmt == "srt" and (timed or position > 2)):
            continue
        timed = True
        number = index + 1
        found = _CUE_TIME.match(line)
        stamps = found.groups() if found else ()
        if not found or not all(_TIMESTAMP.match(t) or (fmt == "vtt" and TEAMS_TIMESTAMP.match(t))
                                for t in stamps):
            raise TranscriptError(f"bad cue timing {line.strip()!r} (expected "
                                  f"{EXAMPLES[fmt]})", path=path, line=number)
        if fmt == "srt" and position == 2 and not lines[index - 1].strip().isdigit():
            raise TranscriptError(f"cue number {lines[index - 1].strip()!r} is not a number "
                                  "(an SRT cue starts with a number, or with its timing)",
                                  path=path, line=number - 1)
        check_times(stamps, line, path, number)
        timings.append(index)
    return timings


def _check_sbv_times(lines, path):
    timings = []
    for index, line in enumerate(lines):
        if not line.strip() or (index and lines[index - 1].strip()):
            continue  # only the first line of a block
        found = _SBV_TIME.match(line)
        if not found and not re.match(r"\s*\d+:\d", line):
            raise TranscriptError(f"text {line.strip()[:60]!r} is in no cue: every SBV cue "
                                  f"starts with its timing ({EXAMPLES['sbv']}) after a blank "
                                  "line; this text would be lost", path=path, line=index + 1)
        if not found or not all(_SBV_TIMESTAMP.match(t) for t in found.groups()):
            raise TranscriptError(f"bad cue timing {line.strip()!r} (expected "
                                  f"{EXAMPLES['sbv']})", path=path, line=index + 1)
        check_times(found.groups(), line, path, index + 1)
        timings.append(index)
    return timings


def check_times(stamps, line, path, number):
    """Raise TranscriptError unless minutes and seconds go up to 59 and the end is not before
    the start; `number` is the timing's line in the file, when it has lines."""
    for stamp in stamps:
        *_, minutes, seconds = stamp.replace(",", ".").split(":")
        if int(minutes) > 59 or float(seconds) >= 60:
            raise TranscriptError(f"impossible time {stamp!r} in cue timing {line.strip()!r} "
                                  "(minutes and seconds go up to 59); the cue would be lost",
                                  path=path, line=number)
    start, end = (seconds_of(t) for t in stamps)
    if end < start:
        raise TranscriptError(f"cue ends before it starts: {line.strip()!r}", path=path,
                              line=number)


def seconds_of(stamp):
    """Seconds of a checked timestamp: `00:01:02.500`, `01:02,500`, Teams' `0:1:2.500`."""
    teams = TEAMS_TIMESTAMP.match(stamp)
    if teams:
        hours, minutes, seconds, millis = map(int, teams.groups())
        return hours * 3600 + minutes * 60 + seconds + millis / 1000
    return parse_time(stamp)


def padded(stamp):
    """A Teams timestamp as WebVTT writes it: `0:0:6.90` -> `00:00:06.090`."""
    teams = TEAMS_TIMESTAMP.match(stamp)
    if not teams:
        return stamp
    hours, minutes, seconds, millis = map(int, teams.groups())
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _for_webvtt(lines, timings, fmt):
    """The lines as webvtt-py reads them: Teams timestamps padded (VTT), and SRT cues without a
    number given one (real files omit them, and webvtt-py drops such cues). Lines are only
    added before a timing line, so every check above named the file's own lines."""
    if fmt == "sbv":
        return lines
    out, timing, number = [], set(timings), 0
    for index, line in enumerate(lines):
        if index in timing:
            found, number = _CUE_TIME.match(line), number + 1
            if fmt == "vtt":
                (start, end), rest = found.groups(), line[found.end():]
                line = f"{padded(start)} --> {padded(end)}{rest}"
            elif not (index and lines[index - 1].strip()):
                out.append(str(number))
        out.append(line)
    if fmt == "srt":
        while out and not out[0].strip():  # webvtt-py wants the first cue on the first line
            out.pop(0)
    return out
