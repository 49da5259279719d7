#!/usr/bin/env python
"""Benchmark the batch coder: tokenizer yardstick, ingest, rule and model suggestions, and an
end-to-end run at GCPH scale (89 transcripts x ~9,000 words), each with its own peak RSS.

Run from the project root with the project's venv:

    .venv/bin/python benchmarks/bench_batch.py            # full run (~3-5 min on 2 cores)
    .venv/bin/python benchmarks/bench_batch.py --quick    # smoke run (12 docs x 2,000 words)
    .venv/bin/python benchmarks/bench_batch.py --json results.json

The corpus is synthetic and deterministic (fixed seed): ~50,000 syllable pseudo-words plus
~22,000 real English lemmas (from the vendored lookup table) so spaCy's tokenizer cache does not
flatter the figures, with the shipped codebook's keyword phrases sprinkled in so the rules have
something to match. It is written once per parameter set and reused.

Every measured step runs in a fresh subprocess of this script (hidden `--step NAME` mode that
prints one JSON line), so `resource.getrusage(...).ru_maxrss` - a high-water mark for the whole
process - is that step's own peak. Pool workers are the step's children (RUSAGE_CHILDREN).
"""

import argparse
import importlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODEBOOK = ROOT / "codebooks" / "gcph_asset_based.yaml"
GENERATOR_VERSION = 1  # bump when the corpus generator changes, so cached corpora are rebuilt
MANIFEST = "corpus.json"
RESULT_MARK = "BENCH_RESULT "
STEPS = ("tokenizer", "ingest", "rules", "model", "e2e-lexical", "e2e")
STEP_TITLES = {
    "tokenizer": "bare spaCy tokenizer (yardstick)",
    "ingest": "ingest only (project.ingest)",
    "rules": "rule suggestions (batch rules)",
    "model": "model + semantic suggestions (batch model)",
    "e2e-lexical": "end to end without the semantic suggester (before issue 17)",
    "e2e": "end to end: batch rules+model+semantic + matrix",
    "rules-1M": "rule suggestions, 112 x 9000 words",
}

# Targets from the issue.
TARGET_RULES_VS_TOKENIZER = 1.5  # rules seconds / bare tokenizer seconds, at most
TARGET_SPEEDUP = 1.6  # 2 workers vs 1, at least
TARGET_MILLION_SECONDS = 15.0  # 1M words suggested (rules), at most
TARGET_E2E_SECONDS = 10.0  # GCPH end to end, at most
TARGET_RSS_MB = 1024.0  # peak RSS, at most
MILLION = 1_000_000


# ---------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------

ONSETS = ["", "b", "br", "bl", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl",
          "gr", "h", "j", "k", "l", "m", "n", "p", "ph", "pl", "pr", "qu", "r", "s", "sc", "sh",
          "sk", "sl", "sm", "sn", "sp", "st", "str", "sw", "t", "th", "tr", "tw", "v", "w", "wh",
          "y", "z"]
NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "ie", "oa", "oo", "ou", "oi", "au", "y"]
CODAS = ["", "", "", "b", "ck", "d", "ff", "g", "ll", "m", "n", "nd", "ng", "nk", "nt", "p",
         "r", "rd", "rn", "rt", "s", "sh", "ss", "st", "t", "th", "x"]

# Frequent words of spoken English: stop words, pronouns, discourse words. Real speech is
# roughly half function words, and these exercise the stop-word and like_num flags.
FUNCTION_WORDS = """the the the a a an and and and but or so of of to to in in on at for with
about from by as that that this these those it it it's is is was was were be been being are
have has had do does did not no yes i i i i'm i've i'd me my we we we're we've our us you you
you're your they they they're them their he she his her there there's here what which who when
where why how if then than just really very quite actually basically maybe probably all some
any more most much many lot lots kind sort thing things way bit like like well can can't could
would should will won't don't didn't doesn't isn't wasn't get got go going think know mean
say said see people time one two three first also even still again back out up down over
because though right okay yeah""".split()

FILLERS = ["you know,", "um,", "er,", "I mean,", "like,", "sort of", "kind of", "to be honest,",
           "[laughs]", "[pause]"]

QUESTION_OPENERS = ["Can you tell me about", "How do you feel about", "What happens when",
                    "Could you say more about", "Why do you think", "How would you describe",
                    "What does", "When did you first notice", "Who decides about",
                    "What would help with"]

FIRST_NAMES = ["Aileen", "Callum", "Fiona", "Hamish", "Isla", "Kirsty", "Morag", "Niall",
               "Rhona", "Ruaridh", "Shona", "Tam"]


def pseudo_words(rng, count):
    """`count` distinct pronounceable non-words of 1-4 syllables, in a deterministic order."""
    words, seen = [], set()
    while len(words) < count:
        syllables = rng.choices((1, 2, 3, 4), weights=(2, 5, 4, 1))[0]
        word = "".join(rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(CODAS)
                       for _ in range(syllables))
        if 3 <= len(word) <= 16 and word not in seen:
            seen.add(word)
            words.append(word)
    return words


def english_words():
    """Real English lemmas from the vendored lookup table (sorted, so deterministic)."""
    from coding.suggestions.pipeline import load_pipeline

    table = load_pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    return sorted({w for w in table.values()
                   if isinstance(w, str) and w.isalpha() and w.islower() and 3 <= len(w) <= 12})


def inflect(rng, word):
    """Sometimes give a real word a regular ending, so the lemmatizer has work to do."""
    r = rng.random()
    if r < 0.12:
        return word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
    if r < 0.18:
        return (word[:-1] if word.endswith("e") else word) + "ing"
    if r < 0.23:
        return word + ("d" if word.endswith("e") else "ed")
    return word


def codebook_phrases():
    from coding.readers.codebooks import load_codebook

    codebook = load_codebook(CODEBOOK)
    return [k for code in codebook.codes for k in code.keywords if k.strip()]


class TranscriptWriter:
    """Deterministic interview turns built from a wide vocabulary."""

    def __init__(self, seed, pseudo_count=50_000, keyword_rate=0.3):
        self.rng = random.Random(seed)
        self.pseudo = pseudo_words(self.rng, pseudo_count)
        self.english = english_words()
        self.phrases = codebook_phrases()
        self.keyword_rate = keyword_rate

    def word(self):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return rng.choice(FUNCTION_WORDS)
        if r < 0.72:
            return inflect(rng, rng.choice(self.english))
        if r < 0.74:
            return str(rng.randint(2, 1999))
        if r < 0.75:
            return rng.choice(self.pseudo) + "-" + rng.choice(self.pseudo)
        return rng.choice(self.pseudo)

    def sentence(self, question=False):
        rng = self.rng
        words = [self.word() for _ in range(rng.randint(5, 28))]
        if rng.random() < self.keyword_rate:
            words.insert(rng.randint(0, len(words)), rng.choice(self.phrases))
        if rng.random() < 0.2:
            words.insert(rng.randint(0, len(words)), rng.choice(FILLERS))
        if rng.random() < 0.25:
            words.insert(rng.randint(1, len(words)), rng.choice(("—", ",", ";", "...")))
            words = [w for i, w in enumerate(words) if not (w in (",", ";") and i == 0)]
        if rng.random() < 0.05:
            words.insert(0, rng.choice(FIRST_NAMES) + " said")
        if question:
            words = rng.choice(QUESTION_OPENERS).split() + words
        text = " ".join(words).replace(" ,", ",").replace(" ;", ";").replace(" ...", "...")
        text = text[0].upper() + text[1:]
        end = "?" if question else rng.choices((".", ".", ".", "?", "!", "..."))[0]
        return text.rstrip(",;—. ") + end

    def turns(self, participant, words_per_doc):
        """[(speaker, text)] alternating interviewer questions and participant answers, until
        the spoken words reach `words_per_doc`."""
        rng, turns, total = self.rng, [], 0
        while total < words_per_doc:
            if rng.random() < 0.85 or not turns:
                question = " ".join(self.sentence(question=i == 0)
                                    for i in range(rng.choice((1, 1, 1, 2))))
                turns.append(("Interviewer", question))
                total += len(question.split())
            answer = " ".join(self.sentence() for _ in range(rng.randint(2, 14)))
            turns.append((participant, answer))
            total += len(answer.split())
        return turns


def write_docx(path, title, turns):
    import datetime

    import docx

    document = docx.Document()
    document.core_properties.created = datetime.datetime(2026, 1, 1)
    document.core_properties.modified = datetime.datetime(2026, 1, 1)
    document.core_properties.title = title
    for speaker, text in turns:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{speaker}: ").bold = True
        paragraph.add_run(text)
    document.save(path)


def write_txt(path, title, turns):
    path.write_text("\n\n".join(f"{speaker}: {text}" for speaker, text in turns) + "\n",
                    encoding="utf-8")


def corpus_params(args):
    return {"generator": GENERATOR_VERSION, "docs": args.docs,
            "words_per_doc": args.words_per_doc, "format": args.format, "seed": args.seed,
            "keyword_rate": args.keyword_rate}


def default_corpus_dir(params):
    name = (f"coding-bench-{params['format']}-{params['docs']}x{params['words_per_doc']}"
            f"-seed{params['seed']}-k{params['keyword_rate']}-g{params['generator']}")
    return Path(tempfile.gettempdir()) / name


def corpus_files(directory, params):
    return [Path(directory) / f"p{i + 1:03d}_synthetic_interview.{params['format']}"
            for i in range(params["docs"])]


def ensure_corpus(directory, params, log):
    """Write the corpus into `directory` unless a manifest with the same parameters is there;
    returns the manifest (parameters plus word counts measured by parsing the files)."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    files = corpus_files(directory, params)
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params and all(f.is_file() for f in files):
            log(f"reusing corpus in {directory}")
            return manifest
    directory.mkdir(parents=True, exist_ok=True)
    log(f"writing corpus: {params['docs']} x {params['words_per_doc']} words, "
        f".{params['format']}, seed {params['seed']} -> {directory}")
    started = time.perf_counter()
    writer = TranscriptWriter(params["seed"], keyword_rate=params["keyword_rate"])
    write = write_docx if params["format"] == "docx" else write_txt
    for i, path in enumerate(files):
        turns = writer.turns(f"P{i + 1:02d}", params["words_per_doc"])
        write(path, f"Synthetic interview {i + 1}", turns)
    written = time.perf_counter() - started

    from coding.readers.transcripts import ingest_file
    from coding.records import PARTICIPANT, count_words

    words = participant_words = turns = 0
    forms = set()
    for path in files:
        parsed = ingest_file(path)
        words += parsed.words
        turns += len(parsed.turns)
        for t in parsed.turns:
            body = parsed.text[t.start:t.end]
            forms.update(body.lower().split())
            if t.role == PARTICIPANT:
                participant_words += count_words(body)
    manifest = {"params": params, "files": [f.name for f in files], "words": words,
                "participant_words": participant_words, "turns": turns,
                "distinct_word_forms": len(forms), "vocabulary": {
                    "pseudo_words": len(writer.pseudo), "english_lemmas": len(writer.english),
                    "codebook_phrases": len(writer.phrases)},
                "write_seconds": round(written, 2)}
    manifest_path.write_text(json.dumps(manifest, indent=2))
    log(f"corpus written in {written:.1f} s: {words:,} spoken words "
        f"({participant_words / words:.0%} participant), {len(forms):,} distinct word forms")
    return manifest


def make_corpus(directory, params, log):
    """The manifest of a matching corpus, written first (in a subprocess) when needed.

    The driver never imports the package or holds the corpus: Linux carries a process's peak
    RSS over into the children it starts (ru_maxrss survives fork and exec), so a fat driver
    would raise the floor of every step's figure.
    """
    manifest_path = Path(directory) / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("params") == params and all(
                f.is_file() for f in corpus_files(directory, params)):
            log(f"reusing corpus in {directory}")
            return manifest
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--corpus", str(directory),
                    "--make-corpus", json.dumps(params)], check=True, cwd=ROOT)
    return json.loads(manifest_path.read_text())


# ---------------------------------------------------------------------------------------------
# Steps (each runs in its own subprocess)
# ---------------------------------------------------------------------------------------------

_TEXTS = []  # tokenizer step: texts set before the pool forks


def _tokenize_range(bounds):
    from coding.suggestions.pipeline import load_pipeline

    tokenizer = load_pipeline().tokenizer
    return sum(len(tokenizer(text)) for text in _TEXTS[bounds[0]:bounds[1]])


def step_tokenizer(files, workers, out):
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from coding.readers.transcripts import ingest_file
    from coding.suggestions.pipeline import load_pipeline

    started = time.perf_counter()
    _TEXTS[:] = [ingest_file(path).text for path in files]
    out["parse_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    tokenizer = load_pipeline().tokenizer  # loaded before the fork, so workers inherit it
    out["pipeline_load_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    if workers == 1:
        tokens = sum(len(tokenizer(text)) for text in _TEXTS)
    else:  # same chunking as batch.run_jobs
        size = max(1, min(8, len(_TEXTS) // (workers * 4) or 1))
        bounds = [(i, i + size) for i in range(0, len(_TEXTS), size)]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            tokens = sum(pool.map(_tokenize_range, bounds))
    out["seconds"] = time.perf_counter() - started
    out["tokens"] = tokens


def fresh_project(tmp):
    import coding

    return coding.init_project(str(Path(tmp) / "bench.db"), coder="bench")


def step_ingest(files, workers, out, tmp):
    started = time.perf_counter()
    project = fresh_project(tmp)
    out["init_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    results = project.ingest([str(f) for f in files])
    out["seconds"] = time.perf_counter() - started
    out["added"] = sum(r.status == "added" for r in results)
    out["failed"] = [r.error for r in results if r.status == "failed"]
    project.close()


def _batch(project, files, workers, rules, model, out, semantic=None):
    from coding.project import suggestions as use_cases

    warnings = []
    store = use_cases.store_parsed  # timed here to show the serial, parent-side share
    out["store_seconds"] = 0.0

    def timed_store(*args, **kwargs):
        mark = time.perf_counter()
        try:
            return store(*args, **kwargs)
        finally:
            out["store_seconds"] += time.perf_counter() - mark

    use_cases.store_parsed = timed_store
    started = time.perf_counter()
    try:
        report = project.batch([str(f) for f in files], codebook=str(CODEBOOK), rules=rules,
                               model=model, semantic=semantic, workers=workers,
                               warn=warnings.append)
    finally:
        use_cases.store_parsed = store
    out["batch_seconds"] = time.perf_counter() - started
    out["added"] = len(report.added)
    out["failed"] = list(report.failed)
    out["suggestions"] = report.suggestions
    out["analysed_tokens"] = report.words
    out["warnings"] = warnings
    return report


def step_rules(files, workers, out, tmp):
    project = fresh_project(tmp)
    _batch(project, files, workers, True, False, out)
    out["seconds"] = out["batch_seconds"]
    project.close()


def step_model(files, workers, out, tmp):
    project = fresh_project(tmp)
    _batch(project, files, workers, False, True, out)
    out["seconds"] = out["batch_seconds"]
    project.close()


def step_e2e_lexical(files, workers, out, tmp):
    step_e2e(files, workers, out, tmp, semantic=False)


def step_e2e(files, workers, out, tmp, semantic=None):
    import pandas as pd

    started = time.perf_counter()
    project = fresh_project(tmp)
    out["init_seconds"] = time.perf_counter() - started
    _batch(project, files, workers, True, True, out, semantic)
    mark = time.perf_counter()
    frame = project.codings_frame(statuses=None)
    out["frame_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    matrix = pd.crosstab(frame["code"], frame["case"]) if len(frame) else pd.DataFrame()
    out["crosstab_seconds"] = time.perf_counter() - mark
    out["seconds"] = time.perf_counter() - started
    out["codings"] = len(frame)
    out["matrix_shape"] = list(matrix.shape)
    project.close()


def run_step(args):
    """The hidden `--step` mode: run one step, print one JSON line, exit."""
    started = time.perf_counter()
    importlib.import_module("coding")  # import time is reported apart from the step

    out = {"step": args.step, "workers": args.workers[0],
           "import_seconds": time.perf_counter() - started}
    manifest = json.loads((Path(args.corpus) / MANIFEST).read_text())
    files = [Path(args.corpus) / name for name in manifest["files"]]
    out["docs"], out["words"] = len(files), manifest["words"]
    step = globals()[f"step_{args.step.replace('-', '_')}"]
    with tempfile.TemporaryDirectory(prefix="coding-bench-project-") as tmp:
        call = (lambda: step(files, out["workers"], out)) if args.step == "tokenizer" else \
            (lambda: step(files, out["workers"], out, tmp))
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(call)
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(30)
        else:
            call()
    out["rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["words_per_s"] = out["words"] / out["seconds"] if out["seconds"] else None
    print(RESULT_MARK + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def spawn_step(step, workers, corpus, log, profile=False):
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step,
               "--workers", str(workers), "--corpus", str(corpus)]
    if profile:
        command += ["--profile", step]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if profile:
        sys.stderr.write(completed.stderr)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"step {step} (workers={workers}) failed with exit code "
                         f"{completed.returncode}")
    result = json.loads(lines[-1][len(RESULT_MARK):])
    result["process_wall_seconds"] = wall
    log(f"  {step:<9} workers={workers}: {result['seconds']:6.2f} s, "
        f"{result['words_per_s']:>10,.0f} words/s, peak RSS {result['rss_self_mb']:.0f} MB"
        + (f" (+ worker {result['rss_children_mb']:.0f} MB)" if workers > 1 else ""))
    return result


def median_result(results):
    """The run with the median time; RSS is the worst seen over the repeats."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["repeats"] = [round(r["seconds"], 3) for r in results]
    chosen["rss_self_mb"] = max(r["rss_self_mb"] for r in results)
    chosen["rss_children_mb"] = max(r["rss_children_mb"] for r in results)
    return chosen


def driver_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(ok):
    return "met" if ok else "MISSED"


def evaluate_targets(results, workers, quick):
    by = {(r["step"], r["workers"]): r for r in results}
    targets = []

    def add(name, value, limit, ok, unit="", note=""):
        targets.append({"target": name, "value": value, "limit": limit, "unit": unit,
                        "status": verdict(ok) if ok is not None else "n/a", "note": note})

    for w in workers:
        rules, tok = by.get(("rules", w)), by.get(("tokenizer", w))
        if rules and tok:
            ratio = rules["seconds"] / tok["seconds"]
            add(f"rules cost vs bare tokenizer, {w} worker(s)", ratio, TARGET_RULES_VS_TOKENIZER,
                ratio <= TARGET_RULES_VS_TOKENIZER, "x",
                "batch rules seconds / tokenizer seconds, same corpus and worker count")
    if 1 in workers and 2 in workers:
        for step in ("rules", "model", "e2e", "tokenizer"):
            one, two = by.get((step, 1)), by.get((step, 2))
            if one and two:
                speedup = one["seconds"] / two["seconds"]
                add(f"2 workers vs 1 speedup, {step}", speedup, TARGET_SPEEDUP,
                    speedup >= TARGET_SPEEDUP if step == "rules" else None, "x",
                    "the target is about rule suggestions" if step == "rules" else "context")
    for w in workers:
        rules = by.get(("rules", w))
        if rules:
            seconds = MILLION / rules["words_per_s"]
            add(f"1M words suggested (rules), {w} worker(s)", seconds, TARGET_MILLION_SECONDS,
                seconds <= TARGET_MILLION_SECONDS, "s",
                "extrapolated: 1,000,000 / measured rules words/s"
                + (" (quick corpus: fixed costs weigh more)" if quick else ""))
    for w in workers:
        million = by.get(("rules-1M", w))
        if million:
            add(f"1M words suggested (rules, measured), {w} worker(s)", million["seconds"],
                TARGET_MILLION_SECONDS, million["seconds"] <= TARGET_MILLION_SECONDS, "s",
                f"measured on {million['docs']} docs, {million['words']:,} words")
    for w in workers:
        e2e = by.get(("e2e", w))
        if e2e:
            add(f"GCPH end to end, {w} worker(s)", e2e["seconds"], TARGET_E2E_SECONDS,
                None if quick else e2e["seconds"] <= TARGET_E2E_SECONDS, "s",
                "quick corpus: not GCPH scale" if quick else
                f"{e2e['docs']} docs, {e2e['words']:,} words")
    def tree_mb(r):
        return r["rss_self_mb"] + (r["rss_children_mb"] * r["workers"] if r["workers"] > 1
                                   else 0)

    peak = max(results, key=tree_mb)
    tree = tree_mb(peak)
    add("peak RSS (worst step, parent + workers)", tree, TARGET_RSS_MB, tree <= TARGET_RSS_MB,
        "MB", f"{peak['step']} workers={peak['workers']}: parent {peak['rss_self_mb']:.0f} MB"
        + (f" + {peak['workers']} x largest worker {peak['rss_children_mb']:.0f} MB "
           "(an upper bound: forked pages are shared)" if peak["workers"] > 1 else ""))
    return targets


def format_table(rows, headers, align):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells):
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w)
                         for c, w, a in zip(cells, widths, align))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def print_report(results, targets, manifest, args, total_seconds):
    params = manifest["params"]
    print()
    print(f"Corpus: {params['docs']} .{params['format']} transcripts x ~{params['words_per_doc']:,}"
          f" words = {manifest['words']:,} spoken words "
          f"({manifest['participant_words'] / manifest['words']:.0%} in participant turns, which "
          f"are the only ones suggested for), {manifest['distinct_word_forms']:,} distinct word "
          f"forms, seed {params['seed']}")
    print(f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.machine()}; words/s = corpus spoken words / step seconds")
    print(f"Each step ran in its own process; peak RSS = that process's ru_maxrss (+ workers x "
          f"the largest pool worker's). Floor inherited from this driver: {driver_rss_mb():.0f} MB")
    print()
    rows = []
    for r in results:
        extra = ""
        if "suggestions" in r:
            extra = f"{r['suggestions']:,}"
        rss = f"{r['rss_self_mb']:.0f}"
        if r["workers"] > 1:
            rss += f" + {r['workers']}x{r['rss_children_mb']:.0f}"
        rows.append([STEP_TITLES.get(r["step"], r["step"]), str(r["workers"]), str(r["docs"]),
                     f"{r['words']:,}", f"{r['seconds']:.2f}", f"{r['words_per_s']:,.0f}",
                     rss, extra])
    print(format_table(rows, ["step", "workers", "docs", "words", "seconds", "words/s",
                              "peak RSS MB", "suggestions"],
                       ["l", "r", "r", "r", "r", "r", "r", "r"]))
    print()
    print("Breakdown:")
    for r in results:
        parts = []
        for key in ("import_seconds", "parse_seconds", "pipeline_load_seconds", "init_seconds",
                    "batch_seconds", "store_seconds", "frame_seconds", "crosstab_seconds"):
            if key in r:
                parts.append(f"{key.replace('_seconds', '')} {r[key]:.2f} s")
        if "analysed_tokens" in r:
            parts.append(f"tokens analysed {r['analysed_tokens']:,}")
        if "tokens" in r:
            parts.append(f"tokens {r['tokens']:,}")
        if "codings" in r:
            parts.append(f"codings in frame {r['codings']:,}, matrix {r['matrix_shape']}")
        if r.get("repeats") and len(r["repeats"]) > 1:
            parts.append(f"repeats {r['repeats']}")
        print(f"  {r['step']:<9} w={r['workers']}: " + ", ".join(parts))
    print()
    rows = [[t["target"], f"{t['value']:.2f} {t['unit']}".strip(),
             ("<= " if "speedup" not in t["target"] else ">= ") + f"{t['limit']:g} {t['unit']}",
             t["status"], t["note"]] for t in targets]
    print(format_table(rows, ["target", "value", "limit", "status", "note"],
                       ["l", "r", "l", "l", "l"]))
    print()
    print(f"Total benchmark time: {total_seconds:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=None, help="transcripts (default 89)")
    parser.add_argument("--words-per-doc", type=int, default=None,
                        help="spoken words per transcript (default 9000)")
    parser.add_argument("--format", choices=("txt", "docx"), default="docx")
    parser.add_argument("--out", help="corpus folder (default: a folder in the system temp dir "
                        "named after the parameters; reused when it matches)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to measure (default: 1 2)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 12 docs x 2000 words unless --docs/--words-per-doc")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS),
                        help="steps to run (default: all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per step; the median time is reported (default 1)")
    parser.add_argument("--million", action="store_true",
                        help="also run rule suggestions on a real 112 x 9000-word corpus "
                        "instead of only extrapolating the 1M-word figure")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keyword-rate", type=float, default=0.3,
                        help="share of sentences that get one codebook keyword phrase")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--profile", metavar="STEP", choices=STEPS,
                        help="also run STEP once (first worker count) under cProfile and print "
                        "the top functions to stderr; not counted in the results")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--make-corpus", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step:
        run_step(args)
        return 0
    if args.make_corpus:
        sys.path.insert(0, str(ROOT))  # the generator uses the package (codebook, lemmas)
        ensure_corpus(args.corpus, json.loads(args.make_corpus),
                      lambda message: print(message, file=sys.stderr, flush=True))
        return 0

    def log(message):
        print(message, file=sys.stderr, flush=True)

    args.docs = args.docs or (12 if args.quick else 89)
    args.words_per_doc = args.words_per_doc or (2000 if args.quick else 9000)
    began = time.perf_counter()
    params = corpus_params(args)
    corpus = Path(args.out) if args.out else default_corpus_dir(params)
    manifest = make_corpus(corpus, params, log)

    results = []
    for step in args.steps:
        # project.ingest has no workers option: one in-process measurement is enough
        for workers in [1] if step == "ingest" else args.workers:
            runs = [spawn_step(step, workers, corpus, log) for _ in range(args.repeat)]
            results.append(median_result(runs))
    if args.million:
        million_params = dict(params, docs=112, words_per_doc=9000)
        million_corpus = default_corpus_dir(million_params)
        make_corpus(million_corpus, million_params, log)
        for workers in args.workers:
            result = spawn_step("rules", workers, million_corpus, log)
            result["step"] = "rules-1M"
            results.append(result)
    if args.profile:
        log(f"profiling {args.profile} (workers={args.workers[0]}):")
        spawn_step(args.profile, args.workers[0], corpus, log, profile=True)
    targets = evaluate_targets(results, args.workers, args.quick)
    total = time.perf_counter() - began
    print_report(results, targets, manifest, args, total)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
            "corpus": dict(manifest, path=str(corpus)), "quick": args.quick,
            "driver_rss_mb": driver_rss_mb(),
            "results": results, "targets": targets, "total_seconds": total}, indent=2))
        log(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
