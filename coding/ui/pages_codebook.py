"""Codebook: the code tree with definitions; add, edit, rename, move and merge codes; export YAML.
Each change stores a new codebook version."""

import streamlit as st

from ..codebook import dump_codebook
from . import state
from .render import code_colours

TOP = "(top level)"


def codebook_page(proj):
    label, version = proj.store.label, state.version(proj)
    codebook = state.codebook(proj, label, version)
    st.title("Codebook")
    if codebook is None:
        st.info("No codebook yet: import one with `coding codebook import PROJECT FILE`.")
        return
    st.caption(f"{codebook.name} {codebook.version} · {len(codebook.codes)} codes")
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
        st.download_button("Download codebook (YAML)", dump_codebook(codebook),
                           file_name=f"{codebook.id}.yaml", mime="application/x-yaml",
                           key="codebook_yaml")


def _tree(codebook, counts):
    colours = code_colours(codebook)
    for code in codebook.walk():
        depth = codebook.path(code.id).count("/")
        with st.expander(f"{'    ' * depth}{code.name} ({counts.get(code.id, 0)})"):
            st.html(f'<span style="background:{colours[code.id]};padding:0 8px">&nbsp;</span>')
            st.caption(f"id {code.id} · {codebook.path(code.id)}")
            for field in ("definition", "inclusion", "exclusion"):
                if getattr(code, field):
                    st.markdown(f"**{field.capitalize()}**")
                    st.text(getattr(code, field))
            if code.examples:
                st.markdown("**Examples**")
                for example in code.examples:
                    st.text(f"“{example}”")
            if code.keywords:
                st.caption("Keywords: " + ", ".join(code.keywords))


def _names(codebook):
    return {code.id: f"{code.name} ({code.id})" for code in codebook.walk()}


def _edit(proj, codebook):
    names = _names(codebook)
    code_id = st.selectbox("Code", list(names), format_func=names.get, key="edit_code")
    code = codebook.get(code_id)
    with st.form(f"edit-{code_id}"):
        key = f"edit_{code_id}_"  # per code, so picking another code shows its own values
        name = st.text_input("Name", code.name, key=key + "name")
        definition = st.text_area("Definition", code.definition, key=key + "definition")
        inclusion = st.text_area("Include when", code.inclusion, key=key + "inclusion")
        exclusion = st.text_area("Exclude when", code.exclusion, key=key + "exclusion")
        examples = st.text_area("Examples (one per line)", "\n".join(code.examples),
                                key=key + "examples")
        keywords = st.text_area("Keywords (one per line)", "\n".join(code.keywords),
                                key=key + "keywords")
        colour = st.color_picker("Colour", code.colour or code_colours(codebook)[code_id],
                                 key=key + "colour")
        if st.form_submit_button("Save code"):
            done = state.safely(proj.update_code, code_id, name=name, definition=definition,
                                inclusion=inclusion, exclusion=exclusion, examples=examples,
                                keywords=keywords, colour=colour)
            if done is not None:
                state.flash(f"Saved {done.name}.")
                st.rerun()


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
