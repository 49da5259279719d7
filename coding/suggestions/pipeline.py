"""The English pipeline, loaded once per process, and text -> units with lemmas.

The pipeline is spaCy's blank English with a sentencizer, the lookup lemmatizer (tables from
spacy-lookups-data, built into coding/suggestions/nlp_data/ by scripts/build_nlp.py) and a lower-case
fallback, so nothing is downloaded at run time and only spaCy is needed.

spaCy's lookup lemmatizer sets lemmas one Token object at a time in Python; `load_pipeline`
disables it (it stays loaded for its table) and the fallback component looks each distinct
word up in that same table on the Doc's arrays: the same lemmas in a third of the time.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy

from ..errors import SuggesterError
from ..records import PARTICIPANT, Turn

PIPELINE_DIR = Path(__file__).resolve().parent / "nlp_data" / "en_lookup"
UNITS = ("sentence", "turn")


def register_components():
    """Make our component known to spaCy. spaCy is imported here, not with this module, so
    commands that never analyse text (export, review, the app's pages) start 0.6 s sooner."""
    from spacy.language import Language

    if not Language.has_factory("lemma_lower_fallback"):
        Language.factory("lemma_lower_fallback", func=make_lemma_lower_fallback)


def make_lemma_lower_fallback(nlp, name):
    """Module-level factory (a closure would not pickle for process pools; TECH-NOTES 5)."""
    return LemmaLowerFallback(nlp)


class LemmaLowerFallback:
    """Sets each token's lemma: the lemmatizer's lemma, or when the lemmatizer is disabled the
    lookup table's entry for the word; then lower-cased, retrying the table with the
    lower-cased word when it had nothing for a capitalised one ("Building" at a sentence
    start -> "build"), because the table is case-sensitive.

    Works on the Doc's attribute arrays with a per-process cache of each distinct word.
    """

    def __init__(self, nlp):
        self.nlp = nlp
        self._table = None
        self._cache = {}  # (orth, lemma) hash -> final lemma hash

    def _lookup(self):
        if self._table is None:
            lemmatizer = self.nlp.get_pipe("lemmatizer")
            self._table = lemmatizer.lookups.get_table("lemma_lookup")
        return self._table

    def _final(self, key):
        orth, lemma = key
        strings = self.nlp.vocab.strings
        text = strings[orth]
        found = strings[lemma] if lemma else self._lookup().get(text, text)
        if not found or (found == text and text != text.lower()):
            found = self._lookup().get(text.lower(), text.lower())
        final = strings.add(found.lower())
        self._cache[key] = final
        return final

    def __call__(self, doc):
        if not len(doc):
            return doc
        from spacy.attrs import LEMMA, ORTH

        pairs = doc.to_array([ORTH, LEMMA]).tolist()
        cache = self._cache
        lemmas = [cache.get(key) or self._final(key) for key in map(tuple, pairs)]
        doc.from_array([LEMMA], numpy.array(lemmas, dtype="uint64").reshape(-1, 1))
        return doc


@lru_cache(maxsize=1)
def load_pipeline():
    """The vendored pipeline; loaded once per process."""
    if not (PIPELINE_DIR / "config.cfg").is_file():
        raise SuggesterError(f"the English pipeline is missing from {PIPELINE_DIR}; "
                             "run `python scripts/build_nlp.py`")
    import spacy

    register_components()
    nlp = spacy.load(PIPELINE_DIR)
    nlp.disable_pipe("lemmatizer")  # LemmaLowerFallback does its work on arrays
    return nlp


@dataclass(frozen=True)
class Unit:
    """A sentence or turn to code: [start, end) in the document, its turn, its content lemmas."""

    start: int
    end: int
    turn: int
    lemmas: tuple[str, ...]
    token_start: int = 0  # token range inside the turn's Doc (for phrase matches)
    token_end: int = 0


# spaCy refuses a text over nlp.max_length (1,000,000 characters, error E088); a turn that long
# (a document with no speaker labels and no blank lines) is analysed in pieces of at most this
# many characters, cut at a line end, a sentence end or a space (issue 13).
PIECE = 100_000


def analyse(text, turns, unit="sentence", roles=(PARTICIPANT,)):
    """Yield (Doc, units) for each turn whose role is in `roles` (all when None): one Doc
    per turn, or per piece of a turn longer than PIECE characters (a unit then never spans
    two pieces).

    Docs stay in this process: callers keep only plain Units and match results.
    """
    if unit not in UNITS:
        raise SuggesterError(f"unit must be one of {', '.join(UNITS)}, got '{unit}'")
    nlp = load_pipeline()
    pieces = [(index, turn, offset, piece)
              for index, turn in enumerate(turns) if roles is None or turn.role in roles
              for offset, piece in split_long(text[turn.start:turn.end])]
    texts = [piece for _, _, _, piece in pieces]
    for (index, turn, base, piece), doc in zip(pieces, nlp.pipe(texts, batch_size=64)):
        spans = list(doc.sents) if unit == "sentence" else [doc[:]]
        lemmas = _content_lemma_array(doc)
        units = []
        for span in spans:
            # the Doc's text is the piece's; Span.text and Doc.text rebuild it token by token
            span_text = piece[span.start_char:span.end_char]
            stripped = span_text.strip()
            if not stripped:
                continue
            offset = turn.start + base + span.start_char + (len(span_text) -
                                                            len(span_text.lstrip()))
            units.append(Unit(start=offset, end=offset + len(stripped), turn=index,
                              lemmas=tuple(x for x in lemmas[span.start:span.end] if x),
                              token_start=span.start, token_end=span.end))
        yield doc, units


def split_long(text, limit=PIECE):
    """[(offset, piece)] covering `text`: the text itself when it is at most `limit`
    characters, else pieces of at most `limit`, each cut after the last line end, sentence end
    or space before the limit (hard at the limit when there is none)."""
    if len(text) <= limit:
        return [(0, text)]
    pieces, start = [], 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = max(window.rfind("\n"), window.rfind(". "), window.rfind("? "), window.rfind("! "))
        if cut <= 0:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append((start, window[:cut]))
        start += cut
    pieces.append((start, text[start:]))
    return pieces


def content_lemmas(tokens):
    """Lemmas of the words that carry meaning: no punctuation, spaces, numbers or stop words."""
    return tuple(t.lemma_ for t in tokens
                 if not (t.is_punct or t.is_space or t.is_stop or t.like_num) and t.lemma_.strip())


def _content_lemma_array(doc):
    """Per token: its lemma when it carries meaning (as content_lemmas decides), else None.
    One array pass per Doc instead of five attribute lookups per token."""
    from spacy.attrs import IS_PUNCT, IS_SPACE, IS_STOP, LEMMA, LIKE_NUM

    flags = doc.to_array([IS_PUNCT, IS_SPACE, IS_STOP, LIKE_NUM, LEMMA]).tolist()
    strings = doc.vocab.strings
    out = []
    for punct, space, stop, num, lemma in flags:
        if punct or space or stop or num:
            out.append(None)
        else:
            text = strings[lemma]
            out.append(text if text.strip() else None)
    return out


# Lemma search (issue 16, item 3) looks words up in an index of these; a "word" longer than
# this (a URL, a run of characters with no space) is left out of it.
LONGEST_LEMMA = 100


def lemma_spans(text, turns, analysed=None, roles=None):
    """[(start, end, lemma)] of every word in the turns' text, in document offsets (code
    points) and text order; punctuation and white space are left out. What lemma search
    stores and looks up: "supported" at [8, 17) -> (8, 17, "support").

    `analysed`, the (Doc, units) pairs `analyse(text, turns, unit, roles)` yielded for the
    same text and turns, are reused for the turns of `roles` (a batch has analysed its
    participants' turns already); only the other turns are tokenised, without sentences.
    """
    nlp = load_pipeline()
    reused = iter([doc for doc, _ in analysed]) if analysed is not None else None
    docs, fresh = [], []
    for turn in turns:
        own = reused is not None and (roles is None or turn.role in roles)
        for offset, piece in split_long(text[turn.start:turn.end]):
            if own:
                docs.append((turn.start + offset, next(reused)))
            else:
                fresh.append((turn.start + offset, piece))
    lemmatise = nlp.get_pipe("lemma_lower_fallback")
    for (base, _), doc in zip(fresh, nlp.tokenizer.pipe([piece for _, piece in fresh],
                                                         batch_size=256)):
        docs.append((base, lemmatise(doc)))
    spans = []
    for base, doc in docs:
        spans.extend(_doc_lemma_spans(doc, base))
    spans.sort()
    return spans


def word_lemmas(text):
    """The lemmas of the words in `text`, in order: what a lemma search looks for.

    >>> word_lemmas("Supported, helping")
    ['support', 'help']
    """
    return [lemma for _, _, lemma in lemma_spans(text, [Turn(0, len(text))])]


def _doc_lemma_spans(doc, base):
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LEMMA, LENGTH

    strings = doc.vocab.strings
    spans = []
    for idx, length, punct, space, lemma in doc.to_array(
            [IDX, LENGTH, IS_PUNCT, IS_SPACE, LEMMA]).tolist():
        if punct or space or length > LONGEST_LEMMA:
            continue
        word = strings[lemma].strip()
        if word:
            spans.append((base + idx, base + idx + length, word))
    return spans
