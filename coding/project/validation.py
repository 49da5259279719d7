"""The validation gate (issue 17, item 4): before suggestions are accepted in bulk, show that
they have been right. Per code and suggester, the precision of suggestions scoring at least s
is estimated from those already reviewed (accepted vs rejected) as the lower bound of a 95 %
Wilson interval; "accept all of code X above s" goes ahead only when that bound reaches the
user's target on enough reviewed suggestions. Recall and kappa come from documents a coder
marked fully coded (there every passage they did not code is a known miss), via `evaluate`.

Also here: marking documents fully coded, and switching a code's suggestions off.

Mixed into Project (core.py).
"""

import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, select

from ..errors import StoreError
from ..records import ACCEPTED, COUNTED_STATUSES, PARTICIPANT, REJECTED, SUGGESTED
from ..storage.schema import (CodeRow, CodingRow, DocumentRow, FullyCodedRow, ProjectRow,
                              TurnRow)
from .writing import document_named

TARGET = 0.9          # the precision a bulk accept must be shown to reach, by default
MIN_REVIEWED = 30     # reviewed suggestions above the threshold the estimate needs
Z95 = 1.959963984540054


def wilson_lower(accepted, reviewed, z=Z95):
    """The lower bound of the Wilson score interval for accepted/reviewed (0 when none)."""
    if reviewed <= 0:
        return 0.0
    p = accepted / reviewed
    centre = p + z * z / (2 * reviewed)
    spread = z * math.sqrt(p * (1 - p) / reviewed + z * z / (4 * reviewed * reviewed))
    return (centre - spread) / (1 + z * z / reviewed)


def suggester_of(origin):
    """Which suggester made a suggestion, from its origin: 'rules', 'model', 'semantic',
    'model+semantic', 'rules+model+semantic', 'llm:MODEL'... (the kinds, in this order)."""
    kinds, llm = [], []
    for part in str(origin or "").split("+"):
        kind, _, rest = part.partition(":")
        if kind == "rule":
            kind = "rules"
        if kind == "llm":
            llm.append("llm:" + rest.split("@")[0])
        elif kind in ("rules", "model", "semantic") and kind not in kinds:
            kinds.append(kind)
    ordered = [k for k in ("rules", "model", "semantic") if k in kinds]
    return "+".join(ordered + llm) or "other"


@dataclass(frozen=True)
class Gate:
    """The gate's verdict for one code (and suggester) at one threshold."""

    code: str
    suggester: str | None
    min_score: float
    reviewed: int           # accepted + rejected suggestions scoring >= min_score
    accepted: int
    pending: int            # suggestions waiting that a bulk accept would take
    target: float
    min_reviewed: int = MIN_REVIEWED
    max_score: float | None = None  # the highest waiting score: reviewed ones above it left out

    @property
    def precision(self):
        return self.accepted / self.reviewed if self.reviewed else float("nan")

    @property
    def lower(self):
        return wilson_lower(self.accepted, self.reviewed)

    @property
    def passes(self):
        return self.reviewed >= self.min_reviewed and self.lower >= self.target

    def explain(self):
        """One plain sentence: why a bulk accept may or may not go ahead."""
        who = f"{self.suggester} suggestions" if self.suggester else "suggestions"
        scoring = f"{_score(self.min_score)} or more" if self.max_score is None else \
            f"{_score(self.min_score)} to {_score(self.max_score)} (as the waiting ones)"
        seen = (f"{self.accepted} of {self.reviewed} reviewed {who} of '{self.code}' scoring "
                f"{scoring} were accepted")
        if not self.reviewed:
            return (f"no reviewed {who} of '{self.code}' score {scoring}: review at least "
                    f"{self.min_reviewed} one by one first")
        bound = f"precision {self.precision:.0%}, at least {self.lower:.0%} with 95% confidence"
        if self.passes:
            return f"{seen} ({bound}): that meets the {self.target:.0%} target"
        missing = []
        if self.reviewed < self.min_reviewed:
            missing.append(f"{self.min_reviewed - self.reviewed} more reviewed (the estimate "
                           f"needs {self.min_reviewed})")
        if self.lower < self.target:
            missing.append(f"a lower bound of {self.target:.0%} (a higher --min-score, or more "
                           "reviews, may reach it)")
        return f"{seen} ({bound}); a bulk accept needs " + " and ".join(missing)


def _score(value):
    """0.8757 -> '0.88', 0.6 -> '0.6', 0 -> '0': scores as people read them."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


class ValidationUseCases:
    """Methods of Project (self.store, self.coder, self.settings)."""

    def gate(self, code, min_score=0.0, target=TARGET, suggester=None):
        """The Gate for accepting every pending suggestion of `code` scoring at least
        `min_score` (of one suggester's, when named; see suggester_of)."""
        rows = self._suggestion_rows(code)
        if suggester is not None:
            rows = [r for r in rows if suggester_of(r.origin) == suggester]
        above = [r for r in rows if r.score is not None and r.score >= min_score]
        waiting = [r.score for r in above if r.status == SUGGESTED]
        # Reviewed suggestions scoring far above every waiting one say little about those:
        # the estimate uses the reviewed ones in the waiting ones' score range.
        top = max(waiting) if waiting else None
        reviewed = [r for r in above if r.status in (ACCEPTED, REJECTED) and r.reviewed_by
                    and (top is None or r.score <= top)]
        return Gate(code=code, suggester=suggester, min_score=float(min_score),
                    reviewed=len(reviewed),
                    accepted=sum(1 for r in reviewed if r.status == ACCEPTED),
                    pending=len(waiting), target=target, max_score=top)

    def validation(self, min_score=0.0, target=TARGET):
        """The gate for every code and suggester that made suggestions: a DataFrame (code,
        suggester, min_score, reviewed, accepted, pending, precision, lower_95, passes,
        better_than_chance, off). better_than_chance is False when the precision's lower bound
        is no higher than the code's prevalence (its coded passages per participant turn: the
        precision of suggesting it at random), None with under 10 reviewed."""
        rows = self._suggestion_rows(None)
        prevalence = self._prevalence()
        off = set(self.suggestions_off())
        out = []
        for key, suggester in sorted({(r.key, suggester_of(r.origin)) for r in rows}):
            g = self.gate(key, min_score, target, suggester)
            chance = None if g.reviewed < 10 else g.lower > prevalence.get(key, 0.0)
            out.append({"code": key, "suggester": suggester, "min_score": min_score,
                        "reviewed": g.reviewed, "accepted": g.accepted, "pending": g.pending,
                        "precision": g.precision, "lower_95": g.lower, "passes": g.passes,
                        "better_than_chance": chance, "off": key in off})
        return pd.DataFrame(out, columns=["code", "suggester", "min_score", "reviewed",
                                          "accepted", "pending", "precision", "lower_95",
                                          "passes", "better_than_chance", "off"])

    def with_precision(self, frame, target=TARGET):
        """`frame` (pending suggestions: code, origin, score) with the gate beside each row:
        precision_lower (the Wilson lower bound over reviewed suggestions of the same code and
        suggester scoring at least as much), precision_reviewed (how many), precision_said
        ('≥ 82 % of 41 reviewed', or 'too few reviewed (3)')."""
        rows = self._suggestion_rows(None) if len(frame) else []
        reviewed = {}
        for r in rows:
            if r.status in (ACCEPTED, REJECTED) and r.reviewed_by:
                reviewed.setdefault((r.key, suggester_of(r.origin)), []).append(
                    (r.score, r.status == ACCEPTED))
        lower, counts, said = [], [], []
        for code, origin, score in zip(frame["code"], frame["origin"], frame["score"]):
            seen = [ok for s, ok in reviewed.get((code, suggester_of(origin)), ())
                    if s >= score]
            bound = wilson_lower(sum(seen), len(seen))
            lower.append(bound)
            counts.append(len(seen))
            said.append(f"≥ {bound:.0%} of {len(seen)} reviewed" if len(seen) >= 10 else
                        f"too few reviewed ({len(seen)})")
        return frame.assign(precision_lower=lower, precision_reviewed=counts,
                            precision_said=said)

    def _prevalence(self):
        """{code: accepted and manual codings of it per participant turn, at most 1}."""
        with self.store.reading() as session:
            turns = session.scalar(select(func.count()).select_from(TurnRow).where(
                TurnRow.role == PARTICIPANT)) or 1
            counts = session.execute(select(CodeRow.key, func.count()).join(CodingRow).where(
                CodingRow.status.in_(COUNTED_STATUSES)).group_by(CodeRow.key)).all()
        return {key: min(1.0, n / turns) for key, n in counts}

    def accept_validated(self, code, min_score, target=TARGET, force=False, suggester=None):
        """Accept every pending suggestion of `code` scoring at least `min_score` when the
        gate passes (or `force`). Returns (Gate, accepted ids); refused with the gate's
        explanation otherwise."""
        gate = self.gate(code, min_score, target, suggester)
        if not gate.passes and not force:
            raise StoreError("not accepted: " + gate.explain() + "; or use --force to accept "
                             "them anyway")
        ids = [r.id for r in self._suggestion_rows(code) if r.status == SUGGESTED and
               r.score is not None and r.score >= min_score and
               (suggester is None or suggester_of(r.origin) == suggester)]
        return gate, (self.review("accept", ids=ids) if ids else [])

    def _suggestion_rows(self, code):
        query = select(CodingRow.id, CodeRow.key, CodingRow.status, CodingRow.score,
                       CodingRow.origin, CodingRow.reviewed_by).join(CodeRow).where(
            CodingRow.status.in_([SUGGESTED, ACCEPTED, REJECTED]),
            CodingRow.origin.is_not(None), CodingRow.score.is_not(None))
        if code is not None:
            query = query.where(CodeRow.key == str(code))
        with self.store.reading() as session:
            if code is not None and session.scalar(
                    select(CodeRow.id).where(CodeRow.key == str(code))) is None:
                raise StoreError(f"no code '{code}' in the codebook")
            return [r for r in session.execute(query).all()
                    if not str(r.origin).startswith(("manual", "recode:", "import"))]

    # -- fully coded documents ----------------------------------------------------------------
    def mark_fully_coded(self, document, done=True):
        """Record that this coder coded `document` completely (or, with done=False, take the
        mark back). Logged; returns whether anything changed."""
        with self.store.transaction() as session:
            doc = document_named(session, document, self.store.label)
            row = session.scalars(select(FullyCodedRow).where(
                FullyCodedRow.document_id == doc.id, FullyCodedRow.coder == self.coder)).first()
            if (row is not None) == bool(done):
                return False
            if done:
                session.add(FullyCodedRow(document_id=doc.id, coder=self.coder))
            else:
                session.execute(delete(FullyCodedRow).where(FullyCodedRow.id == row.id))
            self.store.log(session, self.coder, "fully_coded" if done else "not_fully_coded",
                           "document", doc.id, document=doc.name)
            return True

    def fully_coded_ids(self, coder):
        """Ids of the documents `coder` marked fully coded."""
        with self.store.reading() as session:
            return set(session.scalars(select(FullyCodedRow.document_id).where(
                FullyCodedRow.coder == coder)))

    def fully_coded(self, coder=None):
        """DataFrame (document, coder, marked_at) of documents marked fully coded."""
        query = select(DocumentRow.name, FullyCodedRow.coder, FullyCodedRow.marked_at).join(
            DocumentRow, DocumentRow.id == FullyCodedRow.document_id).order_by(
            DocumentRow.name, FullyCodedRow.coder)
        if coder is not None:
            query = query.where(FullyCodedRow.coder == coder)
        with self.store.reading() as session:
            return pd.DataFrame(session.execute(query).all(),
                                columns=["document", "coder", "marked_at"])

    # -- switching a code's suggestions off -----------------------------------------------------
    def suggestions_off(self):
        """Codes whose suggestions are switched off (no suggester proposes them)."""
        return list(self.settings.get("suggestions_off", []))

    def switch_suggestions(self, code, on):
        """Switch `code`'s suggestions on or off for every suggester. Logged."""
        if str(code) not in {c.id for c in self.codebook().codes}:
            raise StoreError(f"no code '{code}' in the codebook")
        with self.store.transaction() as session:
            row = session.scalars(select(ProjectRow)).one()
            settings = dict(row.settings or {})
            off = [c for c in settings.get("suggestions_off", []) if c != str(code)]
            if not on:
                off.append(str(code))
            settings["suggestions_off"] = sorted(off)
            row.settings = settings
            self.store.log(session, self.coder, "suggestions_on" if on else "suggestions_off",
                           "code", None, code=str(code))
        return sorted(off)


# -- undo (history.REVERSALS) ---------------------------------------------------------------------
def undo_fully_coded(project, session, event):
    """fully_coded / not_fully_coded: the mark as it was before."""
    row = session.scalars(select(FullyCodedRow).where(
        FullyCodedRow.document_id == event.entity_id, FullyCodedRow.coder == event.coder)).first()
    if event.action == "fully_coded" and row is not None:
        session.execute(delete(FullyCodedRow).where(FullyCodedRow.id == row.id))
    elif event.action == "not_fully_coded" and row is None:
        session.add(FullyCodedRow(document_id=event.entity_id, coder=event.coder))


def undo_switch(project, session, event):
    """suggestions_off / suggestions_on: the code's suggestions as they were before."""
    row = session.scalars(select(ProjectRow)).one()
    settings = dict(row.settings or {})
    off = [c for c in settings.get("suggestions_off", []) if c != event.detail["code"]]
    if event.action == "suggestions_on":
        off.append(event.detail["code"])
    row.settings = {**settings, "suggestions_off": sorted(off)}
