"""What the REFI-QDA reader, importer and exporter share: stable GUIDs, a code's Description,
and the small text rules for names, numbers and dates.

GUIDs. Every GUID we write is stable across exports and valid (REFI's GUIDType): uuid5 of the
project (its name and creation time) and the object (a code's id, a document's SHA-256, a
case's or variable's name; users by name alone, so a person has one GUID in every project).
Selections, codings and notes get uuid5 of their content (document, code, span, coder; a
memo's target and text), so a re-exported import keeps them. GUIDs read from an import are kept
(documents in their `meta["refi_guid"]`, selections and codings in `meta["refi_selections"]`;
codes, cases, variables, users and sets in the project's `settings["refi"]`) and reused by the
next export. An id that is not a GUID (a codebook written by hand with `c001`) is kept too, so
the same file imports again onto the same codes, but never written: the export writes the
GUID the import made for it (issue 15, item 5).
"""

import re
import uuid
from datetime import date, timezone

SETTINGS_KEY = "refi"  # the project settings holding GUIDs kept from imports
# Our namespace for uuid5 GUIDs; fixed forever, or every export's GUIDs change.
GUID_NAMESPACE = uuid.UUID("5f0e7a4c-3b1d-5c8e-9a2f-6d4b8e1c7a30")

DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STATED_ID = re.compile(r"\n\nCode id: ([A-Za-z][A-Za-z0-9_.-]*)$")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12})\}?$")
_SECTION = re.compile(r"\n\n(?=(?:Inclusion: |Exclusion: |Examples:\n))")


class Guids:
    """Stable GUIDs: ones kept from an import, else uuid5 of the project seed and the object."""

    def __init__(self, seed, kept):
        self.seed = seed
        self.kept = kept

    @classmethod
    def of_project(cls, project):
        """The GUIDs of a project row (its name, creation time and settings['refi'])."""
        created = project.created_at
        if created is not None and created.tzinfo is not None:
            created = created.astimezone(timezone.utc).replace(tzinfo=None)
        created = created.isoformat() if created is not None else ""
        return cls(f"{project.name}|{created}", dict((project.settings or {}).get(
            SETTINGS_KEY) or {}))

    def content(self, *parts):
        return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(map(str, parts)))).upper()

    def derived(self, kind, *parts):
        return self.content(self.seed, kind, *parts)

    def _kept(self, kind, key):
        # A kept id that is not a GUID (projects imported before issue 15 kept 'c001') is
        # never written: the derived GUID stands in for it.
        return valid_guid(self.kept.get(kind, {}).get(key))

    def code(self, key):
        return self._kept("codes", key) or self.derived("code", key)

    def case(self, name):
        return self._kept("cases", name) or self.derived("case", name)

    def variable(self, name):
        return self._kept("variables", name) or self.derived("variable", name)

    def user(self, name):
        return self._kept("users", name) or self.content("user", name)

    def set(self, kind, name):
        return self._kept("sets", f"{kind}:{name}") or self.derived("set", kind, name)

    def document(self, doc):
        return valid_guid((doc.meta or {}).get("refi_guid")) or \
            self.derived("document", doc.sha256)


def valid_guid(value):
    """`value` as a GUID we may write (upper case, no braces), or None when it is not one."""
    found = _GUID.match(value.strip()) if isinstance(value, str) else None
    return found.group(1).upper() if found else None



def describe_code(code):
    """A code's REFI Description: definition, then Inclusion/Exclusion/Examples paragraphs (read
    back by `parse_description`).

    Our code ids are not written into the researcher's text (issue 15, item 5): the code's
    GUID carries them back into the project it came from (`Guids.code`), and a .qdpx carries
    them to a new project in its `coding.json` member (see exporter).
    """
    parts = [code.definition] if code.definition else []
    if code.inclusion:
        parts.append("Inclusion: " + code.inclusion)
    if code.exclusion:
        parts.append("Exclusion: " + code.exclusion)
    if code.examples:
        parts.append("Examples:\n" + "\n".join("- " + " ".join(example.split())
                                               for example in code.examples))
    return "\n\n".join(parts)


def parse_description(text):
    """The fields of a Description written by `describe_code`; any other text is all definition.
    A last 'Code id: ...' line (written by exports before issue 15) gives the code's id.

    >>> parse_description("Trust between people.\\n\\nInclusion: talk of trust")
    {'definition': 'Trust between people.', 'inclusion': 'talk of trust', ..., 'id': None}
    """
    text = (text or "").strip()
    stated = _STATED_ID.search("\n\n" + text)
    code_id = None
    if stated:
        code_id, text = stated.group(1), ("\n\n" + text)[:stated.start()].strip()
    fields = _description_fields(text)
    fields["id"] = code_id
    return fields


def _description_fields(text):
    fields = {"definition": "", "inclusion": "", "exclusion": "", "examples": ()}
    chunks = _SECTION.split("\n\n" + text)
    fields["definition"] = chunks[0].strip()
    order = []
    for chunk in chunks[1:]:
        for key, label in (("inclusion", "Inclusion: "), ("exclusion", "Exclusion: ")):
            if chunk.startswith(label):
                fields[key] = chunk[len(label):].strip()
                order.append(key)
        if chunk.startswith("Examples:\n"):
            lines = chunk[len("Examples:\n"):].split("\n")
            if not all(line.startswith("- ") for line in lines):
                return {**fields, "definition": text, "inclusion": "", "exclusion": "",
                        "examples": ()}
            fields["examples"] = tuple(line[2:].strip() for line in lines if line[2:].strip())
            order.append("examples")
    expected = [k for k in ("inclusion", "exclusion", "examples") if k in order]
    if order != expected:  # sections out of order or repeated: not ours, keep the text whole
        return {"definition": text, "inclusion": "", "exclusion": "", "examples": ()}
    return fields


def valid_date(value):
    """Whether `value` is a date written YYYY-MM-DD."""
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return bool(_DATE.match(value))


def quote_name(text, limit=80):
    """Text on one line, cut to `limit` characters with an ellipsis: a selection's name."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "\u2026"


def counted(count, word):
    """'1 coding', '3 codings'."""
    return f"{count} {word}{'' if count == 1 else 's'}"
