"""Use cases of the language-model coder (issue 19), mixed into Project (core.py): suggest codes
with a model on an OpenAI-compatible server, score it against a coder, and read back its runs
and every call it made (the audit log, which the export writes as JSON Lines).

>>> report = project.suggest_llm("llama3.1:8b", unit="sentence")
>>> print(report.summary())
>>> project.evaluate_llm("llama3.1:8b", coder="ann")          # like `coding evaluate`
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import select

from ..analysis.evaluation import evaluation_table, overlaps
from ..errors import StoreError
from ..records import COUNTED_STATUSES
from ..storage.schema import CodeRow, CodingRow, DocumentRow, LlmCallRow, LlmRunRow
from ..suggestions.llm import DEFAULT_URL, TEMPLATE, is_loopback
from ..suggestions.pipeline import analyse
from .llm_run import Estimate, LlmReport, LlmSettings, Plan, Run, make_plan
from .writing import document_named

__all__ = ["LlmUseCases", "LlmReport", "LlmSettings", "Estimate", "Plan", "DEFAULT_URL",
           "TEMPLATE", "llm_server_is_local", "llm_in_words", "llm_details"]


def llm_server_is_local(url):
    """True when `url` is this computer (nothing leaves it); the app warns otherwise."""
    return is_loopback(url)


class LlmUseCases:
    """Methods of Project for the language-model coder (self.store, self.coder from Project).
    Options (`**options`) are LlmSettings' fields: url, api_key, allow_remote, parallel,
    context_tokens, template, timeout, retries, backoff, temperature, seed."""

    def llm_plan(self, model, unit="sentence", documents=None, **options):
        """What a run would send (a Plan): requests, how many are answered already, and, for
        a server that is not this computer, what would leave it (`plan.leaving()`). Refuses a
        remote URL without allow_remote=True. Sends nothing."""
        return make_plan(self, LlmSettings(model, unit, **options), self._llm_ids(documents))

    def suggest_llm(self, model, unit="sentence", documents=None, on_plan=None,
                    on_progress=None, on_estimate=None, warn=print, **options):
        """Code the documents (all, or those named) with a language model and queue what it
        quoted as suggestions (origin `llm:MODEL`), never over a span already coded. Answers
        stored before are read back instead of asked again. `on_plan(Plan)` before the first
        request, `on_progress(done, total)`, `on_estimate(Estimate)` once a few calls are
        timed; `warn` is told of each unit skipped. Returns an LlmReport."""
        plan = self.llm_plan(model, unit, documents, **options)
        if on_plan:
            on_plan(plan)
        report, _ = Run(self, plan, "suggest", on_progress, on_estimate, warn).execute()
        return report

    def evaluate_llm(self, model, coder, unit="sentence", on_plan=None, on_progress=None,
                     on_estimate=None, on_report=None, warn=print, **options):
        """Precision, recall, F1, kappa and alpha of a language model against `coder`'s
        accepted and manual codings, on that coder's documents, per unit, as
        Project.evaluate scores the other suggesters (nothing is trained, so no folds). The
        calls are stored (and reused); no suggestion is. Returns the evaluation table, with
        the suggester named `llm:MODEL`."""
        with self.store.reading() as session:
            gold = session.execute(select(
                CodingRow.document_id, CodeRow.key, CodingRow.start, CodingRow.end).join(
                CodeRow).where(CodingRow.coder == coder,
                               CodingRow.status.in_(COUNTED_STATUSES))).all()
            if not gold:
                raise StoreError(f"coder '{coder}' has no accepted or manual codings to "
                                 "evaluate against")
            documents = self._documents_with_turns(session, {g.document_id for g in gold})
        codes = sorted({g.key for g in gold})
        column = {code: j for j, code in enumerate(codes)}
        index, truth = {}, []
        for doc_id, _, text, turns in documents:
            labels = [g for g in gold if g.document_id == doc_id]
            for _, units in analyse(text, turns, unit):
                for u in units:
                    index[(doc_id, u.start, u.end)] = len(truth)
                    truth.append([any(g.key == code and overlaps(u.start, u.end, g.start, g.end)
                                      for g in labels) for code in codes])
        truth = np.array(truth, dtype=bool).reshape(len(truth), len(codes))
        plan = make_plan(self, LlmSettings(model, unit, **options), [d[0] for d in documents])
        if on_plan:
            on_plan(plan)
        report, results = Run(self, plan, "evaluate", on_progress, on_estimate,
                              warn).execute(store=False)
        if on_report:
            on_report(report)
        predicted = np.zeros_like(truth)
        for doc_id, found in results.items():
            for ask, suggestions in found:
                row = index.get((doc_id, ask.start, ask.end))
                for s in suggestions:
                    if row is not None and s.code in column:
                        predicted[row, column[s.code]] = True
        return evaluation_table(truth, {f"llm:{plan.settings.model}": predicted}, codes)

    def llm_runs(self):
        """Every run of the language-model coder, oldest first, as dicts: id, purpose
        (suggest or evaluate), model, url, remote, digest, details, template_path,
        template_sha256, codebook_sha256, unit, context_tokens, temperature, seed, parallel,
        started_at, finished_at, created_by, summary (the LlmReport's counts)."""
        with self.store.reading() as session:
            return [_run_dict(row) for row in session.scalars(
                select(LlmRunRow).order_by(LlmRunRow.id))]

    def llm_calls(self, run=None):
        """Every call to a language model (of one run, or all), oldest first: what was sent
        and what came back, as dicts (id, run, document, unit_start, unit_end, codes,
        attempt, status, error, seconds, model, digest, at, request, response, answer).
        Read in pages, so a long log is never in memory at once."""
        last = 0
        while True:
            with self.store.reading() as session:
                query = select(LlmCallRow, DocumentRow.name).join(
                    DocumentRow, DocumentRow.id == LlmCallRow.document_id, isouter=True).where(
                    LlmCallRow.id > last).order_by(LlmCallRow.id).limit(200)
                if run is not None:
                    query = query.where(LlmCallRow.run_id == int(run))
                rows = session.execute(query).all()
                page = [_call_dict(call, name) for call, name in rows]
            if not page:
                return
            yield from page
            last = page[-1]["id"]

    def _llm_ids(self, documents):
        if documents is None:
            return None
        with self.store.reading() as session:
            return {document_named(session, name, self.store.label).id for name in documents}


def _aware(when):
    return when if when is None or when.tzinfo else when.replace(tzinfo=UTC)


def _run_dict(row):
    return {"id": row.id, "purpose": row.purpose, "model": row.model, "url": row.url,
            "remote": row.remote, "digest": row.digest, "details": row.details or {},
            "template_path": row.template_path, "template_sha256": row.template_sha256,
            "codebook_sha256": row.codebook_sha256, "unit": row.unit,
            "context_tokens": row.context_tokens, "temperature": row.temperature,
            "seed": row.seed, "parallel": row.parallel, "started_at": _aware(row.started_at),
            "finished_at": _aware(row.finished_at), "created_by": row.created_by,
            "summary": row.summary or {}}


def _call_dict(call, document):
    return {"id": call.id, "run": call.run_id, "document": document,
            "unit_start": call.unit_start, "unit_end": call.unit_end, "codes": call.codes,
            "attempt": call.attempt, "status": call.status, "error": call.error,
            "seconds": call.seconds, "model": call.model, "digest": call.digest,
            "at": _aware(call.created_at).isoformat(), "request": call.request,
            "response": call.response, "answer": call.answer}


def _run_of(runs, model, at):
    """The suggesting run of `model` that made a suggestion stored at `at`: the one whose
    time holds it, else the newest before it, else the newest."""
    mine = [r for r in runs or () if r["model"] == model and r["purpose"] == "suggest"]
    if not mine:
        return None
    at = _aware(at) if isinstance(at, datetime) else None
    if at is not None:
        for run in reversed(mine):
            if run["started_at"] <= at and (run["finished_at"] is None or
                                            at <= run["finished_at"]):
                return run
        before = [r for r in mine if r["started_at"] <= at]
        if before:
            return before[-1]
    return mine[-1]


def _when(at):
    at = at.astimezone()
    if at.date() == datetime.now().astimezone().date():
        return f"at {at:%H:%M}"
    return f"on {at:%d %b %Y} at {at:%H:%M}"


def llm_in_words(model, runs=None, at=None):
    """'the local model llama3.1:8b (run at 14:02)'; 'the model gpt-4o on api.openai.com
    (run on 03 Mar 2025 at 14:02)' for a server elsewhere. `runs` is Project.llm_runs(),
    `at` when the suggestion was stored."""
    run = _run_of(runs, model, at)
    if run is None:
        return f"the language model {model}"
    where = "the local model" if not run["remote"] else "the model"
    server = "" if not run["remote"] else f" on {urlsplit(run['url']).hostname}"
    return f"{where} {model}{server} (run {_when(run['started_at'])})"


def llm_details(model, runs=None, at=None):
    """The provenance of a language model's suggestion, a fact a line: the model and its
    digest, the server, the run, the prompt template and codebook hashes, temperature and
    seed. Empty when the run is not known."""
    run = _run_of(runs, model, at)
    if run is None:
        return ""
    details = run["details"] or {}
    size = " ".join(str(details[k]) for k in ("parameter_size", "quantization_level")
                    if details.get(k))
    lines = [f"model {model}" + (f", {size}" if size else "") +
             (f", digest {run['digest']}" if run["digest"] else ", no digest reported"),
             f"server {run['url']} ({'elsewhere' if run['remote'] else 'this computer'})",
             (f"run {run['id']} {_when(run['started_at'])} by {run['created_by']}, per "
              f"{run['unit']}, temperature {run['temperature']:g}, seed {run['seed']}"),
             f"prompt template {run['template_path']} (sha256 {run['template_sha256'][:12]}…)",
             f"codebook as sent: sha256 {run['codebook_sha256'][:12]}…"]
    return "\n".join(lines)
