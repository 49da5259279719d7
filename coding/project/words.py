"""Which words people used: the pipeline's content lemmas (suggestions/pipeline.py: no stop
words, punctuation or numbers) of the participants' turns, or of the quotes of a code, grouped
by case or by a case attribute's value, counted in analysis/words.py (issue 16, item 6)."""

from sqlalchemy import select

from ..analysis.words import word_frequencies
from ..readers import participants as case_sheets
from ..records import COUNTED_STATUSES, PARTICIPANT, Turn
from ..storage.schema import AttributeRow, CaseRow, CodeRow, CodingRow, DocumentRow
from ..suggestions.pipeline import analyse
from .writing import turn_records

NO_VALUE = "(no value)"


class WordUseCases:
    """Mixed into Project (self.store, self.codebook_or_none)."""

    def words(self, by="case", codes=None, statuses=COUNTED_STATUSES, top=30, role=PARTICIPANT):
        """The most frequent words of each group: `by` is "case" or a case attribute's name
        (its values are the groups). By default the words of the participants' turns (`role`;
        None for everyone's); with `codes` (code ids, a parent with its children as the
        caller chooses), the words of those codes' quotes. Returns a DataFrame (group, word,
        count, per_1000), see analysis.words.word_frequencies.

        >>> project.words(by="role", codes=["trust"])
        """
        with self.store.reading() as session:
            groups = self._word_groups(session, by)
            spans = {}
            if codes is None:
                for document in session.scalars(select(DocumentRow)):
                    spans[document.id] = (document.text, turn_records(document))
            else:
                rows = session.execute(select(CodingRow.document_id, CodingRow.start,
                                              CodingRow.end)
                                       .join(CodeRow, CodingRow.code_id == CodeRow.id)
                                       .where(CodeRow.key.in_(list(codes)),
                                              CodingRow.status.in_(list(statuses)))
                                       .order_by(CodingRow.document_id, CodingRow.start)).all()
                texts = dict(session.execute(select(DocumentRow.id, DocumentRow.text).where(
                    DocumentRow.id.in_({row[0] for row in rows}))).all()) if rows else {}
                for document_id, start, end in rows:
                    spans.setdefault(document_id, (texts[document_id], []))[1].append(
                        Turn(start, end))
            owners = dict(session.execute(select(DocumentRow.id, DocumentRow.case_id)).all())
        lemmas = {}
        for document_id, (text, turns) in spans.items():
            group = groups.get(owners.get(document_id))
            if group is None:
                continue
            roles = (role,) if codes is None and role is not None else None
            found = lemmas.setdefault(group, [])
            for _, units in analyse(text, turns, "turn", roles=roles):
                for unit in units:
                    found.extend(unit.lemmas)
        ordered = {group: lemmas[group] for group in sorted(lemmas, key=str)}
        return word_frequencies(ordered, top=top)

    def _word_groups(self, session, by):
        """{case id: its group}: the case's name, or its value of the attribute `by`."""
        if by == "case":
            return dict(session.execute(select(CaseRow.id, CaseRow.name)).all())
        values = {case_id: NO_VALUE for case_id in session.scalars(select(CaseRow.id))}
        for attribute in session.scalars(select(AttributeRow).where(AttributeRow.name == by)):
            value = case_sheets.typed_value(attribute.type, attribute.value)
            values[attribute.case_id] = NO_VALUE if value in (None, "") else str(value)
        return values
