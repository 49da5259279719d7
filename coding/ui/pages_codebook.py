"""Codebook: the code tree with definitions; add, edit, rename, move and merge codes; export YAML.
Each change stores a new codebook version."""

import streamlit as st

from ..project.codebook import code_state
from . import state
from .render import code_colours, escape

TOP = "(top level)"
FORM = {"name": "Name", "definition": "Definition", "inclusion": "Include when",
        "exclusion": "Exclude when", "examples": "Examples (one per line)",
        "keywords": "Keywords (one per line)", "colour": "Colour"}


def codebook_page(proj):
    label, version = proj.store.label, state.version(proj)
    codebook = state.codebook(proj, label, version)
    st.title("Codebook")
    if codebook is None:
        st.info("No codebook yet: import one with `coding codebook import PROJECT FILE`.")
        return
    st.caption(f"{state.plain(codebook.name)} {state.plain(codebook.version)} · "
               f"{len(codebook.codes)} codes")
    counts = state.codings(proj, label, version)["code"].value_counts().to_dict()
    tree, tools = st.columns([3, 2])
    with tree:
        _tree(codebook, counts)
    with tools:
        tab_edit, tab_add, tab_move, tab_merge = st.tabs(["Edit", "Add", "Move", "Merge"])
        with tab_edit:
            _edit(proj, codebook)
        with tab_add:
            _add(proj, codebook)
        with tab_move:
            _move(proj, codebook)
        with tab_merge:
            _merge(proj, codebook, counts)
        st.download_button("Download codebook (YAML)", proj.codebook_yaml(),
                           file_name=f"{codebook.id}.yaml", mime="application/x-yaml",
                           key="codebook_yaml")


def _tree(codebook, counts):
    st.html(tree_html(codebook, counts, code_colours(codebook)))


TREE_STYLE = ("<style>.code-tree,.code-tree ul{list-style:none;margin:0;padding-left:1.2em}"
              ".code-tree{padding-left:0}.code-tree ul{border-left:1px solid #cbd5e1}"
              ".code-tree summary{cursor:pointer;padding:2px 0}.code-tree .count{color:#64748b}"
              ".code-tree .detail{margin:2px 0 6px 1.2em;color:#334155;font-size:.92em}"
              ".code-tree .swatch{display:inline-block;width:.8em;height:.8em;"
              "margin-right:.4em;border-radius:2px;vertical-align:middle}</style>")


def rolled_up(codebook, counts):
    """{code id: (its own codings, its codings with those of every code under it)}."""
    totals = {}

    def total(code_id):
        if code_id not in totals:
            own = counts.get(code_id, 0)
            totals[code_id] = (own, own + sum(total(c.id)[1]
                                              for c in codebook.children(code_id)))
        return totals[code_id]

    for code in codebook.codes:
        total(code.id)
    return totals


def tree_html(codebook, counts, colours):
    """The code tree as nested lists, each code's full name (never cut) with its codings and,
    for a parent, those of all its sub-codes; its definition, rules, examples and keywords
    open from its name. Every name and text is escaped."""
    totals = rolled_up(codebook, counts)

    def branch(code_ids):
        return "<ul>" + "".join(node(codebook.get(c)) for c in code_ids) + "</ul>"

    def node(code):
        own, total = totals[code.id]
        count = f"{own} coding{'s' if own != 1 else ''}" + \
            (f", {total} with its sub-codes" if total != own else "")
        details = [f"id {escape(code.id)} · {escape(codebook.path(code.id))}"]
        for label, text in (("Definition", code.definition), ("Include when", code.inclusion),
                            ("Exclude when", code.exclusion)):
            if text:
                details.append(f"<b>{label}</b>: {escape(text)}")
        details += [f"“{escape(example)}”" for example in code.examples]
        if code.keywords:
            details.append("Keywords: " + escape(", ".join(code.keywords)))
        children = [c.id for c in codebook.children(code.id)]
        return (f'<li><details><summary><span class="swatch" style="background:'
                f'{escape(colours[code.id])}"></span>{escape(code.name)} '
                f'<span class="count">({count})</span></summary><div class="detail">'
                + "<br>".join(details) + "</div></details>"
                + (branch(children) if children else "") + "</li>")

    top = [c.id for c in codebook.walk() if not c.parent]
    return TREE_STYLE + '<ul class="code-tree">' + "".join(
        node(codebook.get(c)) for c in top) + "</ul>"


def _names(codebook):
    return {code.id: f"{code.name} ({code.id})" for code in codebook.walk()}


def _form_values(code, codebook):
    """What the edit form shows for a code."""
    return {"name": code.name, "definition": code.definition, "inclusion": code.inclusion,
            "exclusion": code.exclusion, "examples": "\n".join(code.examples),
            "keywords": "\n".join(code.keywords),
            "colour": code.colour or code_colours(codebook)[code.id]}


def _edit(proj, codebook):
    """The edit form keeps the state of the code it was opened on (`loaded`), and a save
    sends it as `based_on`: when someone changed the code since, the save is refused and the
    coder's unsaved text and the stored text stay side by side to merge (issue 13, item 3)."""
    names = _names(codebook)
    code_id = st.selectbox("Code", list(names), format_func=names.get, key="edit_code")
    code = codebook.get(code_id)
    key = f"edit_{code_id}_"  # per code, so picking another code shows its own values
    loaded = _open_editor(key, code, codebook)
    with st.form(f"edit-{code_id}"):
        for field, label in FORM.items():
            widget = st.text_input if field == "name" else \
                st.color_picker if field == "colour" else st.text_area
            widget(label, key=key + field)  # values set in session state by _open_editor
        submitted = st.form_submit_button("Save code")
    if submitted:
        mine = {field: st.session_state[key + field] for field in FORM}
        done = state.safely(proj.update_code, code_id, based_on=loaded["state"], **mine)
        if done is not None:
            for suffix in ("loaded", "conflict"):
                st.session_state.pop(key + suffix, None)
            state.flash(f"Saved {done.name}.")
            st.rerun()
        stored = (proj.codebook_or_none() or codebook).get(code_id)
        if stored is not None and code_state(stored) != loaded["state"]:
            # the coder has now seen the stored text: the next save may replace it
            st.session_state[key + "conflict"] = {"mine": mine,
                                                  "stored": _form_values(stored, codebook)}
            st.session_state[key + "loaded"] = {"state": code_state(stored)}
    conflict = st.session_state.get(key + "conflict")
    if conflict:
        _show_conflict(conflict)
    elif code_state(code) != loaded["state"]:
        st.info("Someone changed this code since you opened it (the tree shows it as stored "
                "now). Saving will show both versions to merge.")
        st.button("Load the stored version (drops your unsaved changes)",
                  key=key + "reload", on_click=_reload, args=(key, code, codebook))


def _reload(key, code, codebook):
    _load_stored(key, code, codebook)
    st.session_state.pop(key + "conflict", None)


def _open_editor(key, code, codebook):
    """Fill the form with the stored code the first time it is opened (and when its widgets
    were dropped, after another page: an unsaved text refused as stale stays in the conflict
    panel); afterwards the form keeps what the coder typed."""
    if key + "loaded" not in st.session_state or \
            any(key + field not in st.session_state for field in FORM):
        _load_stored(key, code, codebook)
    return st.session_state[key + "loaded"]


def _load_stored(key, code, codebook):
    for field, value in _form_values(code, codebook).items():
        st.session_state[key + field] = value
    st.session_state[key + "loaded"] = {"state": code_state(code)}


def _show_conflict(conflict):
    st.warning("Not saved: someone changed this code since you opened it. Your text is still "
               "in the form; below, each field that differs, yours beside the stored one. "
               "Merge them in the form and save again: that save replaces the stored text.")
    for field, label in FORM.items():
        mine, stored = conflict["mine"][field], conflict["stored"][field]
        if mine == stored:
            continue
        st.markdown(f"**{label.split(' (')[0]}**")
        left, right = st.columns(2)
        left.caption("Yours (not saved)")
        left.code(mine, language=None, wrap_lines=True)
        right.caption("Stored now")
        right.code(stored, language=None, wrap_lines=True)


def _add(proj, codebook):
    names = _names(codebook)
    with st.form("add-code", clear_on_submit=True):
        code_id = st.text_input("Id (letters, digits, _ or -)", key="add_id")
        name = st.text_input("Name", key="add_name")
        parent = st.selectbox("Parent", [TOP, *names], key="add_parent",
                              format_func=lambda c: names.get(c, c))
        definition = st.text_area("Definition", key="add_definition")
        if st.form_submit_button("Add code"):
            done = state.safely(proj.add_code, code_id, name,
                                None if parent == TOP else parent, definition=definition)
            if done is not None:
                state.flash(f"Added {done.name}.")
                st.rerun()


def _move(proj, codebook):
    names = _names(codebook)
    code_id = st.selectbox("Code", list(names), format_func=names.get, key="move_code")
    parent = st.selectbox("New parent", [TOP, *[c for c in names if c != code_id]],
                          format_func=lambda c: names.get(c, c), key="move_parent")
    if st.button("Move", key="move"):
        if state.safely(proj.move_code, code_id, None if parent == TOP else parent):
            state.flash(f"Moved {names[code_id]} under {names.get(parent, parent)}.")
            st.rerun()


def _merge(proj, codebook, counts):
    names = _names(codebook)
    source = st.selectbox("Merge this code", list(names), format_func=names.get,
                          key="merge_source")
    target = st.selectbox("into", [c for c in names if c != source], format_func=names.get,
                          key="merge_target")
    st.caption(f"{counts.get(source, 0)} codings move to the second code; the first is retired "
               "(kept in history), its children move too.")
    if st.button("Merge", key="merge"):
        moved = state.safely(proj.merge_codes, source, target)
        if moved is not None:
            state.flash(f"Merged {names[source]} into {names[target]}: {moved} codings moved.")
            st.rerun()
