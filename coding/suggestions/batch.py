"""Batch coding: one pure function over chunks of documents, run in-process, in a process pool
or on a Dask cluster. Workers return small results (parsed text, turns, suggestions), never
spaCy Docs; the caller stores them, one document per transaction.
"""

import hashlib
import ipaddress
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from ..errors import CodingError, SuggesterError
from ..readers.speakers import SpeakerRules
from ..readers.transcripts import ingest_file
from ..records import PARTICIPANT
from .pipeline import analyse, lemma_spans, load_pipeline
from .rules import KeywordSuggester
from .suggester import DEFAULT_MIN_SCORE
from .combination import LearnedSuggester
from .semantic import SemanticSuggester
from .tfidf import TfidfSuggester


@dataclass(frozen=True)
class BatchConfig:
    """What every worker needs; built once by the caller and sent once per worker."""

    codebook: object
    unit: str = "sentence"
    roles: tuple = (PARTICIPANT,)
    rules: bool = True
    model_state: dict | None = None      # the TF-IDF model's, when it suggests
    min_score: float = DEFAULT_MIN_SCORE
    speaker_settings: dict = field(default_factory=dict)
    semantic_state: dict | None = None   # the semantic suggester's, when it suggests
    calibration: dict | None = None      # thresholds for the learners in use (calibration.py)
    off: tuple = ()                      # codes whose suggestions are switched off
    derive: bool = True                  # rules for codes without keywords, from their text

    @property
    def key(self):
        versions = [state["version"] if state else None
                    for state in (self.model_state, self.semantic_state)]
        return hashlib.sha256(json.dumps(
            [repr(self.codebook), self.unit, list(self.roles), self.rules, versions,
             self.min_score, self.speaker_settings, self.calibration, list(self.off),
             self.derive],
            sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """A file to ingest (`path`) or a stored document (`key`, `text`, `turns`) to suggest for."""

    key: object
    path: str | None = None
    text: str | None = None
    turns: tuple = ()


@dataclass
class JobResult:
    key: object
    parsed: object = None  # ParsedDocument for a file job
    suggestions: list = field(default_factory=list)
    words: int = 0
    error: str | None = None
    lemmas: list | None = None  # for a file job: pipeline.lemma_spans, the lemma index


_SUGGESTERS = {}  # per process: config key -> (rules, model); built once per worker
_WORKER_CONFIG = {}  # per pool process: the config sent once by the initializer


def _suggesters(config):
    cached = _SUGGESTERS.get(config.key)
    if cached is None:
        rules = KeywordSuggester(config.unit, config.roles, derive=config.derive).fit(
            config.codebook) if config.rules else None
        if rules is not None:
            rules.off = set(config.off)
        learners = {}
        if config.model_state:
            learners["model"] = TfidfSuggester.from_state(config.model_state, roles=config.roles)
        if config.semantic_state:
            learners["semantic"] = SemanticSuggester.from_state(config.semantic_state,
                                                                roles=config.roles)
        learned = None
        if learners:
            learned = LearnedSuggester(learners, config.calibration, config.min_score)
            learned.off = set(config.off)
        cached = (rules, learned)
        _SUGGESTERS.clear()
        _SUGGESTERS[config.key] = cached
    return cached


def process_chunk(jobs, config):
    """Parse (for file jobs) and suggest codes for each job. Pure: no database, no shared state
    beyond the per-process cache of suggesters."""
    rules, model = _suggesters(config)
    speaker_rules = SpeakerRules.from_settings(config.speaker_settings)
    results = []
    for job in jobs:
        result = JobResult(key=job.key)
        try:
            if job.path is not None:
                result.parsed = ingest_file(job.path, speaker_rules)
                result.parsed.words  # counted here, in parallel, not by the storing parent
                text, turns = result.parsed.text, result.parsed.turns
            else:
                text, turns = job.text, job.turns
            analysed = list(analyse(text, turns, config.unit, config.roles))
            result.words = sum(len(doc) for doc, _ in analysed)
            for suggester in (rules, model):
                if suggester is not None:
                    result.suggestions.extend(suggester.suggest_analysed(analysed, text))
            if job.path is not None:  # a new document: its lemma index, reusing the Docs
                result.lemmas = lemma_spans(text, turns, analysed, config.roles)
        except CodingError as exc:
            result.error = str(exc)
        except Exception as exc:  # a bug of ours; one document must never stop the others
            result.error = (f"{job.path or f'document {job.key}'}: could not be analysed "
                            f"({type(exc).__name__}: {exc}); this is a bug, please report it")
        results.append(result)
    return results


def _init_worker(config):
    _WORKER_CONFIG["config"] = config


def _process_in_worker(jobs):
    return process_chunk(jobs, _WORKER_CONFIG["config"])


def chunked(jobs, size):
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


def run_jobs(jobs, config, workers=1, dask_address=None, chunk_size=None, warn=print):
    """Yield JobResults as chunks finish: in-process (workers=1), a process pool, or Dask.

    dask_address: a scheduler address, or a DaskScheduler (the address and its TLS files).
    An unreachable Dask scheduler is reported with `warn` and the local pool is used instead.
    """
    jobs = list(jobs)
    if not jobs:
        return
    workers = max(1, int(workers or 1))
    size = chunk_size or max(1, min(4, len(jobs) // (workers * 4) or 1))
    chunks = chunked(jobs, size)
    if dask_address:
        client = _dask_client(dask_address, warn)
        if client is not None:
            yield from _run_dask(client, chunks, config)
            return
    if workers == 1 or len(chunks) == 1:
        for chunk in chunks:
            yield from process_chunk(chunk, config)
        return
    method = "fork" if os.name == "posix" else "spawn"
    if method == "fork":  # workers inherit the loaded pipeline and suggesters, not redo them
        load_pipeline()
        _suggesters(config)
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_init_worker, initargs=(config,)) as pool:
        futures = [pool.submit(_process_in_worker, chunk) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


@dataclass(frozen=True)
class DaskScheduler:
    """A Dask scheduler to run a batch on. The link carries pickles (the batch config, the
    results), which a listener can read and anyone who can send to it can use to run code, so
    a scheduler on another computer should be reached over TLS: a `tls://` address with the
    CA certificate and this client's certificate and key (PEM files), or dask's own
    `distributed.comm.tls` configuration.

    >>> DaskScheduler("tls://10.0.0.5:8786", ca_file="ca.pem", cert="me.pem", key="me.key")
    """

    address: str
    ca_file: str | None = None
    cert: str | None = None
    key: str | None = None

    @property
    def scheme(self):
        return self.address.split("://", 1)[0].lower() if "://" in self.address else "tcp"

    def security(self):
        """The `distributed.security.Security` for this link, or None for plain TCP. Raises
        SuggesterError when TLS files and the address do not go together."""
        from distributed.security import Security

        files = {"tls_ca_file": self.ca_file, "tls_client_cert": self.cert,
                 "tls_client_key": self.key}
        given = {name: value for name, value in files.items() if value}
        if self.scheme != "tls":
            if given:
                raise SuggesterError(f"TLS certificates were given but the Dask address "
                                     f"{self.address} is not tls://; use tls://HOST:PORT")
            return None
        security = Security(require_encryption=True, **given)  # the rest from dask's config
        missing = [option for name, option in (("tls_ca_file", "--dask-tls-ca"),
                                               ("tls_client_cert", "--dask-tls-cert"))
                   if not getattr(security, name)]
        if missing:
            raise SuggesterError(f"the Dask address {self.address} is tls:// but has no "
                                 f"{' and no '.join(missing)} (PEM files; or set dask's "
                                 "distributed.comm.tls configuration)")
        return security

    def warning(self):
        """Why this link is unsafe (plain TCP to another computer), or None."""
        if self.scheme != "tcp":
            return None
        host = self.address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:  # a host name: another computer, as far as we can tell
            loopback = False
        if loopback:
            return None
        return (f"the Dask scheduler {self.address} is reached over plain TCP: the batch's "
                "pickled data crosses the network unencrypted and unauthenticated; use a "
                "tls:// address with --dask-tls-ca, --dask-tls-cert and --dask-tls-key")


def _dask_client(scheduler, warn):
    try:
        from distributed import Client
    except ImportError as exc:
        raise SuggesterError("--dask needs the optional Dask extra: "
                             "pip install 'coding[dask]'") from exc
    if not isinstance(scheduler, DaskScheduler):
        scheduler = DaskScheduler(str(scheduler))
    security = scheduler.security()
    if scheduler.warning():
        warn(scheduler.warning())
    try:
        return Client(scheduler.address, timeout="5s", security=security)
    except (OSError, TimeoutError, ValueError) as exc:
        warn(f"Dask scheduler {scheduler.address} is unreachable ({exc}); using local "
             "processes instead")
        return None


def _run_dask(client, chunks, config):
    from distributed import as_completed as dask_completed

    try:
        shared = client.scatter(config, broadcast=True)
        futures = client.map(process_chunk, chunks, config=shared, pure=False)
        for future in dask_completed(futures):
            yield from future.result()
    finally:
        client.close()


def stored_job(document_id, text, turns):
    """A Job for a stored document (its turns as records.Turn)."""
    return Job(key=document_id, text=text, turns=tuple(turns))
