"""Microsoft Teams transcripts saved as .docx ("Download as .docx") -> lines, read as their
.vtt is: one line per speaker turn (`Name: speech`), consecutive blocks of one speaker joined,
the time on the turn (issue 15, item 11).

Teams has written two layouts (checked against exported files and the parsers others wrote for
them, not guessed):

- Since 2022, a header (the meeting's title, date and length), then blocks of a line with the
  speaker and the time the block starts, name and time apart (`David Mulholland   0:03`,
  `1:02:03` past an hour), above one or more paragraphs; "Nick Miller started transcription"
  and "... stopped transcription" between them. Only start times are given: a turn's end
  time is left empty rather than guessed.
- Before, cues of three lines as in the .vtt: the timing (`0:0:0.0 --> 0:0:1.510`, Teams'
  unpadded form, milliseconds as a plain number), the speaker, the speech.

The title, date, length and the transcription events stay in the text as headings, never speech.
"""

import re

from ..errors import TranscriptError
from .speakers import Line
from .subtitles import TEAMS_TIMESTAMP, check_times, cue_lines, seconds_of

_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)\s*$")
_HEADER = re.compile(r"^(?P<speaker>[^\s|:\d][^|:\t]{0,79}?)[ \t\u00a0]+"
                     r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_EVENT = re.compile(r"^.{1,80} (?:started|stopped) transcription\s*$")
_MIN_HEADERS = 2  # one "Name 10:30" line is an ordinary line, not a Teams layout


def teams_lines(lines, path, rules):
    """The lines of a Teams transcript in place of a .docx's paragraph lines, or None when the
    document is not one.

    A transcript typed in Word with `Name:` labels (or bold ones) stays one even if a few of its
    lines look like Teams' ("Interview started 10:02"): Teams' lines must outnumber labels.
    """
    flat = [Line(part, heading=line.heading) for line in lines for part in line.text.split("\n")]
    labels = sum(1 for line in lines if not line.heading and not _teams_like(line.text)
                 and (line.speaker or rules.match(line.text)))  # a header's bold name is none
    timings = sum(1 for line in flat if _is_timing(line.text))
    if timings and timings > labels:
        return _cue_layout(flat, path)
    headers = [None if timings else _header(line) for line in flat]
    found = sum(1 for header in headers if header)
    if found >= _MIN_HEADERS and found > labels:
        return _block_layout(flat, headers, path)
    return None


def _teams_like(text):
    """Whether a paragraph holds one of Teams' header or timing lines."""
    return any(_is_timing(part) or _header(Line(part)) for part in text.split("\n"))


def _is_timing(text):
    found = _TIMING.match(text)
    return bool(found) and all(TEAMS_TIMESTAMP.match(stamp) for stamp in found.groups())


def _cue_layout(flat, path):
    """Timing, speaker and speech lines: cues joined into turns as a .vtt's are."""
    lines, cues, index = [], [], 0
    while index < len(flat):
        text = flat[index].text
        if not _is_timing(text):
            if not cues:
                lines.append(Line(text, heading=True))  # before the first cue
            elif text.strip():
                cues[-1][1] = f"{cues[-1][1]} {text.strip()}".strip()
            index += 1
            continue
        stamps = _TIMING.match(text).groups()
        check_times(stamps, text, path, None)  # minutes and seconds up to 59; no end before start
        start, end = (seconds_of(stamp) for stamp in stamps)
        index += 1
        while index < len(flat) and not flat[index].text.strip():
            index += 1
        speaker = None
        if index < len(flat) and not _is_timing(flat[index].text):
            speaker = " ".join(flat[index].text.split())
            index += 1
        cues.append([speaker, "", start, end])
    return lines + cue_lines([cue for cue in cues if cue[1]])


def _header(line):
    """(speaker, time as written) of a block's header line, else None."""
    found = None if line.heading else _HEADER.match(line.text)
    if not found or _EVENT.match(line.text):
        return None
    return " ".join(found.group("speaker").split()), found.group("time")


def _seconds(stamp, line, path):
    fields = [int(part) for part in stamp.split(":")]
    if fields[-1] > 59 or (len(fields) == 3 and fields[1] > 59):
        raise TranscriptError(f"impossible time {stamp!r} in the Teams speaker line "
                              f"{line.text.strip()!r} (minutes and seconds go up to 59)",
                              path=path)
    seconds = 0
    for part in fields:
        seconds = seconds * 60 + part
    return float(seconds)


def _block_layout(flat, headers, path):
    """Header lines over paragraphs: one line per turn, the paragraphs of consecutive blocks
    of one speaker in it, each on its own line."""
    lines, turn = [], None  # turn: [speaker, paragraphs, start]
    for line, header in zip(flat, headers):
        if header:
            seconds = _seconds(header[1], line, path)
            if turn is None or turn[0] != header[0]:
                _flush(lines, turn)
                turn = [header[0], [], seconds]
        elif _EVENT.match(line.text) or line.heading or (turn is None and line.text.strip()):
            _flush(lines, turn)
            turn = None
            lines.append(Line(line.text, heading=True))
        elif turn is not None and line.text.strip():
            turn[1].append(line.text.strip())
    _flush(lines, turn)
    return lines


def _flush(lines, turn):
    """Add the turn's line (a block with no speech adds nothing)."""
    if turn is not None and turn[1]:
        label = f"{turn[0]}: "
        lines.append(Line(label + "\n".join(turn[1]), speaker=turn[0], body=len(label),
                          time_start=turn[2]))
