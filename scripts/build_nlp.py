"""Build the vendored English pipeline into coding/suggestions/nlp_data/en_lookup (run once by a developer).

    pip install spacy-lookups-data   # build time only: a 98 MB wheel we do not ship
    python scripts/build_nlp.py

blank English + sentencizer + lookup lemmatizer (tables from spacy-lookups-data) + the
lower-case fallback component from coding.nlp. The saved folder loads with spaCy alone.
"""

import shutil
from pathlib import Path

import spacy

from coding.suggestions.pipeline import PIPELINE_DIR, register_components

NOTICE = """\
This folder holds a spaCy pipeline built by scripts/build_nlp.py: blank English, a sentencizer,
the lookup lemmatizer and coding's lemma_lower_fallback component.

The lemma lookup table comes from spacy-lookups-data (MIT licence, (c) ExplosionAI GmbH), whose
English lemma data derives in part from WordNet. WordNet licence:

WordNet Release 3.0 This software and database is being provided to you, the LICENSEE, by
Princeton University under the following license. By obtaining, using and/or copying this
software and database, you agree that you have read, understood, and will comply with these
terms and conditions.: Permission to use, copy, modify and distribute this software and
database and its documentation for any purpose and without fee or royalty is hereby granted,
provided that you agree to comply with the following copyright notice and statements,
including the disclaimer, and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal use or for distribution.
WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. THIS SOFTWARE AND
DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES,
EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON UNIVERSITY MAKES NO
REPRESENTATIONS OR WARRANTIES OF MERCHANT- ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR
THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD
PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS. The name of Princeton University or
Princeton may not be used in advertising or publicity pertaining to distribution of the
software and/or database. Title to copyright in this software, database and any associated
documentation shall at all times remain with Princeton University and LICENSEE agrees to abide
by these terms.
"""


def build(target=PIPELINE_DIR):
    register_components()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("lemma_lower_fallback")
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data
    nlp.meta.update({"name": "coding_en_lookup", "version": "1.0.0",
                     "description": "blank English + sentencizer + lookup lemmas (coding)",
                     "license": "MIT (tables: spacy-lookups-data, WordNet licence)"})
    if Path(target).exists():
        shutil.rmtree(target)
    nlp.to_disk(target)
    (Path(target) / "LICENSE-NOTICE.txt").write_text(NOTICE, encoding="utf-8")
    return target


if __name__ == "__main__":
    path = build()
    size = sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
    print(f"built {path} ({size / 1024:.0f} KB)")
