"""Word frequencies for comparing groups (cases, or the values of a case attribute): counts of
the lemmas the pipeline keeps (no stop words, punctuation or numbers), per group, and the sizes
of a word cloud. Pure pandas over lemmas passed in; the project finds them (Project.words)."""

from collections import Counter

import pandas as pd

WORD_COLUMNS = ["group", "word", "count", "per_1000"]


def word_frequencies(lemmas_by_group, top=30, min_count=1):
    """The `top` words of each group: {group: [lemma, ...] or a Counter} -> DataFrame (group,
    word, count, per_1000: per thousand counted words of that group), most frequent first,
    ties in alphabetical order; groups in the order given.

    >>> word_frequencies({"staff": ["walk", "group", "walk"]}).values.tolist()
    [['staff', 'walk', 2, 666.7], ['staff', 'group', 1, 333.3]]
    """
    rows = []
    for group, lemmas in lemmas_by_group.items():  # a word has a letter: no ">" of "<b>"
        counts = Counter({lemma: n for lemma, n in Counter(lemmas).items()
                          if any(c.isalpha() for c in lemma)})
        total = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        rows += [(group, word, n, round(1000 * n / total, 1))
                 for word, n in ranked[:top] if n >= min_count]
    return pd.DataFrame(rows, columns=WORD_COLUMNS)


def side_by_side(frequencies):
    """Rank x group: each group's words in order, for reading groups against each other."""
    if frequencies.empty:
        return pd.DataFrame()
    columns = {group: [f"{row.word} ({row.count})" for row in rows.itertuples()]
               for group, rows in frequencies.groupby("group", sort=False)}
    longest = max(len(words) for words in columns.values())
    table = pd.DataFrame({str(group): words + [""] * (longest - len(words))
                          for group, words in columns.items()})
    table.index = range(1, longest + 1)
    return table


def cloud_sizes(words, smallest=0.8, largest=2.6):
    """{word: size in em} for a word cloud, by the square root of the counts so a few very
    common words do not dwarf the rest; words in alphabetical order. `words`: {word: count}."""
    if not words:
        return {}
    low, high = min(words.values()) ** 0.5, max(words.values()) ** 0.5
    spread = high - low or 1.0
    return {word: round(smallest + (largest - smallest) * (n ** 0.5 - low) / spread, 2)
            for word, n in sorted(words.items())}
