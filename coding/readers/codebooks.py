"""Codebooks: YAML (and plain CSV) files <-> a Codebook of Code records, with validation.

Every problem is reported with file and line, all at once, so a researcher fixes a codebook in
one pass: duplicate ids, unknown parents, cycles, bad colours, unknown fields, bad regexes.
"""

import csv
import difflib
import io
import re
import unicodedata
from pathlib import Path

import yaml

from ..errors import CodebookError, CodingError
from ..files import open_regular_file
from ..records import Code, Codebook

CODE_FIELDS = ("id", "name", "parent", "children", "definition", "inclusion", "exclusion",
               "examples", "keywords", "patterns", "colour", "ordered")
HEADER_FIELDS = ("id", "name", "version", "description", "source")
TOP_FIELDS = ("codebook", "codes")
MAX_YAML_DEPTH = 100  # a code nested 48 deep; GCPH has 2 levels
MAX_YAML_VALUES = 1_000_000  # after aliases are expanded; the GCPH codebook has ~400
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")  # the whole id (fullmatch: no line break after)
# Half of a UTF-16 surrogate pair, which YAML's "\ud800" escape can make: not a character, so
# neither SQLite nor UTF-8 can store it (issue 13, item 21).
_SURROGATE = re.compile("[\ud800-\udfff]")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LIST_FIELDS = ("examples", "keywords", "patterns")
_TEXT_FIELDS = ("name", "definition", "inclusion", "exclusion")


class _Map(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line = None
    key_lines = None


class _Loader(yaml.SafeLoader):
    """SafeLoader (no Python tags) whose mappings carry line numbers and refuse duplicate keys."""


def _construct_map(loader, node):
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    yield mapping
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping.key_lines:
            raise CodebookError(f"key '{key}' appears twice in one mapping "
                                f"(first on line {mapping.key_lines[key]})", line=line)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def load_codebook(path):
    """Read and validate a codebook file (.yaml/.yml, or .csv with name, parent, description).

    Raises CodebookError listing every problem as "path:line: message".
    """
    path = Path(path)
    try:  # a device or a FIFO is refused unread (issue 13)
        with open_regular_file(path, CodebookError) as handle:
            raw = handle.read()
    except OSError as exc:
        raise CodebookError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise CodebookError("is not UTF-8 text; save it as UTF-8", path=path, line=line) from exc
    if path.suffix.lower() == ".csv":
        return parse_csv_codebook(content, path)
    return parse_codebook(content, path)


def parse_codebook(content, path="codebook.yaml"):
    """Parse and validate codebook YAML given as a string."""
    try:
        _check_size(content, path)
        data = yaml.load(content, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except CodebookError as exc:
        if exc.path:
            raise
        raise CodebookError(exc.message, path=path, line=exc.line) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = f"YAML tags are not allowed ({problem})"
        raise CodebookError(problem, path=path, line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise CodebookError(f"invalid YAML: {exc}", path=path) from exc
    return _build(data, path)


def _check_size(content, path):
    """Refuse YAML nested deeper than MAX_YAML_DEPTH, or whose aliases expand to more than
    MAX_YAML_VALUES values (a "billion laughs" bomb) or refer to themselves, before anything is
    built: PyYAML builds nested structures recursively, and one `str()` of an expanded alias
    would take all memory (issue 8). Reads the event stream, which is not recursive."""
    sizes, open_ = {}, []  # anchor -> values it expands to; [anchor, values] per open node
    for event in yaml.parse(content, Loader=_Loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            open_.append([event.anchor, 1])
            if len(open_) > MAX_YAML_DEPTH:
                raise CodebookError(f"is nested more than {MAX_YAML_DEPTH} levels deep; "
                                    "refused", path=path, line=event.start_mark.line + 1)
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, count = open_.pop()
            if anchor is not None:
                sizes[anchor] = count
        elif isinstance(event, yaml.ScalarEvent):
            count = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_):
                raise CodebookError(f"YAML alias '*{event.anchor}' refers to a node that "
                                    "contains it (a loop); refused", path=path,
                                    line=event.start_mark.line + 1)
            count = sizes.get(event.anchor, 1)  # an unknown alias: yaml.load reports it
        else:
            continue
        if open_:
            open_[-1][1] += count
            if open_[-1][1] > MAX_YAML_VALUES:
                raise CodebookError(f"YAML aliases expand to more than {MAX_YAML_VALUES:,} "
                                    "values (a 'billion laughs' bomb?); refused", path=path,
                                    line=event.start_mark.line + 1)


def _build(data, path):
    problems = []

    def problem(message, line):
        problems.append(CodingError(message, path=path, line=line))

    if not isinstance(data, _Map):
        raise CodebookError("must be a mapping with 'codebook:' and 'codes:' (see README)",
                            path=path, line=1)
    _check_characters(data, None, None, problem)
    if problems:  # every other message could quote the broken text: report these alone
        raise CodebookError("\n".join(str(p) for p in problems), problems=problems)
    for key in data:
        if key not in TOP_FIELDS:
            problem(f"unknown top-level field '{key}'{_hint(key, TOP_FIELDS)}",
                    data.key_lines[key])
    header = data.get("codebook") or _Map()
    if not isinstance(header, _Map):
        problem("'codebook' must be a mapping (id, name, version, description, source)",
                data.key_lines.get("codebook"))
        header = _Map()
    for key in header:
        if key not in HEADER_FIELDS:
            problem(f"unknown codebook field '{key}'{_hint(key, HEADER_FIELDS)}",
                    header.key_lines[key])
        elif header[key] is not None and not isinstance(header[key], (str, int, float)):
            problem(f"codebook field '{key}' must be text", header.key_lines[key])
    codes_data = data.get("codes")
    if not isinstance(codes_data, list) or not codes_data:
        problem("'codes' must be a non-empty list of codes", data.key_lines.get("codes", 1))
        codes_data = []

    codes, lines = [], {}
    _collect(codes_data, None, codes, lines, problem)
    _check_tree(codes, lines, problem)
    if problems:
        raise CodebookError("\n".join(str(p) for p in problems), problems=problems)
    return Codebook(id=str(header.get("id") or Path(str(path)).stem),
                    name=str(header.get("name") or header.get("id") or Path(str(path)).stem),
                    version=str(header.get("version") or ""),
                    description=_text(header.get("description")),
                    source=_text(header.get("source")), codes=tuple(codes))


def _collect(items, parent, codes, lines, problem):
    """Flatten nested `children` into codes (parents first), checking each code's fields."""
    for item in items:
        if not isinstance(item, _Map):
            problem("each code must be a mapping with at least 'id' and 'name'", None)
            continue
        line = item.line
        for key in item:
            if key not in CODE_FIELDS:
                problem(f"unknown field '{key}'{_hint(key, CODE_FIELDS)}", item.key_lines[key])
        code_id = item.get("id")
        if isinstance(code_id, str) and code_id.rstrip("\r\n") != code_id \
                and _ID.fullmatch(code_id.rstrip("\r\n")):
            problem(f"code id {code_id!r} ends in a line break (a YAML block scalar such as "
                    f"'id: |'?); write it on the same line: id: {code_id.rstrip()}",
                    item.key_lines["id"])
            continue
        if code_id is None or not _ID.fullmatch(str(code_id)):
            problem(f"code id {code_id!r} is missing or invalid (letters, digits, '_', '-', "
                    "'.'; starting with a letter)", line)
            continue
        code_id = str(code_id)
        if code_id in lines:
            problem(f"duplicate code id '{code_id}' (first defined on line {lines[code_id]})",
                    item.key_lines["id"])
            continue
        lines[code_id] = item.key_lines["id"]
        if "parent" in item and parent is not None:
            problem(f"code '{code_id}' is nested under '{parent}' and also names parent "
                    f"'{item['parent']}'; use one", item.key_lines["parent"])
        fields = {}
        for key in _TEXT_FIELDS:
            value = item.get(key)
            if value is not None and not isinstance(value, (str, int, float)):
                problem(f"'{key}' of code '{code_id}' must be text", item.key_lines[key])
                value = None
            fields[key] = _text(value)
        if not fields["name"]:
            problem(f"code '{code_id}' has no name", line)
        for key in _LIST_FIELDS:
            value = item.get(key) or []
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, (str, int, float))
                                                      for v in value):
                problem(f"'{key}' of code '{code_id}' must be a list of text",
                        item.key_lines[key])
                value = []
            fields[key] = tuple(_text(v) for v in value if _text(v))
        for pattern in fields["patterns"]:
            try:
                re.compile(pattern)
            except re.error as exc:
                problem(f"pattern {pattern!r} of code '{code_id}' is not a valid regular "
                        f"expression: {exc}", item.key_lines["patterns"])
        colour = item.get("colour")
        if colour is not None and not _COLOUR.match(str(colour)):
            problem(f"colour {colour!r} of code '{code_id}' is not '#rrggbb'",
                    item.key_lines["colour"])
            colour = None
        ordered = item.get("ordered", False)
        if not isinstance(ordered, bool):  # `ordered: yes` is YAML 1.1's true already
            problem(f"'ordered' of code '{code_id}' must be true or false (true: its children "
                    f"are a scale, lowest first), not {ordered!r}", item.key_lines["ordered"])
            ordered = False
        code_parent = parent if parent is not None else item.get("parent")
        codes.append(Code(id=code_id, parent=str(code_parent) if code_parent else None,
                          colour=str(colour).lower() if colour else None, ordered=ordered,
                          **fields))
        children = item.get("children") or []
        if not isinstance(children, list):
            problem(f"'children' of code '{code_id}' must be a list of codes",
                    item.key_lines["children"])
            children = []
        _collect(children, code_id, codes, lines, problem)


def _check_characters(node, line, field, problem, code=None):
    """Report every text in the YAML (keys too) holding a lone surrogate, with its line and
    field, and the code it belongs to."""
    if isinstance(node, _Map):
        code = node.get("id") if isinstance(node.get("id"), str) \
            and not _SURROGATE.search(node.get("id")) else None
        for key, value in node.items():
            key_line = node.key_lines.get(key, node.line)
            if isinstance(key, str) and _SURROGATE.search(key):
                problem(f"a field name holds {_escaped(key)}, {_SURROGATE_HINT}", key_line)
                continue
            _check_characters(value, key_line, key, problem, code)
    elif isinstance(node, list):
        for value in node:
            _check_characters(value, line, field, problem, code)
    elif isinstance(node, str) and _SURROGATE.search(node):
        owner = f" of code '{code}'" if code else ""
        problem(f"'{field}'{owner} holds {_escaped(node)}, {_SURROGATE_HINT}", line)


_SURROGATE_HINT = ("a lone UTF-16 surrogate, half of a character, which cannot be stored; "
                   "write the character itself (or \\U0001F600, not \\ud83d\\ude00)")


def _escaped(text):
    """Text for a message, surrogates shown as escapes (they cannot be printed)."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return '"' + _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", shown) + '"'


def _check_tree(codes, lines, problem):
    by_id = {code.id: code for code in codes}
    for code in codes:
        if code.parent is not None and code.parent not in by_id:
            close = difflib.get_close_matches(code.parent, list(by_id), n=1)
            hint = f". Did you mean '{close[0]}'?" if close else ""
            problem(f"code '{code.id}' has parent '{code.parent}', which is not defined{hint}",
                    lines[code.id])
    reported = set()
    for code in codes:
        seen, current = [], code.id
        while current is not None and current in by_id and current not in seen:
            seen.append(current)
            current = by_id[current].parent
        if current in seen and current not in reported:
            cycle = seen[seen.index(current):] + [current]
            reported.update(cycle)
            problem("codes form a cycle: " + " -> ".join(cycle), lines[current])


def _text(value):
    return "" if value is None else " ".join(str(value).split()) if "\n" not in str(value) \
        else str(value).strip()


def _hint(key, allowed):
    close = difflib.get_close_matches(str(key), allowed, n=1)
    if str(key) == "color":
        close = ["colour"]
    return f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"


def dump_codebook(codebook):
    """YAML text for a codebook, children nested under parents; load_codebook reads it back."""
    header = {"id": codebook.id, "name": codebook.name}
    for key in ("version", "description", "source"):
        if getattr(codebook, key):
            header[key] = getattr(codebook, key)

    def entry(code):
        item = {"id": code.id, "name": code.name}
        if code.colour:
            item["colour"] = code.colour
        for key in ("definition", "inclusion", "exclusion"):
            if getattr(code, key):
                item[key] = getattr(code, key)
        for key in _LIST_FIELDS:
            if getattr(code, key):
                item[key] = list(getattr(code, key))
        if code.ordered:
            item["ordered"] = True
        children = [entry(child) for child in codebook.children(code.id)]
        if children:
            item["children"] = children
        return item

    top = [entry(code) for code in codebook.codes if code.parent is None]
    return yaml.safe_dump({"codebook": header, "codes": top}, sort_keys=False,
                          allow_unicode=True, width=96)


_CSV_NAME = ("name", "code", "tag", "code name")
_CSV_PARENT = ("parent", "category", "parent code")
_CSV_DESCRIPTION = ("description", "definition", "memo")


def parse_csv_codebook(content, path="codebook.csv"):
    """A plain CSV codebook (name, parent, description), as Taguette and QualCoder users keep.

    Ids are made from names; `parent` names another row's code by name.
    """
    rows = list(csv.reader(io.StringIO(content)))
    if not rows:
        raise CodebookError("is empty", path=path, line=1)
    header = [h.strip().lower() for h in rows[0]]

    def column(names):
        return next((header.index(n) for n in names if n in header), None)

    name_col, parent_col, desc_col = (column(n) for n in (_CSV_NAME, _CSV_PARENT,
                                                           _CSV_DESCRIPTION))
    if name_col is None:
        raise CodebookError(f"has no 'name' column (found: {', '.join(rows[0])})", path=path,
                            line=1)
    problems, entries, ids_by_name = [], [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda col: row[col].strip() if col is not None and col < len(row) else ""  # noqa: E731
        name = cell(name_col)
        if not name:
            problems.append(CodingError("row has no code name", path=path, line=number))
            continue
        if name.lower() in ids_by_name:
            problems.append(CodingError(f"code '{name}' appears twice", path=path, line=number))
            continue
        code_id = code_id_from_name(name, set(ids_by_name.values()))
        ids_by_name[name.lower()] = code_id
        entries.append((number, code_id, name, cell(parent_col), cell(desc_col)))
    codes = []
    for number, code_id, name, parent, description in entries:
        parent_id = ids_by_name.get(parent.lower()) if parent else None
        if parent and parent_id is None:
            problems.append(CodingError(f"code '{name}' has parent '{parent}', which is not a "
                                        "code in this file", path=path, line=number))
        codes.append(Code(id=code_id, name=name, parent=parent_id, definition=description))
    lines = {code_id: number for number, code_id, *_ in entries}
    _check_tree(codes, lines, lambda message, line: problems.append(
        CodingError(message, path=path, line=line)))
    if problems:
        raise CodebookError("\n".join(str(p) for p in problems), problems=problems)
    stem = Path(str(path)).stem
    return Codebook(id=code_id_from_name(stem, set()), name=stem, codes=tuple(codes))


def code_id_from_name(name, taken):
    """An id for a code from its name: ascii letters, digits and '_', unique in `taken`
    (for codebooks from CSV files and other tools, which have names but no ids)."""
    ascii_name = "".join(ch for ch in unicodedata.normalize("NFKD", name)
                         if not unicodedata.combining(ch))
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:60].rstrip("_") \
        or "code"
    if not base[0].isalpha():
        base = "c_" + base
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key
