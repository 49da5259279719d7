"""What every suggester is: a small contract (scikit-learn's, STYLE.md "A suggester"), and the
score below which model suggestions are not queued.

A suggester's `__init__` only stores parameters, `fit(codebook, examples=None)` learns and
returns self, learned state ends in `_`, and `suggest(text, turns)` returns Suggestion records;
`suggest_analysed(analysed, text)` takes the output of pipeline.analyse, so a batch analyses
each document once for every suggester. Suggesters never touch the store: the project decides
what to save. A new suggester is a new module here that satisfies `Suggester`.
"""

from typing import Protocol, runtime_checkable

# Chosen by `coding evaluate` on the sample study's gold codings (README, "Suggestion quality").
DEFAULT_MIN_SCORE = 0.4


@runtime_checkable
class Suggester(Protocol):
    unit: str

    def fit(self, codebook, examples=None): ...

    def suggest(self, text, turns): ...

    def suggest_analysed(self, analysed, text): ...
