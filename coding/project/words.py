"""Which words people used (issue 16, item 6): the lemmas of the project's lemma index (the
pipeline's, stored at ingest; see project/search.py) that fall in the participants' turns, or
in the passages coded with some codes, without stop words, grouped by case or by a case
attribute's value, and counted in analysis/words.py. No NLP runs for a project whose lemma
index is built: the words of 800,000 are counted from it in about a second."""

from bisect import bisect_right
from collections import Counter

from sqlalchemy import select

from ..analysis.words import word_frequencies
from ..readers import participants as case_sheets
from ..records import COUNTED_STATUSES, PARTICIPANT, Turn
from ..storage.schema import (AttributeRow, CaseRow, CodeRow, CodingRow, DocumentRow, LemmaRow,
                              TurnRow)
from ..suggestions.pipeline import lemma_spans, load_pipeline

NO_VALUE = "(no value)"


class WordUseCases:
    """Mixed into Project (self.store, self.index_lemmas)."""

    def words(self, by="case", codes=None, statuses=COUNTED_STATUSES, top=30, role=PARTICIPANT):
        """The most frequent words of each group: `by` is "case" or a case attribute's name
        (its values are the groups). By default the words of the participants' turns (`role`;
        None for everyone's); with `codes` (code ids: a parent and its children, as the
        caller chooses), the words of the passages coded with them (`statuses`). Words are
        lemmas ("supported" counts as "support"), without stop words, numbers or symbols.
        Returns a DataFrame (group, word, count, per_1000), see
        analysis.words.word_frequencies.

        >>> project.words(by="role", codes=["trust"])
        """
        self.index_lemmas()  # once, for documents stored before the index (not read-only)
        with self.store.reading() as session:
            groups = _word_groups(session, by)
            owners = dict(session.execute(select(DocumentRow.id, DocumentRow.case_id)).all())
            ranges = _coded_ranges(session, codes, statuses) if codes is not None \
                else _turn_ranges(session, role)
            indexed, found = set(), []
            for document_id, index in session.execute(
                    select(LemmaRow.document_id, LemmaRow.spans).where(
                        LemmaRow.document_id.in_(list(ranges)))):
                indexed.add(document_id)
                found += [(document_id, lemma, list(zip(spans[::2], spans[1::2])))
                          for lemma, spans in index.items()]
            for document in session.scalars(select(DocumentRow).where(  # read-only projects
                    DocumentRow.id.in_(list(set(ranges) - indexed)))):
                by_lemma = {}
                for start, end, lemma in lemma_spans(document.text, [
                        Turn(t.start, t.end, role=t.role) for t in document.turns]):
                    by_lemma.setdefault(lemma, []).append((start, end))
                found += [(document.id, lemma, spans) for lemma, spans in by_lemma.items()]
        stop = load_pipeline().Defaults.stop_words
        counts = {}
        for document_id, lemma, spans in found:
            group = groups.get(owners.get(document_id))
            if group is None or lemma in stop or not any(c.isalpha() for c in lemma):
                continue
            starts, ends = ranges[document_id]
            inside = sum(1 for start, end in spans
                         if (i := bisect_right(starts, start) - 1) >= 0 and end <= ends[i])
            if inside:
                counts.setdefault(group, Counter())[lemma] += inside
        return word_frequencies({group: counts[group] for group in sorted(counts, key=str)},
                                top=top)


def _word_groups(session, by):
    """{case id: its group}: the case's name, or its value of the attribute `by`."""
    if by == "case":
        return dict(session.execute(select(CaseRow.id, CaseRow.name)).all())
    values = {case_id: NO_VALUE for case_id in session.scalars(select(CaseRow.id))}
    for attribute in session.scalars(select(AttributeRow).where(AttributeRow.name == by)):
        value = case_sheets.typed_value(attribute.type, attribute.value)
        values[attribute.case_id] = NO_VALUE if value in (None, "") else str(value)
    return values


def _turn_ranges(session, role):
    """{document id: (starts, ends)} of the turns of `role` (all turns when None)."""
    query = select(TurnRow.document_id, TurnRow.start, TurnRow.end).order_by(
        TurnRow.document_id, TurnRow.start)
    if role is not None:
        query = query.where(TurnRow.role == role)
    ranges = {}
    for document_id, start, end in session.execute(query):
        starts, ends = ranges.setdefault(document_id, ([], []))
        starts.append(start)
        ends.append(end)
    return ranges


def _coded_ranges(session, codes, statuses):
    """{document id: (starts, ends)} of the passages coded with `codes`, overlaps merged (a
    word coded twice counts once)."""
    rows = session.execute(select(CodingRow.document_id, CodingRow.start, CodingRow.end)
                           .join(CodeRow, CodingRow.code_id == CodeRow.id)
                           .where(CodeRow.key.in_(list(codes)),
                                  CodingRow.status.in_(list(statuses)))
                           .order_by(CodingRow.document_id, CodingRow.start)).all()
    ranges = {}
    for document_id, start, end in rows:
        starts, ends = ranges.setdefault(document_id, ([], []))
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return ranges
