"""HTML for transcripts: every piece of transcript text goes through html.escape, so a
transcript holding `<script>` or `<b>` shows those characters and never runs or renders them.
Pure functions (no Streamlit) so tests can check the markup directly.
"""

import html

PALETTE = ("#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fbcfe8", "#a5f3fc",
           "#fed7aa", "#d9f99d", "#e9d5ff", "#c7d2fe", "#99f6e4")
SUGGESTED_STYLE = "outline:2px dashed #64748b;background:transparent"


def code_colours(codebook):
    """A colour per code id: the codebook's own, else one from the palette by position."""
    return {code.id: code.colour or PALETTE[i % len(PALETTE)]
            for i, code in enumerate(codebook.walk())} if codebook else {}


def text_colour(background):
    """Black or white, whichever reads better on a #rrggbb background (dark codebook colours
    would otherwise hide the transcript text)."""
    try:
        red, green, blue = (int(background.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    except ValueError:
        return "#000"
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
              for c in (red, green, blue)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#fff" if luminance < 0.4 else "#000"


def escape(text):
    return html.escape(text or "", quote=True).replace("\n", "<br>")


def highlight(text, offset, spans, colours):
    """`text` (which starts at document offset `offset`) as HTML with coded spans marked.

    spans: (start, end, code, suggested) in document offsets. Overlapping spans nest by
    splitting the text at every boundary; the innermost (last starting) colour shows.
    """
    length = len(text)
    local = [(max(0, s - offset), min(length, e - offset), code, suggested)
             for s, e, code, suggested in spans if e > offset and s < offset + length]
    cuts = sorted({0, length, *[s for s, _, _, _ in local], *[e for _, e, _, _ in local]})
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        piece = escape(text[a:b])
        covering = [span for span in local if span[0] <= a and b <= span[1]]
        if not covering:
            parts.append(piece)
            continue
        start, _, code, suggested = max(covering, key=lambda span: span[0])
        codes = ", ".join(sorted({escape(c) for _, _, c, _ in covering}))
        colour = colours.get(code, PALETTE[0])
        style = SUGGESTED_STYLE if suggested and all(s[3] for s in covering) else \
            f"background:{escape(colour)};color:{text_colour(colour)}"
        parts.append(f'<mark title="{codes}" style="{style};padding:0 1px">{piece}</mark>')
    return "".join(parts)


def chip(label, colour):
    return (f'<span style="background:{escape(colour)};color:{text_colour(colour)};'
            f'border-radius:8px;padding:1px 6px;'
            f'margin:1px;display:inline-block;font-size:0.8em">{escape(label)}</span>')


def transcript_table(turns, codings, colours, names, focus=None):
    """The whole transcript as one HTML table: turn number, speaker, highlighted text and the
    codes of each turn. turns: rows with seq, speaker, role, start, end, text; codings: rows
    with start, end, code, status. One element renders far faster than one per turn."""
    rows = []
    for turn in turns:
        inside = [c for c in codings if c["start"] < turn["end"] and c["end"] > turn["start"]]
        spans = [(c["start"], c["end"], c["code"], c["status"] == "suggested") for c in inside]
        codes = sorted({c["code"] for c in inside if c["status"] != "suggested"})
        chips = "".join(chip(names.get(code, code), colours.get(code, PALETTE[0]))
                        for code in codes)
        speaker = escape(turn["speaker"] or "")
        role = "font-weight:600" if turn["role"] == "participant" else "color:#475569"
        marker = ' style="background:#f1f5f9"' if focus == turn["seq"] else ""
        rows.append(
            f'<tr id="turn-{turn["seq"]}"{marker}><td style="color:#94a3b8;vertical-align:top">'
            f'{turn["seq"]}</td><td style="{role};vertical-align:top;white-space:nowrap">'
            f'{speaker}</td><td style="vertical-align:top">'
            f'{highlight(turn["text"], turn["start"], spans, colours)}</td>'
            f'<td style="vertical-align:top;width:22%">{chips}</td></tr>')
    return ('<table class="transcript" style="width:100%;border-collapse:collapse;'
            'line-height:1.5">' + "".join(rows) + "</table>")
