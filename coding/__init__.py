"""coding: qualitative interview coding and thematic analysis.

>>> import coding
>>> project = coding.open("study.db")            # or coding.init(...) for a new one
>>> project.ingest(["transcripts/"], cases="participants.csv")
>>> project.import_codebook("codebooks/gcph_asset_based.yaml")
>>> project.codings_frame()
>>> coding.reliability.alpha(ratings, level="ordinal")   # any units x coders table (issue 18)
"""

import sys

from .analysis import reliability
from .errors import (CaseSheetError, CodebookError, CodingError, CodingsFileError, RefiError,
                     StoreError, SuggesterError, TranscriptError)
from .project import Project, init_project, open_project, restore_project
from .readers.codebooks import dump_codebook, load_codebook, parse_codebook
from .readers.speakers import SpeakerRules
from .readers.transcripts import expand_paths, ingest_file, parse_bytes
from .records import (Code, Codebook, DocumentInfo, IngestResult, ParsedDocument, Turn)

open = open_project  # noqa: A001 - `coding.open(PROJECT)` is the documented entry point
init = init_project
sys.modules[__name__ + ".reliability"] = reliability  # `from coding.reliability import alpha`

__all__ = [
    "open", "init", "open_project", "init_project", "restore_project", "Project",
    "load_codebook", "parse_codebook", "dump_codebook", "ingest_file", "parse_bytes",
    "expand_paths", "SpeakerRules", "Code", "Codebook", "DocumentInfo", "IngestResult", "ParsedDocument", "Turn",
    "CodingError", "TranscriptError", "CodebookError", "CaseSheetError", "CodingsFileError",
    "RefiError", "StoreError", "SuggesterError", "reliability",
]
