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


def embed(texts):
    """One l2-normalised float32 vector per text ((n, 256)); an empty text gets zeros."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    filled = [i for i, text in enumerate(texts) if text.strip()]
    if filled:
        vectors[filled] = load_vectors().embed([texts[i] for i in filled], norm=True)
    return vectors


def fingerprint():
    """Which vectors these are, for a model's version (the wheel's version pins its weights)."""
    import wordllama

    return hashlib.sha256(f"{VECTORS}:{wordllama.__version__}".encode()).hexdigest()[:8]
