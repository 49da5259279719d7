"""REFI-QDA interchange (QDA-XML 1.0): .qdc codebooks and .qdpx projects, written and read.

Export writes the current codebook (`export_qdc`) or the whole project (`export_qdpx`, its
positions in code points, or in UTF-16 code units for NVivo with `positions="utf16"`). Import
(`import_qdc`, `import_qdpx`, which also takes a bare `.qde`; `import_refi` picks by extension)
reads files from ATLAS.ti, NVivo, MAXQDA, QualCoder, qc and us.

- `reader`: a file into plain records, no database (archives and XML read safely), with
  `elements` (the records and XML helpers) and `sources` (text sources and selections);
- `offsets`: a source's positions, in the unit its producer counts, mapped onto the text as
  we store it;
- `importer`: what the reader read, stored into a project in one transaction;
- `exporter`: a project written as a .qdc or .qdpx;
- `common`: stable, valid GUIDs and a code's Description, shared by all.

What a round trip through REFI keeps: document texts and names, the code tree with ids (by
GUID in the project they came from, and through a .qdpx's `coding.json` into a new one),
names, colours, definitions, inclusion/exclusion and examples (written into each code's
Description, and read back from it), cases with typed attributes and their documents,
accepted and manual codings (document, code, span, coder, time; selection and coding GUIDs),
memos (target, coder, title, text, time; a case's memos are Notes linked to the case, as a
Case cannot hold a NoteRef), users who coded nothing, and code and document groups (Sets).
What it loses: document formats and turns (sources are plain text; turns are re-segmented on
import, so a .vtt's cue times go), case file patterns, code keywords and regex patterns (kept
when a code is matched to an existing one), coding status (everything imports as `manual`,
origin `refi`), suggestion scores and rationales, and times below one second.
"""

from .common import GUID_NAMESPACE, SETTINGS_KEY, describe_code, parse_description
from .exporter import NS_CODEBOOK, NS_PROJECT, ExportReport, export_qdc, export_qdpx
from .importer import (ORIGIN, ImportReport, IncompleteImportError, import_qdc, import_qdpx,
                       import_refi)
from .reader import MAX_CODE_DEPTH

__all__ = ["ExportReport", "ImportReport", "IncompleteImportError", "export_qdc", "export_qdpx",
           "import_refi", "import_qdc", "import_qdpx", "describe_code", "parse_description", "NS_PROJECT",
           "NS_CODEBOOK", "SETTINGS_KEY", "ORIGIN", "GUID_NAMESPACE", "MAX_CODE_DEPTH"]
