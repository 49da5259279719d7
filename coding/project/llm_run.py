"""One run of the language-model coder over stored documents: the plan (each unit of text with
its context, once per group of codes; which answers the project holds already), then the calls
(a few timed first for an estimate, then `parallel` at a time), each stored in the project's
call log as it arrives, and each document's grounded suggestions stored in one transaction.

The stored calls are the cache: an answer whose request (model, template, codes, text,
context, temperature, seed) was answered before is read back, not asked again, so a rerun
costs nothing and an interrupted run resumes. Nothing about the interviews is written outside
the project. Used by project/llm.py; `suggest` stores suggestions, `evaluate` only scores them.
"""

import hashlib
import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from time import monotonic

from sqlalchemy import select

from ..errors import SuggesterError
from ..records import INTERVIEWER, PARTICIPANT
from ..storage.schema import LlmCallRow, LlmRunRow, utcnow
from ..suggestions.llm import (DEFAULT_CONTEXT_TOKENS, DEFAULT_TIMEOUT, DEFAULT_URL,
                               AnswerError, LlmCallError, LlmClient, cache_key, check_url,
                               code_groups, ground, is_loopback, load_template, parse_answer,
                               request_body, request_tokens, shown_url)
from ..suggestions.llm.prompt import answer_tokens
from ..suggestions.pipeline import analyse
from .writing import store_suggestions

QUESTION_CHARS = 1200  # the interviewer's question before a unit, at most (its end kept)
TIMED_CALLS = 3        # calls timed before the estimate
FAILURES_IN_A_ROW = 3  # failed calls in a row that stop a run (the server is in trouble)
CORRECTION = ("Your answer was not the JSON object asked for: {error}. Answer again with only "
              "that JSON object.")


def _plural(n, noun):
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class LlmSettings:
    """What a run is asked to do; `url` and `api_key` default to $CODING_LLM_URL and
    $CODING_LLM_API_KEY, then Ollama's local endpoint."""

    model: str
    unit: str = "sentence"
    url: str | None = None
    api_key: str | None = None
    allow_remote: bool = False
    parallel: int = 1
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    template: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 2
    backoff: float = 0.5
    temperature: float = 0.0
    seed: int | None = 1

    def resolved(self):
        """These settings checked, with the URL and key filled in."""
        if not str(self.model or "").strip():
            raise SuggesterError("name the model to use, e.g. --llm llama3.1:8b")
        if int(self.parallel) < 1:
            raise SuggesterError(f"--llm-parallel must be at least 1, got {self.parallel}")
        url = self.url or os.environ.get("CODING_LLM_URL") or DEFAULT_URL
        return LlmSettings(**{**self.__dict__, "model": self.model.strip(),
                              "url": check_url(url, self.allow_remote),
                              "api_key": self.api_key or os.environ.get("CODING_LLM_API_KEY")})


@dataclass(frozen=True)
class Ask:
    """One request: a unit of a document ([start, end) in its text), its words and context,
    one group of codes, and the key its answer is stored under."""

    document_id: int
    start: int
    end: int
    text: str
    context: str
    group: int
    key: str


@dataclass
class Plan:
    """What a run will send: the asks per document, which are answered already (`cached`:
    key -> (answer, digest)), and the units too long for the context window."""

    settings: LlmSettings
    template: object
    groups: list
    documents: list            # [(document id, name, [Ask])]
    cached: dict
    too_long: list = field(default_factory=list)   # messages, one a unit
    units: int = 0

    @property
    def requests(self):
        return sum(len(asks) for _, _, asks in self.documents)

    @property
    def to_send(self):
        return sum(1 for _, _, asks in self.documents for a in asks if a.key not in self.cached)

    @property
    def remote(self):
        return not is_loopback(self.settings.url)

    def _sent(self):
        return [a for _, _, asks in self.documents for a in asks if a.key not in self.cached]

    def characters(self):
        """Characters of transcript text the requests still to send carry (units with their
        context; a unit asked about with several groups of codes counts once a group)."""
        return sum(len(a.text) + len(a.context) for a in self._sent())

    def leaving(self):
        """What leaves this computer when the server is not on it, in words."""
        sent = self._sent()
        units = len({(a.document_id, a.start) for a in sent})
        documents = len({a.document_id for a in sent})
        unit = self.settings.unit
        turn = ", and its turn" if unit == "sentence" else ""
        return (f"To {shown_url(self.settings.url)}, which is not this computer, go: the words "
                f"of {_plural(units, unit)} from {_plural(documents, 'document')} with their "
                f"context (the interviewer's question before each{turn}), about "
                f"{self.characters():,} characters in {_plural(len(sent), 'request')}, and the "
                f"codebook's {_plural(sum(len(g.codes) for g in self.groups), 'code')} with "
                "their definitions, rules and examples. Speakers are named only as interviewer or participant; no "
                "document names, case attributes or codings are sent.")


def make_plan(project, settings, document_ids=None):
    """The plan of a run over the documents with `document_ids` (all when None)."""
    settings = settings.resolved()
    template = load_template(settings.template)
    codebook = project.codebook()
    groups = code_groups(codebook, template, settings.context_tokens)
    with project.store.reading() as session:
        documents = project._documents_with_turns(session, document_ids)
    plan = Plan(settings, template, groups, [], {})
    for doc_id, name, text, turns in documents:
        asks = []
        for _, units in analyse(text, turns, settings.unit):
            for unit in units:
                plan.units += 1
                asks.extend(_asks(plan, doc_id, name, text, turns, unit))
        plan.documents.append((doc_id, name, asks))
    plan.cached = _cached(project, settings.model,
                          [a.key for _, _, asks in plan.documents for a in asks])
    return plan


def _asks(plan, doc_id, name, text, turns, unit):
    settings, words = plan.settings, text[unit.start:unit.end]
    turn = turns[unit.turn]
    question = next((t for t in reversed(turns[:unit.turn]) if t.role == INTERVIEWER), None)
    parts = []
    if question is not None:
        asked = " ".join(text[question.start:question.end].split())
        if len(asked) > QUESTION_CHARS:
            asked = "…" + asked[-QUESTION_CHARS:]
        parts.append(f"The interviewer asked before it: {asked}")
    whole = text[turn.start:turn.end].strip()
    if settings.unit == "sentence" and whole != words.strip():
        parts.append(f"The {turn.role or PARTICIPANT}'s whole turn: {' '.join(whole.split())}")
    limit = settings.context_tokens - answer_tokens(settings.context_tokens)
    asks = []
    for index, group in enumerate(plan.groups):
        for kept in (parts, parts[:1], []):  # the turn goes first, then the question
            context = "\n".join(kept)
            body = _body(plan, group, words, context)
            if request_tokens(body) <= limit:
                break
        else:
            instead = "code it by sentence, or give" if settings.unit == "turn" else "give"
            plan.too_long.append(f"{name}, characters {unit.start}-{unit.end}: this "
                                 f"{settings.unit} is too long for --llm-context "
                                 f"{settings.context_tokens} (about 4 characters a token); "
                                 f"{instead} a larger --llm-context")
            return []
        asks.append(Ask(doc_id, unit.start, unit.end, words, context, index, cache_key(body)))
    return asks


def _body(plan, group, text, context, structured=True):
    s = plan.settings
    return request_body(plan.template, group, text, context, s.model, s.temperature, s.seed,
                        structured, s.context_tokens)


def _cached(project, model, keys):
    """{key: (answer, digest)} of the newest valid answer stored for each key."""
    found = {}
    with project.store.reading() as session:
        for i in range(0, len(keys), 500):
            rows = session.execute(select(LlmCallRow.cache_key, LlmCallRow.answer,
                                          LlmCallRow.digest).where(
                LlmCallRow.cache_key.in_(keys[i:i + 500]), LlmCallRow.model == model,
                LlmCallRow.status == "ok").order_by(LlmCallRow.id)).all()
            found.update({key: (answer, digest) for key, answer, digest in rows})
    return found


@dataclass
class LlmReport:
    """What a run did (see summary())."""

    run_id: int
    model: str
    url: str
    unit: str
    purpose: str = "suggest"
    documents: int = 0
    units: int = 0
    groups: int = 0
    requests: int = 0
    cached: int = 0
    sent: int = 0           # calls made, retries of malformed answers included
    failed: int = 0         # requests with no answer (timeouts, server errors)
    malformed: int = 0      # requests skipped after a malformed answer and one retry
    too_long: int = 0
    proposed: int = 0       # suggestions grounded in the text
    invented: int = 0       # quotes not found in the text, dropped
    unknown: int = 0        # codes not asked about, dropped
    added: int = 0          # new suggestions stored
    digest: str | None = None
    seconds: float = 0.0

    def summary(self):
        """One paragraph: what was asked, what came back, what was dropped and why."""
        parts = [f"{self.model} coded {_plural(self.units, self.unit)} of "
                 f"{_plural(self.documents, 'document')}" +
                 (f" in {self.groups} groups of codes" if self.groups > 1 else "") +
                 f": {_plural(self.requests, 'request')}, {self.cached:,} answered before, "
                 f"{self.sent:,} sent in {self.seconds:.1f} s"]
        kept = "not stored: an evaluation" if self.purpose == "evaluate" else \
            _plural(self.added, "new suggestion")
        parts.append(f"{_plural(self.proposed, 'coding')} quoted the text ({kept})")
        dropped = []
        if self.invented:
            dropped.append(f"{self.invented:,} quoting words not in the text")
        if self.unknown:
            dropped.append(f"{self.unknown:,} naming a code not asked about")
        if dropped:
            parts.append("dropped " + " and ".join(dropped))
        skipped = []
        if self.malformed:
            skipped.append(f"{self.malformed:,} after a malformed answer twice")
        if self.failed:
            skipped.append(f"{self.failed:,} that got no answer")
        if self.too_long:
            skipped.append(f"{self.too_long:,} units too long for the context window")
        if skipped:
            parts.append("skipped " + ", ".join(skipped) + " (run again to retry them)")
        return "; ".join(parts) + "."


@dataclass(frozen=True)
class Estimate:
    """How long the rest of a run will take, from the calls timed so far."""

    seconds_each: float
    remaining: int
    seconds_left: float


class Run:
    """Executes a Plan. `on_progress(done, total)` after each request, `on_estimate(Estimate)`
    once the first calls are timed, `warn(line)` for each unit skipped."""

    def __init__(self, project, plan, purpose="suggest", on_progress=None, on_estimate=None,
                 warn=print):
        self.project, self.plan, self.purpose = project, plan, purpose
        self.on_progress, self.on_estimate, self.warn = on_progress, on_estimate, warn
        self.settings = plan.settings
        self.origin = f"llm:{self.settings.model}"
        codebook = project.codebook()
        self.paths = {codebook.path(c.id): c.id for c in codebook.codes}
        self.client, self.info, self.failures, self.done = None, {}, 0, 0
        self.pool, self.pending, self.timed, self.estimated = None, {}, None, False

    def execute(self, store=True):
        """Run every ask; returns (LlmReport, {document id: [(Ask, [Suggestion])]})."""
        plan, started = self.plan, monotonic()
        if plan.to_send:
            self._connect()
        digests = [digest for answer, digest in plan.cached.values() if digest]
        digest = self.info.get("digest") or (max(set(digests), key=digests.count)
                                             if digests else None)
        self.report = LlmReport(0, self.settings.model, shown_url(self.settings.url),
                                self.settings.unit, self.purpose, len(plan.documents), plan.units,
                                len(plan.groups), plan.requests, digest=digest,
                                too_long=len(plan.too_long))
        for line in plan.too_long:
            self.warn(line)
        self.report.run_id = self._start(digest)
        results = {}
        # not `with`: leaving it waits for the calls in flight, and Ctrl+C should not
        self.pool = ThreadPoolExecutor(max_workers=self.settings.parallel)
        try:
            for doc_id, name, asks in plan.documents:
                found = self._document(doc_id, name, asks)
                results[doc_id] = found
                if store:
                    with self.project.store.transaction() as session:
                        self.report.added += store_suggestions(
                            session, self.project.store, self.project.coder, doc_id,
                            [s for _, suggestions in found for s in suggestions])
        except BaseException as exc:  # an interruption or a fatal error: the run row says so
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._finish(started, stopped=str(exc) or type(exc).__name__)
            raise
        self.pool.shutdown()
        self._finish(started)
        return self.report, results

    def _connect(self):
        s = self.settings
        self.client = LlmClient(s.url, s.model, s.api_key, s.timeout, s.retries, s.backoff)
        self.client.check_model()
        self.info = self.client.model_info()
        digest = self.info.get("digest")
        if digest:  # answers of other weights under the same name are asked again
            self.plan.cached = {key: value for key, value in self.plan.cached.items()
                                if value[1] in (None, digest)}

    def _start(self, digest):
        s, plan = self.settings, self.plan
        with self.project.store.transaction() as session:
            row = LlmRunRow(
                purpose=self.purpose, model=s.model, url=shown_url(s.url),
                remote=plan.remote, digest=digest, details=self.info.get("details") or {},
                template_path=plan.template.path, template=plan.template.text,
                template_sha256=plan.template.sha256,
                codebook_sha256=_codebook_sha(plan.groups), unit=s.unit,
                context_tokens=s.context_tokens, temperature=s.temperature, seed=s.seed,
                parallel=s.parallel, documents=[d for d, _, _ in plan.documents],
                created_by=self.project.coder, summary={})
            session.add(row)
            session.flush()
            return row.id

    def _finish(self, started, stopped=None):
        self.report.seconds = monotonic() - started
        summary = {k: v for k, v in self.report.__dict__.items()
                   if isinstance(v, int) and k != "run_id"}
        if stopped:
            summary["stopped"] = stopped[:500]
        with self.project.store.transaction() as session:
            row = session.get(LlmRunRow, self.report.run_id)
            row.finished_at, row.summary = utcnow(), summary

    def _document(self, doc_id, name, asks):
        """[(Ask, suggestions)] of one document: cached answers grounded at once, the others
        asked `parallel` at a time."""
        found, self.pending = [], {}
        for ask in asks:
            if ask.key in self.plan.cached:
                self.report.cached += 1
                self._reread(ask, self.plan.cached[ask.key][0], found)
                self._advance()
            else:
                self._submit(ask, _body(self.plan, self.plan.groups[ask.group], ask.text,
                                        ask.context), 1)
        while self.pending:
            ready, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            for future in [f for f in self.pending if f in ready]:  # in the order sent
                ask, body, attempt = self.pending.pop(future)
                self._arrived(ask, body, attempt, future, found, name)
        return found

    def _submit(self, ask, body, attempt):
        if self.timed is None:
            self.timed = monotonic()
        self.pending[self.pool.submit(self._call, body)] = (ask, body, attempt)

    def _call(self, body):
        try:
            return self.client.chat(body)
        except LlmCallError as exc:
            return exc

    def _arrived(self, ask, body, attempt, future, found, name):
        reply, self.report.sent = future.result(), self.report.sent + 1
        where = f"{name}, characters {ask.start}-{ask.end}"
        if isinstance(reply, LlmCallError):
            self._store_call(ask, body, attempt, "error", None, reply.raw, 0.0, str(reply))
            if reply.fatal:
                raise SuggesterError(str(reply))
            self.failures += 1
            self.report.failed += 1
            self.warn(f"{where}: {reply}")
            self._advance()
            if self.failures >= FAILURES_IN_A_ROW:
                raise SuggesterError(f"stopped after {FAILURES_IN_A_ROW} failed requests in a "
                                     f"row (the last: {reply}); the answers so far are stored, "
                                     "so running the same command again resumes")
            return
        self.failures = 0
        try:
            items = parse_answer(reply.content)
        except AnswerError as exc:
            self._store_call(ask, body, attempt, "invalid", reply.content, reply.raw,
                             reply.seconds, str(exc))
            if attempt == 1:  # one retry, told what was wrong
                retry = {**body, "messages": [*body["messages"],
                                              {"role": "assistant", "content": reply.content},
                                              {"role": "user",
                                               "content": CORRECTION.format(error=exc)}]}
                self._submit(ask, retry, 2)
                return
            self.report.malformed += 1
            self.warn(f"{where}: skipped after two malformed answers (the second: {exc})")
            self._advance()
            return
        self._store_call(ask, body, attempt, "ok", reply.content, reply.raw, reply.seconds)
        self._ground(ask, items, found)
        self._advance()

    def _reread(self, ask, answer, found):
        try:
            items = parse_answer(answer)
        except AnswerError:  # stored as "ok" only when it parsed, so never here
            return
        self._ground(ask, items, found)

    def _ground(self, ask, items, found):
        group = self.plan.groups[ask.group]
        grounded = ground(items, ask.start, ask.text, group.ids, self.origin, self.paths)
        self.report.proposed += len(grounded.suggestions)
        self.report.invented += len(grounded.invented)
        self.report.unknown += len(grounded.unknown)
        found.append((ask, grounded.suggestions))

    def _store_call(self, ask, body, attempt, status, answer, raw, seconds, error=None):
        with self.project.store.transaction() as session:
            session.add(LlmCallRow(
                run_id=self.report.run_id, document_id=ask.document_id, cache_key=ask.key,
                model=self.settings.model, digest=self.report.digest,
                codes=self.plan.groups[ask.group].key, unit_start=ask.start,
                unit_end=ask.end, attempt=attempt, request=body, response=raw,
                answer=answer, status=status, error=error, seconds=seconds))

    def _advance(self):
        self.done += 1
        if self.on_progress:
            self.on_progress(self.done, self.plan.requests)
        timed = self.report.sent
        if self.on_estimate and self.timed is not None and not self.estimated and \
                timed >= min(TIMED_CALLS, self.plan.to_send):
            self.estimated = True
            each = (monotonic() - self.timed) / timed
            remaining = max(self.plan.to_send - timed, 0)
            self.on_estimate(Estimate(each, remaining, each * remaining))


def _codebook_sha(groups):
    return hashlib.sha256("\n".join(g.sha256 for g in groups).encode("ascii")).hexdigest()
