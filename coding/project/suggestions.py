"""Use cases for suggestions: train, suggest, batch, the review queue, and evaluation.

Mixed into Project (core.py).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import delete, func, select

from ..analysis.evaluation import overlaps
from ..errors import StoreError, SuggesterError
from ..readers.transcripts import expand_paths
from ..records import ACCEPTED, COUNTED_STATUSES, REJECTED, SUGGESTED
from ..storage.backup import auto_backup
from ..storage.schema import CodeRow, CodingRow, DocumentRow, EventRow, ModelRow, utcnow
from ..suggestions.batch import BatchConfig, DaskScheduler, Job, run_jobs, stored_job  # noqa: F401
from ..suggestions.pipeline import UNITS, analyse
from ..suggestions.suggester import DEFAULT_MIN_SCORE
from ..suggestions.calibration import calibrate
from ..suggestions.combination import WEIGHTS, combined_name
from ..suggestions.crossval import Labelled, out_of_fold_scores
from ..suggestions.semantic import SEMANTIC_NAME, SemanticSuggester
from ..suggestions.tfidf import DEFAULT_C, MODEL_NAME, TfidfSuggester
from .llm import llm_in_words
from .lookup import CaseOwners
from .writing import document_named, store_parsed, store_suggestions, turn_records

ORDERS = ("uncertainty", "document", "score")
CALIBRATION = "calibration"  # the ModelRow name of the thresholds a training chose


@dataclass
class BatchReport:
    added: list = field(default_factory=list)       # document names ingested
    unchanged: list = field(default_factory=list)   # already stored (same content)
    failed: list = field(default_factory=list)      # error messages
    suggestions: int = 0                            # new suggestions stored
    words: int = 0


@dataclass(frozen=True)
class Retraining:
    """What retraining did to the review queue (refresh_suggestions), and why."""

    model: dict             # the new model's training summary (Project.train)
    previous: dict | None   # the model it replaced, or None
    before: int             # suggestions waiting before
    dropped: int            # the old model's pending suggestions, dropped
    added: int              # suggestions made afresh
    again: int              # of those, the same code on the same passage as one dropped
    after: int              # suggestions waiting now

    def summary(self):
        """'Retrained on 57 coded sentences, 9 more than last time. The queue went from 412
        to 398 suggestions: ...'."""
        coded = self.model.get("positive_units", 0)
        text = f"Retrained on {_plural(coded, 'coded ' + self.model.get('unit', 'sentence'))}"
        if self.previous is not None:
            more = coded - self.previous.get("positive_units", 0)
            text += f", {more:,} more than last time" if more > 0 else \
                f", {-more:,} fewer than last time" if more < 0 else \
                ", as many as last time (it learned from the rejections since)"
        text += f". The queue went from {self.before:,} to {_plural(self.after, 'suggestion')}" \
            if self.before != self.after else \
            f". The queue still holds {_plural(self.after, 'suggestion')}"
        return (f"{text}: the old model's {self.dropped:,} were dropped and {self.added:,} made "
                f"from what it has learned now ({self.again:,} of them as before).")


def _plural(n, noun):
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def origin_in_words(origin, models, llm_runs=None, at=None):
    """Where a suggestion came from, as a researcher would say it: 'model:tfidf-logreg@72ab…'
    -> 'the model trained at 14:02 on 423 coded sentences'; 'rule:keywords' -> "the
    codebook's keywords"; 'llm:llama3.1:8b' -> 'the local model llama3.1:8b (run at 14:02)';
    joined by 'and'. `models` is Project.models(), `llm_runs` Project.llm_runs(), `at` when
    the suggestion was stored (which run made it)."""
    said = []
    for part in str(origin or "").split("+"):
        kind, _, name = part.partition(":")
        if kind == "llm":
            said.append(llm_in_words(name, llm_runs, at))
        elif kind == "rule":
            said.append("words of the codebook's definitions" if name == "derived" else
                        "the codebook's keywords")
        elif kind in ("model", "semantic"):
            what = "model" if kind == "model" else "semantic suggester"
            found = models.get(name.rpartition("@")[2])
            if found is None:
                said.append(f"an earlier {what}")
                continue
            trained = found["trained_at"].astimezone()
            when = trained.strftime("%H:%M") \
                if trained.date() == datetime.now().astimezone().date() \
                else f"{trained:%d %b %Y} at {trained:%H:%M}"
            said.append(f"the {what} trained {'at' if ' ' not in when else 'on'} {when} on "
                        f"{_plural(found['positive_units'], 'coded ' + found['unit'])}")
        elif part:
            said.append(part)
    return " and ".join(said) or "an unknown source"


class SuggestionUseCases:
    """Methods of Project that deal with suggestions (self.store, self.coder from Project)."""

    # -- training ---------------------------------------------------------------------------
    def labelled_units(self, unit="sentence", coder=None, documents=None):
        """The units of every document with codings (or those of `documents`, ids) and what
        was decided there: positives from accepted and manual codings (of `coder`, or of
        anyone), negatives from rejected suggestions. A crossval.Labelled."""
        with self.store.reading() as session:
            query = select(CodingRow.document_id, CodeRow.key, CodingRow.start, CodingRow.end,
                           CodingRow.status).join(CodeRow).where(
                CodingRow.status.in_([*COUNTED_STATUSES, REJECTED]))
            if coder is not None:
                query = query.where((CodingRow.coder == coder) | (CodingRow.status == REJECTED))
            codings = session.execute(query).all()
            ids = {c.document_id for c in codings} if documents is None else set(documents)
            docs = self._documents_with_turns(session, ids)
        return label_units(docs, codings, [c.id for c in self.codebook().codes], unit)

    def train(self, unit="sentence", C=DEFAULT_C, target_precision=None):
        """Train the learning suggesters from accepted and manual codings (positives) and
        rejected suggestions (negatives) on participant units, or from the codebook alone when
        nothing is coded: the TF-IDF model and the semantic suggester. Then calibrate their
        score thresholds on this project's decisions (cross-validated by document; per code
        with at least 20 coded units, shared otherwise; best F1, or the most recall at
        `target_precision`). Saves all as plain data; returns the summary."""
        codebook = self.codebook()
        data = self.labelled_units(unit)
        every = range(len(data.texts))
        model = TfidfSuggester(unit=unit, C=C).fit(codebook, data.examples(every))
        semantic = SemanticSuggester(unit=unit).fit(codebook, data.examples(every, text=True),
                                                    data.contexts)
        state = model.to_state()
        positive_units = int(data.truth.any(axis=1).sum()) if len(data.texts) else 0
        calibration = _calibrations(codebook, data, unit, target_precision) \
            if positive_units and len(set(data.groups)) >= 2 else None
        summary = {"version": state["version"], "unit": unit, "units": len(data.texts),
                   "positive_units": positive_units, "codes": len(state["codes"]),
                   "skipped_codes": state["skipped_codes"], "cold_start": not positive_units,
                   "semantic_version": semantic.version_,
                   "calibrated": calibration is not None}
        with self.store.transaction() as session:
            added = None
            for name, found, row_summary in (
                    (MODEL_NAME, state, summary),
                    (SEMANTIC_NAME, semantic.to_state(), summary),
                    (CALIBRATION, calibration or {}, summary)):
                version = found.get("version") or _digest(found)
                latest = _latest(session, unit, name)
                if latest is None or latest.version != version:
                    row = ModelRow(name=name, version=version, unit=unit, state=found,
                                   summary=row_summary, created_by=self.coder)
                    session.add(row)
                    session.flush()
                    added = added or row
            if added is not None:
                self.store.log(session, self.coder, "train", "model", added.id, **summary)
        return summary

    def models(self):
        """The trained suggestion models by version: {version: {"trained_at", "unit",
        "positive_units" (the coded units it learned from), "units", "by", "name"}}."""
        with self.store.reading() as session:
            return {row.version: {"trained_at": _aware(row.created_at), "unit": row.unit,
                                  "positive_units": (row.summary or {}).get("positive_units", 0),
                                  "units": (row.summary or {}).get("units", 0),
                                  "by": row.created_by, "name": row.name}
                    for row in session.scalars(select(ModelRow).order_by(ModelRow.id))}

    def model_state(self, unit="sentence", train_if_missing=True, name=MODEL_NAME):
        """The newest saved state of a learner (`name`: the TF-IDF model's, SEMANTIC_NAME or
        CALIBRATION), training them all first when there is none and `train_if_missing`."""
        with self.store.reading() as session:
            row = _latest(session, unit, name)
            if row is not None:
                return row.state
        if not train_if_missing:
            return None
        self.train(unit)
        return self.model_state(unit, train_if_missing=False, name=name)

    def calibration(self, unit="sentence"):
        """The thresholds the last training chose ({"model", "semantic", "model+semantic"}:
        calibration.calibrate's result each), or None (cold start: every code uses the
        default minimum score)."""
        return self.model_state(unit, train_if_missing=False, name=CALIBRATION) or None

    # -- suggesting -------------------------------------------------------------------------
    def _batch_config(self, rules, model, unit, min_score, warn=print, semantic=False):
        if unit not in UNITS:
            raise SuggesterError(f"unit must be one of {', '.join(UNITS)}, got '{unit}'")
        if not rules and not model and not semantic:
            raise SuggesterError("choose at least one suggester: rules, model or semantic")
        codebook = self.codebook()
        learners = {name for name, on in (("model", model), ("semantic", semantic)) if on}
        calibrations = self.model_state(unit, name=CALIBRATION) if learners else None
        # Terms derived from definitions help while nothing is coded; once the learners have
        # learned from decisions they do better alone (themes study: macro-F1 0.50 without
        # derived rules, 0.39 with them), so the default then leaves them out.
        derive = not learners or not calibrations
        bare = [c.id for c in codebook.codes if not c.keywords and not c.patterns]
        if rules and bare and derive:
            warn(f"{len(bare)} codes have no keywords or patterns, so rules use words of their "
                 f"names, definitions and inclusion text instead: {', '.join(bare)}")
        calibration = None
        if learners and min_score is None:  # no minimum asked for: the calibrated thresholds
            calibration = (calibrations or {}).get(combined_name(learners))
        return BatchConfig(codebook=codebook, unit=unit, rules=rules,
                           model_state=self.model_state(unit) if model else None,
                           semantic_state=self.model_state(unit, name=SEMANTIC_NAME)
                           if semantic else None, calibration=calibration,
                           min_score=DEFAULT_MIN_SCORE if min_score is None else min_score,
                           speaker_settings=self.settings, off=tuple(self.suggestions_off()),
                           derive=derive)

    def suggest(self, rules=True, model=True, unit="sentence", documents=None, min_score=None,
                workers=1, dask=None, on_document=None, warn=print, semantic=None):
        """Suggest codes for stored documents (all, or those named) and queue them for review:
        by default the rules and the model and semantic suggester together (their mean score
        against each code's calibrated threshold; `min_score` sets one threshold for all).
        `semantic` None follows `model` (the learning suggesters on or off together).
        Re-running never duplicates a suggestion or re-suggests a reviewed span. Returns the
        number of new suggestions."""
        config = self._batch_config(rules, model, unit, min_score, warn,
                                    model if semantic is None else semantic)
        with self.store.reading() as session:
            ids = None
            if documents is not None:
                ids = {document_named(session, name, self.store.label).id for name in documents}
            jobs = [stored_job(doc_id, text, turns) for doc_id, _, text, turns
                    in self._documents_with_turns(session, ids)]
        added = 0
        for result in run_jobs(jobs, config, workers, dask, warn=warn):
            if result.error:  # that document gets no suggestions; the others go on
                warn(result.error)
                continue
            with self.store.transaction() as session:
                added += store_suggestions(session, self.store, self.coder, result.key,
                                           result.suggestions)
            if on_document:
                on_document(result)
        return added

    def batch(self, paths, codebook=None, rules=True, model=True, unit="sentence",
              min_score=None, workers=1, dask=None, on_document=None, warn=print,
              semantic=None):
        """Ingest files and suggest codes in one run. Each document is stored together with its
        suggestions in one transaction, so an interrupted batch leaves no half-written document
        and a rerun finishes the rest without duplicates."""
        auto_backup(self.store, "batch")
        if codebook is not None:
            self.import_codebook(codebook)
        config = self._batch_config(rules, model, unit, min_score, warn,
                                    model if semantic is None else semantic)
        jobs = [Job(key=str(path), path=str(path)) for path in expand_paths(paths)]
        report, owners = BatchReport(), CaseOwners()
        for result in run_jobs(jobs, config, workers, dask, warn=warn):
            if result.error:
                report.failed.append(result.error)
            else:
                with self.store.transaction() as session:
                    outcome, count = store_parsed(session, self.store, self.coder,
                                                  result.parsed, result.key,
                                                  result.suggestions, owners, result.lemmas)
                for warning in outcome.warnings:  # an encoding chosen, a same-text document
                    warn(warning)
                (report.added if outcome.status == "added" else report.unchanged).append(
                    outcome.document)
                report.suggestions += count
                report.words += result.words
            if on_document:
                on_document(result)
        return report

    def _documents_with_turns(self, session, ids=None):
        query = select(DocumentRow).order_by(DocumentRow.id)
        if ids is not None:
            query = query.where(DocumentRow.id.in_(list(ids)))
        return [(d.id, d.name, d.text, [stored_job(0, "", [t]).turns[0] for t in d.turns])
                for d in session.scalars(query)]

    # -- the review queue -------------------------------------------------------------------
    def pending(self, order="uncertainty", code=None, document=None, limit=None, codes=None,
                documents=None, min_score=None):
        """Pending suggestions as a DataFrame, most uncertain first by default (so each
        confirmation teaches the model most), or by document, or by score; of one code or
        document, or of some (`codes`, `documents`: a code group's or document group's);
        with `min_score`, only those scoring at least that.

        Sorting and `limit` happen in the database, so the app's review page builds rows only
        for the suggestions it shows, however long the queue is."""
        if order not in ORDERS:
            raise StoreError(f"order must be one of {', '.join(ORDERS)}")
        uncertainty = 1 - 2 * func.abs(CodingRow.score - 0.5)
        query = select(CodingRow.id).join(DocumentRow).join(CodeRow).where(
            CodingRow.status == SUGGESTED)
        if code is not None:
            query = query.where(CodeRow.key == code)
        if document is not None:
            query = query.where(DocumentRow.name == document)
        query = _within(query, codes, documents, min_score)
        query = query.order_by(*{
            "uncertainty": (uncertainty.desc(), CodingRow.id),
            "document": (DocumentRow.name, CodingRow.start, CodeRow.key),
            "score": (CodingRow.score.desc(), CodingRow.id)}[order])
        if limit:
            query = query.limit(int(limit))
        with self.store.reading() as session:
            ids = session.scalars(query).all()
        rank = {coding_id: i for i, coding_id in enumerate(ids)}
        frame = self.codings_frame(statuses=[SUGGESTED], ids=ids if len(ids) <= 20_000 else None)
        frame = frame[frame["coding_id"].isin(rank)]  # (a very long queue is read whole)
        frame = frame.assign(uncertainty=1 - 2 * (frame["score"].astype(float) - 0.5).abs(),
                             _rank=frame["coding_id"].map(rank))
        return frame.sort_values("_rank").drop(columns="_rank").reset_index(drop=True)

    def pending_count(self, code=None, codes=None, documents=None, min_score=None):
        """How many suggestions wait for review (of one code, or some, or all; of some
        documents, or all; scoring at least `min_score`, or any)."""
        query = select(func.count()).select_from(CodingRow).where(CodingRow.status == SUGGESTED)
        if code is not None or codes is not None or documents is not None or \
                min_score is not None:
            query = _within(query.join(DocumentRow).join(CodeRow), codes, documents, min_score)
        if code is not None:
            query = query.where(CodeRow.key == code)
        with self.store.reading() as session:
            return session.scalar(query)

    def review(self, decision, ids=(), code=None, min_score=None, max_score=None):
        """Accept or reject pending suggestions: by coding id, or by code and/or score range
        (code 'all' means every code). Returns the ids changed; one event records the batch."""
        if decision not in ("accept", "reject"):
            raise StoreError("decision must be 'accept' or 'reject'")
        status = ACCEPTED if decision == "accept" else REJECTED
        with self.store.transaction() as session:
            query = select(CodingRow).where(CodingRow.status == SUGGESTED)
            if ids:
                query = query.where(CodingRow.id.in_([int(i) for i in ids]))
            elif code is None and min_score is None and max_score is None:
                raise StoreError("name suggestion ids, a code, or a score range to review")
            if code not in (None, "all"):
                code_row = session.scalars(select(CodeRow).where(CodeRow.key == code)).first()
                if code_row is None:
                    raise StoreError(f"no code '{code}' in the codebook")
                query = query.where(CodingRow.code_id == code_row.id)
            if min_score is not None:
                query = query.where(CodingRow.score >= min_score)
            if max_score is not None:
                query = query.where(CodingRow.score < max_score)
            # FOR UPDATE: on PostgreSQL a second reviewer waits, then no longer sees these rows
            # as pending (SQLite already holds the whole database's write lock here)
            rows = list(session.scalars(query.order_by(CodingRow.id).with_for_update()))
            if ids:
                missing = sorted({int(i) for i in ids} - {r.id for r in rows})
                if missing:
                    raise StoreError("not pending suggestions: " + ", ".join(map(str, missing)))
            now = utcnow()
            previous_coders = {str(r.id): r.coder for r in rows}  # what undo gives back
            for row in rows:
                row.status, row.reviewed_by, row.reviewed_at = status, self.coder, now
                if status == ACCEPTED:
                    row.coder = self.coder  # the reviewer answers for an accepted coding
            if rows:
                self.store.log(session, self.coder, decision, "coding", None,
                               ids=[r.id for r in rows], previous_status=SUGGESTED,
                               previous_coders=previous_coders)
            return [r.id for r in rows]

    def recode(self, coding_id, code):
        """The span is right but the code is not: reject the suggestion (so the model learns the
        old code does not fit) and store an accepted coding of `code` on the same span."""
        with self.store.transaction() as session:
            row = self._pending_row(session, coding_id)
            code_row = session.scalars(select(CodeRow).where(CodeRow.key == str(code))).first()
            if code_row is None:
                raise StoreError(f"no code '{code}' in the codebook")
            now = utcnow()
            row.status, row.reviewed_by, row.reviewed_at = REJECTED, self.coder, now
            new = CodingRow(document_id=row.document_id, code_id=code_row.id, start=row.start,
                            end=row.end, coder=self.coder, status=ACCEPTED,
                            origin=f"recode:{row.origin}", score=row.score,
                            rationale=row.rationale, reviewed_by=self.coder, reviewed_at=now)
            session.add(new)
            session.flush()
            self.store.log(session, self.coder, "recode", "coding", new.id, replaces=row.id,
                           code=code_row.key, previous_status=SUGGESTED)
            return new.id

    def respan(self, coding_id, unit):
        """Widen a pending suggestion to its whole turn, or narrow it to a sentence: the span
        it had before it was widened, else the sentence where it starts. Returns (start, end).
        Refused when another coding of the code already has that exact span."""
        if unit not in UNITS:
            raise StoreError(f"unit must be one of {', '.join(UNITS)}")
        with self.store.reading() as session:  # spaCy runs here, not under the write lock
            row = self._pending_row(session, coding_id)
            seen = (row.start, row.end)
            document = session.get(DocumentRow, row.document_id)
            turn = next((t for t in turn_records(document) if t.start <= row.start < t.end),
                        None)
            text = document.text
        if turn is None:
            raise StoreError(f"suggestion {coding_id} is not inside a turn")
        units = [u for _, found in analyse(text, [turn], unit, roles=None) for u in found]
        span = next(((u.start, u.end) for u in units if u.start <= seen[0] < u.end),
                    (units[0].start, units[0].end) if units else (turn.start, turn.end))
        with self.store.transaction() as session:
            row = self._pending_row(session, coding_id)
            if (row.start, row.end) != seen:
                raise StoreError(f"suggestion {coding_id} was changed since; try again")
            widened = session.scalars(select(EventRow).where(
                EventRow.action == "respan", EventRow.entity_id == row.id).order_by(
                EventRow.id.desc())).first()
            if unit == "sentence" and widened is not None and widened.detail["unit"] == "turn":
                span = tuple(widened.detail["previous"])  # narrowing undoes a widening
            clash = session.scalars(select(CodingRow.id).where(
                CodingRow.document_id == row.document_id, CodingRow.code_id == row.code_id,
                CodingRow.start == span[0], CodingRow.end == span[1],
                CodingRow.id != row.id)).first()
            if clash is not None:
                raise StoreError(f"that {unit} already has this code (coding {clash})")
            previous = (row.start, row.end)
            row.start, row.end = span
            self.store.log(session, self.coder, "respan", "coding", row.id, unit=unit,
                           previous=list(previous), span=list(span))
            return span

    def refresh_suggestions(self, unit="sentence", min_score=None, warn=print):
        """Retrain the model on everything reviewed so far, drop pending model suggestions and
        suggest again, so the queue reflects what the model has just learned. Reviewed codings
        are never touched. Returns a Retraining: how the queue changed, and why."""
        with self.store.reading() as session:
            before = session.scalar(select(func.count()).select_from(CodingRow).where(
                CodingRow.status == SUGGESTED))
            previous = _latest(session, unit, MODEL_NAME)
            previous = dict(previous.summary or {}) if previous is not None else None
        summary = self.train(unit)
        with self.store.transaction() as session:
            stale = session.execute(select(CodingRow.document_id, CodingRow.code_id,
                                           CodingRow.start, CodingRow.end, CodingRow.id).where(
                CodingRow.status == SUGGESTED, CodingRow.origin.like("%model:%") |
                CodingRow.origin.like("%semantic:%"))).all()
            if stale:
                session.execute(delete(CodingRow).where(CodingRow.id.in_(
                    [row[-1] for row in stale])))
                self.store.log(session, self.coder, "drop_stale_suggestions", "coding", None,
                               dropped=len(stale), model=summary["version"])
        added = self.suggest(unit=unit, min_score=min_score, warn=warn)
        with self.store.reading() as session:
            now = session.execute(select(CodingRow.document_id, CodingRow.code_id,
                                         CodingRow.start, CodingRow.end).where(
                CodingRow.status == SUGGESTED)).all()
        again = len({tuple(row[:4]) for row in stale} & {tuple(row) for row in now})
        return Retraining(summary, previous, before, len(stale), added, again, len(now))

    def _pending_row(self, session, coding_id):
        row = session.get(CodingRow, int(coding_id), with_for_update=True)
        if row is None or row.status != SUGGESTED:
            raise StoreError(f"{coding_id} is not a pending suggestion")
        return row


def _latest(session, unit, name):
    """The newest ModelRow of this learner and unit (rows before issue 17 are TF-IDF's)."""
    return session.scalars(select(ModelRow).where(ModelRow.unit == unit, ModelRow.name == name)
                           .order_by(ModelRow.id.desc())).first()


def _digest(state):
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _calibrations(codebook, data, unit, target_precision, folds=3):
    """{learners' name: calibration} from out-of-fold scores on the project's decisions.
    Three folds: within 0.025 of five's thresholds on both evaluation sets, and training (which
    the Review page repeats every 25 decisions) stays a few seconds on the sample study."""
    scores = out_of_fold_scores(codebook, data, unit, folds)
    scores["model+semantic"] = sum(WEIGHTS[name] * scores[name] for name in WEIGHTS) / sum(
        WEIGHTS.values())
    return {name: calibrate(found, data.truth, data.codes, target_precision)
            for name, found in scores.items()}


def label_units(documents, codings, codes, unit):
    """crossval.Labelled from documents (id, name, text, turns) and codings (document_id, key,
    start, end, status): a unit has a code when an accepted or manual coding of it covers the
    unit (evaluation.overlaps); a rejected suggestion there makes it a known negative."""
    column = {code: j for j, code in enumerate(codes)}
    by_document = {}
    for c in codings:
        by_document.setdefault(c.document_id, []).append(c)
    texts, lemmas, groups, truth, rejected, contexts = [], [], [], [], [], []
    for doc_id, _, text, turns in documents:
        labels = [c for c in by_document.get(doc_id, ()) if c.key in column]
        for _, units in analyse(text, turns, unit):
            for u in units:
                contexts.append(text[units[0].start:units[-1].end])  # as semantic.unit_texts
                yes, no = np.zeros(len(codes), bool), np.zeros(len(codes), bool)
                for c in labels:
                    if overlaps(u.start, u.end, c.start, c.end):
                        (no if c.status == REJECTED else yes)[column[c.key]] = True
                texts.append(text[u.start:u.end])
                lemmas.append(u.lemmas)
                groups.append(doc_id)
                truth.append(yes)
                rejected.append(no & ~yes)
    shape = (0, len(codes))
    return Labelled(list(codes), texts, lemmas, groups,
                    np.array(truth).reshape(-1, len(codes)) if truth else np.zeros(shape, bool),
                    np.array(rejected).reshape(-1, len(codes)) if rejected else np.zeros(shape, bool),
                    contexts)


def _aware(when):
    """A stored time as UTC-aware (SQLite gives them back without a zone)."""
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _within(query, codes, documents, min_score=None):
    """A review-queue query (joined to documents and codes) limited to `codes` (code ids),
    `documents` (names) and scores of at least `min_score`, when given."""
    if min_score is not None:
        query = query.where(CodingRow.score >= min_score)
    if codes is not None:
        query = query.where(CodeRow.key.in_(list(codes)))
    if documents is not None:
        query = query.where(DocumentRow.name.in_(list(documents)))
    return query
