"""Reading a REFI-QDA file's sources: text sources into parsed documents with their selections
mapped onto the stored text (positions read in the unit the producer counts: `offsets.
choose_unit`), other sources (PDF, picture, audio, video) skipped with counts, and each
source's tally of codings read and skipped. Pure: no database. Used by `reader` as a mixin of
its project reader, which gives it the file's path, archive, speaker rules, warnings and the
project being read."""

import codecs
from pathlib import Path
from urllib.parse import unquote, urlparse

from ...errors import TranscriptError
from ...readers.text import decode_bytes
from ...readers.transcripts import MAX_FILE_BYTES, parse_bytes
from .common import counted, quote_name
from .elements import (RefiSelection, RefiSource, SourceTally, children, clean_name,
                       first_child, guid_of, local, moment, text_of)
from .offsets import (CODE_POINTS, UNIT_NAMES, UTF16, choose_unit, docx_span, from_utf16,
                      offset_map, to_stored, utf16_table)

TEXT_SOURCES = {"TextSource"}
OTHER_SOURCES = {"PDFSource": "PDF", "PictureSource": "picture", "AudioSource": "audio",
                 "VideoSource": "video"}


class SourceReading:
    """The source-reading half of the project reader (`reader._ProjectReader`)."""

    def _sources(self, element):
        for source in children(element):
            name = local(source.tag)
            if name in TEXT_SOURCES:
                self._text_source(source)
            elif name in OTHER_SOURCES:
                self._other_source(source, OTHER_SOURCES[name])
            else:
                self.warn.skip(source, " in Sources")

    def _other_source(self, source, kind):
        selections = [e for e in source.iter() if local(e.tag).endswith("Selection")]
        codings = [e for e in source.iter() if local(e.tag) == "Coding"]
        names = [repr(quote_name(clean_name(s.get("name")), 40)) for s in selections[:3]]
        more = ", ..." if len(selections) > 3 else ""
        listed = f" ({', '.join(names)}{more})" if names else ""
        name = clean_name(source.get("name")) or source.get("guid")
        self.warn(f"{kind} source '{name}' skipped (only text sources are imported): "
                  f"{counted(len(selections), 'selection')}{listed} and "
                  f"{counted(len(codings), 'coding')} not imported")
        tally = SourceTally(name=name, codings=len(codings))
        if codings:
            tally.skipped[f"a {kind} source (only text sources are imported)"] = len(codings)
        self.project.tallies.append(tally)
        for selection in selections:
            self.project.selection_owner[guid_of(selection.get("guid"))] = None

    def _text_source(self, source):
        guid = guid_of(source.get("guid"))
        # qc writes no name, only its corpus file as plainTextPath (issue 15, item 3)
        name = clean_name(source.get("name")) or _file_name(source.get("plainTextPath")) or \
            _file_name(source.get("richTextPath")) or f"{guid}.txt"
        label = f"source '{name}'"
        selections = children(source, "PlainTextSelection")
        codings = sum(len(children(s, "Coding")) for s in selections) + \
            len(children(source, "Coding"))
        tally = SourceTally(name=name, codings=codings)
        self.project.tallies.append(tally)
        lost = (f"skipped ({counted(len(selections), 'selection')} and "
                f"{counted(codings, 'coding')} not imported)")
        content = first_child(source, "PlainTextContent")
        original, parsed, via_docx = None, None, False
        try:
            if content is not None:
                original = content.text or ""
            else:
                found = self._source_bytes(source.get("plainTextPath"), ".txt")
                if found is not None:
                    original = decode(found[0], found[1])
            if original is not None:
                parsed = parse_bytes(original.encode("utf-8"), name, "txt", self.rules,
                                     path=f"{self.path}: {label}")
            else:
                found = self._source_bytes(source.get("richTextPath"), ".docx")
                if found is None:
                    self.warn(f"{label}: its text is missing (plainTextPath "
                              f"{source.get('plainTextPath')!r}, richTextPath "
                              f"{source.get('richTextPath')!r} not found); {lost}")
                    if codings:
                        tally.skipped["its text is missing from the file"] = codings
                    return
                parsed = parse_bytes(found[0], name, "docx", self.rules,
                                     path=f"{self.path}: {label}")
                via_docx = True
                if selections:
                    self.warn(f"{label}: plain text missing, read from its .docx; selection "
                              "positions were applied to that text and checked against "
                              "their names where possible")
        except TranscriptError as exc:
            self.warn(f"{label}: cannot be read ({exc.message}); {lost}")
            if codings:
                tally.skipped["its text cannot be read"] = codings
            return
        result = RefiSource(guid=guid, name=name, parsed=parsed, selections=[],
                         notes=[guid_of(r.get("targetGUID")) for r in children(source, "NoteRef")],
                         values=self._values(source, label),
                         description=text_of(first_child(source, "Description")).strip(),
                         whole_codings=[self._coding(c) for c in children(source, "Coding")],
                         tally=tally)
        self.project.sources.append(result)
        for child in children(source):
            if local(child.tag) not in ("Description", "PlainTextContent", "PlainTextSelection",
                                         "Coding", "NoteRef", "VariableValue"):
                self.warn.skip(child, " in a text source")
        spans = self._spans(selections, label, tally)
        if via_docx:
            convert = lambda s, e, n: docx_span(parsed.text, s, e, n)  # noqa: E731
            length = "?"
        else:
            convert, length = self._converter(original, parsed.text, spans, label, tally)
            if convert is None:
                return
        for selection, (start, end) in spans:
            span = convert(start, end, clean_name(selection.get("name")))
            item = self._selection(selection, span, (start, end, length), label, tally)
            if item is not None:
                result.selections.append(item)
                self.project.selection_owner[item.guid] = guid

    def _spans(self, selections, label, tally):
        """(element, (start, end)) of the selections whose positions are whole numbers with
        start < end; the others are skipped with a warning."""
        spans = []
        for element in selections:
            try:
                start, end = int(element.get("startPosition")), int(element.get("endPosition"))
            except (TypeError, ValueError):
                self.warn(f"{label}: selection '{_selection_label(element)}': startPosition/"
                          "endPosition are not whole numbers; skipped")
                tally.skipped["positions not whole numbers"] += len(children(element,
                                                                              "Coding"))
                continue
            if not 0 <= start < end:
                self.warn(f"{label}: selection '{_selection_label(element)}': [{start}, {end}) "
                          "is not a span; skipped")
                tally.skipped["not a span"] += len(children(element, "Coding"))
                continue
            spans.append((element, (start, end)))
        return spans

    def _converter(self, original, stored, spans, label, tally):
        """A function mapping a selection's positions, in the unit its producer counts, onto
        the stored text: the unit chosen by `offsets.choose_unit`, the choice reported when it
        matters. None (and every coding skipped, with counts) when the selections fit neither
        reading of the text."""
        choice = choose_unit(original, [span for _, span in spans], self.prior, self.certain)
        tally.unit = choice.unit if choice.differs else CODE_POINTS
        scores = choice.scores
        if not choice.fits:
            codings = sum(len(children(element, "Coding")) for element, _ in spans)
            shares = f"{scores[CODE_POINTS]}% read as code points" + (
                f", {scores[UTF16]}% as UTF-16 code units" if choice.differs else "")
            self.warn(f"{label}: its selections do not fit its text (of "
                      f"{choice.boundaries} selection boundaries, {shares} fall on word "
                      f"edges; a right reading has nearly all there): "
                      f"{counted(len(spans), 'selection')} and {counted(codings, 'coding')} "
                      "not imported, rather than stored on the wrong words. Was the text "
                      "changed after coding?")
            tally.unit = ""
            if codings:
                tally.skipped["its selections do not fit its text"] += codings
            return None, None
        if choice.switched:
            said = f"its origin '{self.project.origin}'" if self.project.origin else "REFI-QDA"
            self.warn(f"{label}: positions read as {UNIT_NAMES[choice.unit]}, not "
                      f"{UNIT_NAMES[choice.prior]} as {said} implies: "
                      f"{scores[choice.unit]}% of selection boundaries fall on word edges that "
                      f"way, {scores[choice.prior]}% the other")
        elif choice.differs and choice.unit == UTF16:
            self.warn(f"{label}: positions read as UTF-16 code units, as "
                      f"'{self.project.origin}' counts them ({scores[UTF16]}% of selection "
                      f"boundaries on word edges; {scores[CODE_POINTS]}% as code points)")
        starts, ends = offset_map(original, stored)
        if tally.unit == UTF16:
            table = utf16_table(original)

            def convert(start, end, _name):
                span = from_utf16(table, start, end)
                return to_stored(starts, ends, *span) if span else _OUTSIDE
            return convert, len(table) - 1

        def convert(start, end, _name):
            return to_stored(starts, ends, start, end) if end <= len(original) else _OUTSIDE
        return convert, len(original)

    def _selection(self, element, span, given, label, tally):
        guid = guid_of(element.get("guid"))
        name = clean_name(element.get("name"))
        where = f"{label}: selection '{_selection_label(element)}'"
        codings = len(children(element, "Coding"))
        start, end, length = given
        if span is _OUTSIDE:
            self.warn(f"{where}: [{start}, {end}) is not a span of the source text "
                      f"(0..{length}); skipped")
            tally.skipped["outside the text"] += codings
            return None
        if span is None:
            self.warn(f"{where}: [{start}, {end}) covers no text once the source is "
                      "normalised (or was not found in the .docx text); skipped")
            tally.skipped["covers no text"] += codings
            return None
        for child in children(element):
            if local(child.tag) not in ("Description", "Coding", "NoteRef"):
                self.warn.skip(child, " in a selection")
        return RefiSelection(guid=guid, name=name, start=span[0], end=span[1],
                          user=element.get("creatingUser"),
                          created=moment(element.get("creationDateTime")),
                          codings=[self._coding(c) for c in children(element, "Coding")],
                          notes=[guid_of(r.get("targetGUID"))
                                 for r in children(element, "NoteRef")],
                          description=text_of(first_child(element, "Description")).strip())

    def _coding(self, element):
        ref = first_child(element, "CodeRef")
        return (guid_of(element.get("guid")), guid_of(ref.get("targetGUID")) if ref is not None
                else None, element.get("creatingUser"),
                moment(element.get("creationDateTime")),
                [guid_of(r.get("targetGUID")) for r in children(element, "NoteRef")])

    def _source_bytes(self, location, suffix):
        """(bytes, where) of a source file named by a REFI path, or None when it is missing.

        internal:// is a member of the archive's sources/ folder (beside a bare .qde: a
        sources/ folder there); relative:// is under the project's basePath or beside the
        file; file:// is absolute (also looked for by name beside the file). A path with no
        scheme (qc writes its corpus file's path, `board_2017.txt`, and puts the file under
        sources/) is looked for in the archive first (sources/, any case, then the archive's
        root), then as relative://. Files outside an archive are read only from the folder
        holding the project file (or below it), and only regular files with the expected
        suffix (.txt, .docx) under the size limit.
        """
        if not location or not location.strip():
            return None
        location = location.strip()
        scheme, separator, rest = location.partition("://")
        if not separator:
            name = unquote(location).replace("\\", "/").lstrip("/")
            if self.archive is not None:
                member = self.archive.find(f"sources/{name}") or self.archive.find(name)
                if member is not None:
                    return self.archive.read(member.name), f"{self.path}/{member.name}"
            scheme, rest = "bare", location
        scheme = scheme.lower()
        if scheme == "internal":
            name = unquote(rest).lstrip("/")
            if self.archive is not None:
                member = self.archive.find(f"sources/{name}")
                return (self.archive.read(member.name), f"{self.path}/{member.name}") \
                    if member else None
            if "/" in name or "\\" in name or ".." in name:
                return None
            candidates = [self.path.parent / folder / name for folder in ("sources", "Sources")]
        elif scheme in ("relative", "bare"):
            relative = unquote(rest).lstrip("/")
            bases = [Path(self.base_path)] if self.base_path else []
            bases.append(self.path.parent)
            if scheme == "bare":  # beside a bare .qde, qc's sources/ folder
                bases += [self.path.parent / "sources", self.path.parent / "Sources"]
            candidates = [base / relative for base in bases]
        elif scheme == "file":  # the same file name beside the project file, if it is there
            candidates = [Path(unquote(urlparse(location).path)),
                          self.path.parent / Path(unquote(urlparse(location).path)).name]
        else:
            return None
        folder = self.path.parent.resolve()
        for candidate in candidates:
            try:
                # A project file names paths itself: read only files in the folder it came in,
                # never elsewhere on this machine (a hostile file could name any local file).
                if not candidate.resolve().is_relative_to(folder):
                    continue
                if candidate.suffix.lower() == suffix and candidate.is_file() and \
                        candidate.stat().st_size <= MAX_FILE_BYTES:
                    data = candidate.read_bytes()
                    self.warn(f"read {candidate} from the file system ({location})")
                    return data, str(candidate)
            except OSError:
                continue
        return None


_OUTSIDE = object()  # a selection's positions fall outside its source's text


def _selection_label(element):
    return quote_name(clean_name(element.get("name")), 40) or guid_of(element.get("guid"))


def _file_name(location):
    """The file name a REFI path ends in (`internal://a/b.txt` -> 'b.txt'), or None."""
    if not location or not location.strip():
        return None
    rest = location.strip().partition("://")[2] or location.strip()
    name = unquote(rest).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return clean_name(name) or None


def decode(data, where="source"):
    """REFI text is UTF-8; a byte-order mark is not a character of the text (not counted)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = decode_bytes(data, where).text
        return text.lstrip("\ufeff")
