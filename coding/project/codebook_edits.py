"""Edits to a codebook: add, change, move and merge codes.

Each function takes a Codebook and returns a new, validated one; the project stores it as a new
codebook version. Validation reuses the YAML checks (a round trip through the file format), so a
cycle, a duplicate id or an unknown parent gets the same message in the app as in a file.
"""

from dataclasses import replace

from ..errors import CodebookError
from ..readers.codebooks import dump_codebook, parse_codebook
from ..records import Code

EDITABLE = ("name", "definition", "inclusion", "exclusion", "examples", "keywords",
            "patterns", "colour")


def code_state(code):
    """The editable fields of a code as plain data, for telling whether it changed since an
    editor loaded it (Project.update_code's `based_on`). `code` is a Code, or such a dict
    (possibly of some fields only: those are the ones compared).

    >>> code_state(Code(id="trust", name="Trust"))["name"]
    'Trust'
    """
    if isinstance(code, Code):
        fields = {field: getattr(code, field) for field in EDITABLE}
    elif isinstance(code, dict):
        unknown = set(code) - set(EDITABLE)
        if unknown:
            raise CodebookError(f"based_on names {', '.join(sorted(unknown))}, which are not "
                                f"editable fields of a code (those are {', '.join(EDITABLE)})")
        fields = code
    else:
        raise CodebookError(f"based_on must be a Code or a dict of its fields, not "
                            f"{type(code).__name__}")
    return {field: list(value) if isinstance(value, (list, tuple)) else value
            for field, value in fields.items()}


def validated(codebook):
    """The codebook as the file loader would read it back; CodebookError when it is invalid."""
    return parse_codebook(dump_codebook(codebook), path=f"codebook '{codebook.name}'")


def add_code(codebook, code_id, name, parent=None, **fields):
    code_id = (code_id or "").strip()
    if not code_id:
        raise CodebookError("a new code needs an id")
    if codebook.get(code_id) is not None:
        raise CodebookError(f"there is already a code with id '{code_id}'")
    if parent and codebook.get(parent) is None:
        raise CodebookError(f"parent '{parent}' is not a code in this codebook")
    code = Code(id=code_id, name=(name or code_id).strip(), parent=parent or None,
                **_clean(fields))
    return validated(replace(codebook, codes=codebook.codes + (code,)))


def update_code(codebook, code_id, **fields):
    """Change a code's name, definition, rules, examples, keywords, patterns or colour."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise CodebookError(f"cannot edit {', '.join(sorted(unknown))} of a code "
                            f"(editable: {', '.join(EDITABLE)})")
    code = _existing(codebook, code_id)
    return _with(codebook, code_id, replace(code, **_clean(fields)))


def move_code(codebook, code_id, parent):
    """Put a code under another parent (None: top level); a move into its own subtree fails."""
    code = _existing(codebook, code_id)
    if parent is not None:
        _existing(codebook, parent)
        path = codebook.path(parent).split("/")
        if code_id in path:
            raise CodebookError(f"cannot move '{code_id}' under '{parent}': "
                                f"'{parent}' is inside '{code_id}'")
    return _with(codebook, code_id, replace(code, parent=parent or None))


def merge_codes(codebook, source, target):
    """The codebook without `source`; its children move under `target`. The project moves the
    codings (Project.merge_codes)."""
    _existing(codebook, source)
    _existing(codebook, target)
    if source == target:
        raise CodebookError("cannot merge a code into itself")
    if source in codebook.path(target).split("/"):
        raise CodebookError(f"cannot merge '{source}' into '{target}', which is inside it")
    codes = tuple(replace(c, parent=target) if c.parent == source else c
                  for c in codebook.codes if c.id != source)
    return validated(replace(codebook, codes=codes))


def _existing(codebook, code_id):
    code = codebook.get(code_id)
    if code is None:
        raise CodebookError(f"no code '{code_id}' in the codebook")
    return code


def _with(codebook, code_id, new_code):
    return validated(replace(codebook, codes=tuple(new_code if c.id == code_id else c
                                                   for c in codebook.codes)))


def _clean(fields):
    """Lists become tuples of non-empty stripped strings, text is stripped."""
    cleaned = {}
    for key, value in fields.items():
        if key in ("examples", "keywords", "patterns"):
            if isinstance(value, str):
                value = value.splitlines()
            cleaned[key] = tuple(v.strip() for v in value or () if v and v.strip())
        elif key == "colour":
            cleaned[key] = (value or "").strip() or None
        else:
            cleaned[key] = (value or "").strip()
    return cleaned
