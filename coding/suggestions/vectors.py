"""Static word vectors for meaning, offline: WordLlama's 256-d token vectors, which ship inside
its PyPI wheel (TECH-NOTES section 7), averaged into one vector per text. Loaded once per process
from the installed package with downloads disabled: nothing is fetched, ever.

`WordLlama.load()` looks for its tokenizer in `wordllama/tokenizer/` (singular) and would fall
through to a Hugging Face download; pointing `cache_dir` at the package itself, whose
`tokenizers/` and `weights/` hold the files, finds them locally.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SuggesterError

VECTORS = "wordllama-l2-256"  # the vectors' name in origins and model states
DIMENSIONS = 256


@lru_cache(maxsize=1)
def load_vectors():
    """The WordLlama model from the installed wheel (0.3-0.6 s, once per process)."""
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:  # an install without it: say how to get it
        raise SuggesterError("the semantic suggester needs the wordllama package (pip install "
                             "wordllama); use --rules/--model without --semantic") from exc
    here = Path(wordllama.__file__).parent
    try:
        return WordLlama.load(config="l2_supercat", dim=DIMENSIONS, cache_dir=here,
                              disable_download=True)
    except (FileNotFoundError, OSError) as exc:
        raise SuggesterError(f"the word vectors are missing from the wordllama package in "
                             f"{here} ({exc}); reinstall it") from exc


CHUNK_TOKENS = 50_000  # token vectors gathered at once (50 MB of float32)


def embed(texts):
    """One l2-normalised float32 vector per text ((n, 256)): the mean of its tokens' vectors,
    as WordLlama's own `embed`; an empty text gets zeros."""
    return normalise(token_sums(texts))


def normalise(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def token_sums(texts):
    """The sum of each text's token vectors ((n, 256) float32). Its direction is the mean's;
    sums of several texts add up to the vector of their concatenation, so a turn's vector
    comes from its sentences' without reading it again. Tokenised without padding (WordLlama's
    `embed` pads every batch to its longest text and pools the padding away: twice the work on
    transcripts)."""
    texts = list(texts)
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    model = load_vectors()
    tokenizer = _unpadded(model)
    ids = [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]
    start = 0
    while start < len(ids):
        end, tokens = start, 0
        while end < len(ids) and (tokens < CHUNK_TOKENS or end == start):
            tokens += len(ids[end])
            end += 1
        lengths = np.array([len(i) for i in ids[start:end]])
        if tokens:
            flat = np.clip(np.fromiter((t for i in ids[start:end] for t in i), dtype=np.int64,
                                       count=tokens), 0, model.embedding.shape[0] - 1)
            gathered = model.embedding[flat]
            filled = np.flatnonzero(lengths)
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])[filled]
            out[start + filled] = np.add.reduceat(gathered, offsets, axis=0)
        start = end
    return out


@lru_cache(maxsize=1)
def _unpadded(model):
    """A copy of the model's tokenizer that neither pads nor truncates."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(model.tokenizer.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def fingerprint():
    """Which vectors these are, for a model's version (the wheel's version pins its weights)."""
    import wordllama

    return hashlib.sha256(f"{VECTORS}:{wordllama.__version__}".encode()).hexdigest()[:8]
