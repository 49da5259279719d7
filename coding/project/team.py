"""Use cases for teams: agreement between coders (people or suggesters), the reliability of a
parent's children read as one variable, merging another coder's copy of the project, and
resolving disagreements into consensus codings."""

from dataclasses import replace

import pandas as pd
from sqlalchemy import select

from ..analysis import agreement as stats
from ..analysis import reliability
from ..analysis.evaluation import overlaps
from ..errors import StoreError
from ..records import ACCEPTED, COUNTED_STATUSES, PARTICIPANT, REJECTED
from ..storage.backup import auto_backup, before_upgrade
from ..storage.schema import CodeRow, CodingRow, DocumentRow
from ..storage.store import Store
from ..suggestions.pipeline import analyse
from .writing import add_codings, document_named, turn_records

CONSENSUS = "consensus"
DECISIONS = ("keep_a", "keep_b", "both", "neither")


class TeamUseCases:
    """Mixed into Project; needs self.store, self.coder and the Project reading methods."""

    def agreement_data(self, coders, unit="sentence", codes=None, documents=None,
                       roles=(PARTICIPANT,)):
        """UnitData (see agreement.unit_data) for these coders over the documents any of
        them coded (or those named), participant turns by default."""
        if len(coders) < 2:
            raise StoreError("agreement needs at least two coders")
        if unit not in stats.UNITS:
            raise StoreError(f"unit must be one of {', '.join(stats.UNITS)}")
        frame = self._coder_codings(coders)
        if documents is not None:
            frame = frame[frame["document"].isin(documents)]
        missing = [c for c in coders if c not in set(frame["coder"])]
        if missing:
            known = sorted(set(self.codings_frame(statuses=None)["coder"]))
            raise StoreError(f"no codings by {', '.join(missing)} "
                             f"(coders here: {', '.join(known)}; machine coders: model, rules)")
        codebook = self.codebook()
        chosen = codes or [c.id for c in codebook.walk() if c.id in set(frame["code"])]
        unknown = [c for c in chosen if codebook.get(c) is None]
        if unknown:
            raise StoreError(f"no code {', '.join(unknown)} in the codebook")
        names = documents or sorted(set(frame["document"]))
        return stats.unit_data(self._unit_spans(names, unit, roles), frame, list(coders),
                               chosen, unit)

    def agreement(self, coders, unit="sentence", codes=None, documents=None,
                  roles=(PARTICIPANT,), coded_only=None):
        """Per code and pooled: units, % agreement, Cohen's kappa (two coders), Krippendorff's
        alpha, for all units and for coded units only (see coding/agreement.py)."""
        data = self.agreement_data(coders, unit, codes, documents, roles)
        return stats.agreement_table(data, coded_only)

    def category_ratings(self, parent, coders, unit="sentence", documents=None,
                         roles=(PARTICIPANT,)):
        """The direct children of `parent` as one variable per unit (agreement.CategoryTable):
        the child each coder applied, "(none)", or "(several)"; missing where a coder did not
        see the document."""
        codebook = self.codebook()
        if codebook.get(parent) is None:
            raise StoreError(f"no code '{parent}' in the codebook")
        children = [code.id for code in codebook.children(parent)]
        if len(children) < 2:
            raise StoreError(f"code '{parent}' has {len(children)} child code"
                             f"{'s' if len(children) != 1 else ''}: --categories needs a parent "
                             "whose children are the values of one variable")
        data = self.agreement_data(coders, unit, codes=children, documents=documents,
                                   roles=roles)
        return stats.category_table(data, children)

    def category_reliability(self, parent, coders, unit="sentence", documents=None,
                             roles=(PARTICIPANT,), metrics=None, level="nominal", weights=None,
                             bootstrap=0, seed=None):
        """reliability.assess over the children of `parent` as one variable (category_ratings):
        the category alpha the literature reports, and the other statistics asked for. The
        ordinal, interval and ratio levels (and weighted kappa) need `ordered: true` on the
        parent in the codebook; they read the children as a scale above "(none)" and leave a
        "(several)" rating out. Warns (Assessment.warnings) when coders applied several
        children to a unit, and when that happened on more than 10 % of the coded units."""
        code = self.codebook().get(parent)
        found = self.category_ratings(parent, coders, unit, documents, roles)
        table, warnings = found.table, []
        scale = level != "nominal" or weights is not None
        if scale and not (code and code.ordered):
            raise StoreError(f"code '{parent}' does not declare its children ordered: add "
                             f"'ordered: true' to it in the codebook (children lowest first) "
                             f"for the {level if level != 'nominal' else 'weighted'} statistics")
        if found.several:
            share = found.several / found.coded
            warnings.append(f"{found.several} of {found.coded} coded units got several children "
                            f"of {parent} from a coder ({share:.0%}); "
                            + ("left out as missing at this level" if scale else
                               f"{stats.SEVERAL} is a value of its own"))
            if share > 0.10:
                warnings.append(f"more than 10 % of the coded units got several children of "
                                f"{parent}: --categories is meant for children that exclude "
                                "each other; read the per-code figures instead")
        order = [stats.NONE, *found.children]
        if scale:
            table = table.mask(table == stats.SEVERAL, None)
        elif found.several:
            order.append(stats.SEVERAL)
        documents_seen = len({unit_name.rsplit(" [", 1)[0] for unit_name in table.index})
        result = reliability.assess(
            table, metrics, level, weights, order, bootstrap, seed,
            source=f"{len(table)} {unit}s of {'participant' if roles else 'all'} turns in "
                   f"{documents_seen} document{'s' if documents_seen != 1 else ''}",
            notes=(f"The value of a unit is the child of {parent} a coder applied "
                   f"({', '.join(found.children)}), none, or several.",))
        return replace(result, warnings=tuple(warnings) + result.warnings)

    def _coder_codings(self, coders):
        """The codings of each coder: people's accepted and manual ones; for `model`, `rules`,
        `semantic` and `llm`, every suggestion they had a part in (the default's carry both
        model and semantic), whatever its review status."""
        frame = self.codings_frame(statuses=None)
        parts = []
        for coder in coders:
            prefix = stats.MACHINE_CODERS.get(coder)
            if prefix:
                mine = frame[frame["origin"].str.contains(prefix, regex=False, na=False)]
            else:
                mine = frame[(frame["coder"] == coder) & frame["status"].isin(COUNTED_STATUSES)]
            parts.append(mine.assign(coder=coder))
        return pd.concat(parts, ignore_index=True) if parts else frame.head(0)

    def _unit_spans(self, names, unit, roles):
        documents = []
        for name in names:
            with self.store.reading() as session:
                document = document_named(session, name, self.store.label)
                text, turns = document.text, turn_records(document)
            chosen = [t for t in turns if not roles or t.role in roles]
            if unit == "char":
                spans = [(t.start, t.end) for t in chosen]
            else:
                spans = [(u.start, u.end) for _, units in analyse(text, chosen, unit, None)
                         for u in units]
            documents.append((name, text, spans))
        return documents

    # -- consensus --------------------------------------------------------------------------
    def resolve(self, code, document, start, end, decision, coders, consensus=CONSENSUS):
        """Record the team's decision for one disagreement (a unit [start, end) of a document,
        for a code) as the consensus coder's coding: keep coder A's codings there, B's, both,
        or neither (a rejected consensus coding marks "not this code"). Logged; returns the
        new coding ids."""
        if decision not in DECISIONS:
            raise StoreError(f"decision must be one of {', '.join(DECISIONS)}")
        a, b = coders
        frame = self._coder_codings([a, b])
        here = frame[(frame["document"] == document) & (frame["code"] == code)
                     & (frame["start"] < end) & (frame["end"] > start)]
        keep = {"keep_a": [a], "keep_b": [b], "both": [a, b], "neither": []}[decision]
        spans = sorted({(int(r.start), int(r.end)) for r in here.itertuples() if r.coder in keep})
        status = ACCEPTED
        if not spans:
            spans, status = [(start, end)], REJECTED
        with self.store.transaction() as session:
            doc = document_named(session, document, self.store.label)
            code_row = session.scalars(select(CodeRow).where(CodeRow.key == code)).first()
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook")
            rows = [CodingRow(document_id=doc.id, code_id=code_row.id, start=s, end=e,
                              coder=consensus, status=status, origin=f"consensus:{decision}",
                              reviewed_by=self.coder) for s, e in spans]
            session.add_all(rows)
            session.flush()
            self.store.log(session, self.coder, "resolve", "coding", rows[0].id, code=code,
                           document=doc.name, start=start, end=end, decision=decision,
                           coders=[a, b], consensus=consensus, ids=[r.id for r in rows])
            return [r.id for r in rows]

    def open_disagreements(self, coders, unit, code, consensus=CONSENSUS):
        """The units where two coders differ on a code (agreement.disagreements), less the units
        already resolved: a consensus coding of the code that is the unit or marks it (the
        `overlaps` rule; resolve stores the kept coder's span, which may be wider than the
        unit). What the Agreement page lists to decide."""
        table = stats.disagreements(self.agreement_data(list(coders), unit, codes=[code]), code)
        done = {}
        for document, start, end in self.resolved_units(code, consensus):
            done.setdefault(document, []).append((int(start), int(end)))
        open_ = [not any(overlaps(row.start, row.end, s, e) for s, e in done.get(row.document, ()))
                 for row in table.itertuples()]
        return table[open_].reset_index(drop=True) if len(table) else table

    def resolved_units(self, code, consensus=CONSENSUS):
        """(document, start, end) of consensus codings of a code: units already decided."""
        frame = self.codings_frame(statuses=None)
        done = frame[(frame["coder"] == consensus) & (frame["code"] == code)]
        return list(zip(done["document"], done["start"], done["end"]))

    # -- merging another coder's copy -------------------------------------------------------
    def merge_codings_from(self, other):
        """Bring in the codings (with their coders, statuses and memos on them) of another
        project file holding the same documents, matched by name and content (or by content alone
        where only one document on each side has it). Codes are matched
        by id; a code this project lacks stops the merge (nothing stored). Merging twice
        adds nothing. Returns (added, skipped, documents matched)."""
        with type(self)(Store.open(other, before_upgrade)) as source:
            theirs = source.codings_frame(statuses=None)
            their_documents = source.documents()
            their_memos = source.memos()
        coding_memos = their_memos[their_memos["target_type"] == "coding"]
        matched = _match_documents(their_documents, self.documents())
        theirs = theirs[theirs["document"].isin(matched)]
        codes = {c.id for c in self.codebook().codes}
        unknown = sorted(set(theirs["code"]) - codes)
        if unknown:
            raise StoreError(f"{other}: codes not in this project's codebook: "
                             f"{', '.join(unknown)}; import its codebook first; nothing merged")
        auto_backup(self.store, "merge_codings")
        with self.store.transaction() as session:
            docs = {d.name: d.id for d in session.execute(
                select(DocumentRow.name, DocumentRow.id))}
            code_ids = dict(session.execute(select(CodeRow.key, CodeRow.id)).all())
            memos_of = {coding_id: [dict(coder=m.coder, title=m.title, text=m.text)
                                    for m in group.itertuples()]
                        for coding_id, group in coding_memos.groupby("target_id")}
            _, added = add_codings(session, [
                dict(document_id=docs[matched[row.document]], code_id=code_ids[row.code],
                     start=int(row.start), end=int(row.end), coder=row.coder,
                     status=row.status, origin=row.origin,
                     score=None if pd.isna(row.score) else float(row.score),
                     rationale=row.rationale, memos=memos_of.get(row.coding_id, []))
                for row in theirs.itertuples()])
            added, skipped = sum(added), len(added) - sum(added)
            self.store.log(session, self.coder, "merge_codings", "project", None,
                           source=str(other), added=added, skipped=skipped)
        return added, skipped, int(theirs["document"].nunique())


def _match_documents(theirs, mine):
    """{their document name: my document name}: the same name and content, else the same
    content when exactly one document on each side has it (issue 13: identical texts under
    different names are different documents, so content alone decides only when unique)."""
    by_key = {(d.name, d.sha256): d.name for d in mine}
    my_texts, their_texts = {}, {}
    for d in mine:
        my_texts.setdefault(d.sha256, []).append(d.name)
    for d in theirs:
        their_texts.setdefault(d.sha256, []).append(d.name)
    matched = {}
    for d in theirs:
        if (d.name, d.sha256) in by_key:
            matched[d.name] = d.name
        elif len(my_texts.get(d.sha256, ())) == 1 and len(their_texts[d.sha256]) == 1:
            matched[d.name] = my_texts[d.sha256][0]
    return matched
