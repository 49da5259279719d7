"""The Streamlit app: a sidebar to pick the page, the coder's name asked once, then one page.

Pages are functions in coding.ui.pages_*; they call the package API and never write SQL. Any
CodingError a page raises is shown as st.error, never as a traceback.
"""

import streamlit as st

from ..errors import CodingError, redact_url
from ..project.team import CONSENSUS
from . import state
from .pages_agreement import agreement_page
from .pages_codebook import codebook_page
from .pages_documents import documents_page
from .pages_export import export_page
from .pages_review import review_page
from .pages_search import search_page
from .pages_themes import themes_page
from .pages_transcript import transcript_page

PAGE_FUNCTIONS = {"Documents": documents_page, "Transcript": transcript_page,
                  "Search": search_page,
                  "Review": review_page, "Codebook": codebook_page, "Themes": themes_page,
                  "Agreement": agreement_page, "Export": export_page}


def main():
    st.set_page_config(page_title="coding: interview analysis", layout="wide")
    try:
        proj = state.project()
    except CodingError as exc:
        st.error(f"{state.message(exc)}\n\nBuild the sample study with `coding demo`, or start "
                 "the app on your project: `coding app PROJECT`.")
        return
    _remember_from_url()
    if not _signed_in():
        return
    if not _ask_coder(proj):
        return
    proj = state.project()  # now stamped with the coder's name
    page = _sidebar(proj)
    messages = st.container()  # filled last, so changes made while drawing the page show too
    try:
        PAGE_FUNCTIONS[page](proj)
    except CodingError as exc:
        st.error(state.message(exc))
    with messages:
        state.show_flash()


def login_configured():
    """True when .streamlit/secrets.toml has an [auth] section (Streamlit's OIDC login)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises its own error types
        return False


def _signed_in():
    """With login configured, every session signs in first and codes under the identity the
    provider gives (so nobody can code under another's name); without it, open."""
    if not login_configured():
        return True
    if not st.user.get("is_logged_in", False):
        st.title("Sign in to code")
        st.button("Sign in", on_click=st.login, key="sign_in")
        return False
    coder, shown = signed_in_coder(st.user)
    st.session_state["coder"], st.session_state["coder_label"] = coder, shown
    st.query_params["coder"] = coder
    return True


def signed_in_coder(user):
    """(coder, shown) for a signed-in user (issue 13, item 17). The coder stamped on every
    change is the provider's e-mail: stable and unique, where two people may share a display
    name and a name can change. It is shown with the display name:

    >>> signed_in_coder({"name": "Aileen Murray", "email": "aileen@uni.ac.uk"})
    ('aileen@uni.ac.uk', 'Aileen Murray <aileen@uni.ac.uk>')

    Without an e-mail (a provider not asked for the `email` scope), the name, else the
    provider's subject id. Codings made before sign-in keep the names they were made under.
    """
    email = str(user.get("email") or "").strip()
    name = str(user.get("name") or "").strip()
    if email:
        return email, f"{name} <{email}>" if name and name != email else email
    coder = name or str(user.get("sub") or "").strip() or "signed-in user"
    return coder, coder


def _remember_from_url():
    """On a fresh session (a reload), take page, document and coder from the address."""
    if st.session_state.get("_restored"):
        return
    st.session_state["_restored"] = True
    params = st.query_params
    if params.get("page") in state.PAGES:
        st.session_state["page"] = params["page"]
    if params.get("doc"):
        st.session_state["doc"] = params["doc"]
    if params.get("coder"):
        st.session_state["coder"] = params["coder"]


def _ask_coder(proj):
    """Ask once who is coding; the name is stamped on every change this session makes."""
    if state.coder():
        return True
    st.title("Who is coding?")
    known = sorted(set(state.codings(proj, proj.store.label, state.version(proj))["coder"]
                       .dropna()) - {CONSENSUS})  # the team's agreed codings, not a person
    with st.form("coder-form"):
        picked = st.selectbox("Pick your name", ["(new coder)", *known], key="coder_pick")
        typed = st.text_input("or type it", key="coder_typed")
        if st.form_submit_button("Start coding"):
            name = typed.strip() or (picked if picked != "(new coder)" else "")
            if name:
                st.session_state["coder"] = name
                st.query_params["coder"] = name
                st.rerun()
            st.error("Type your name, or pick it from the list.")
    return False


def _undo(proj):
    done = state.safely(proj.undo)
    if done:
        state.flash(f"Undone: {done[0][2]}")


def _sidebar(proj):
    with st.sidebar:
        st.markdown(f"**{state.plain(redact_url(proj.store.label))}**")
        if proj.store.read_only:  # a read-only file or folder: reading works, changes do not
            st.warning(state.plain(f"{proj.store.read_only}: you can read and export, but "
                                   "not change anything"), icon=None)
        st.caption(f"Coding as **{state.plain(state.coder_label())}**")
        if not login_configured() and st.button("Change coder", key="change_coder"):
            st.session_state.pop("coder", None)
            st.query_params.pop("coder", None)
            st.rerun()
        st.button("Undo my last change", key="undo", on_click=_undo, args=(proj,),
                  help="Reverse your newest change (never another coder's): a coding, a "
                       "review decision (a bulk accept as a whole), a recode, a span, a memo, "
                       "a codebook edit. Each undo is logged.")
        page = st.radio("Page", state.PAGES, key="page")
        # the address remembers blind coding, so neither a reload nor the coder screen (no
        # sidebar, so the toggle's state is dropped) shows a blind coder the others' work
        st.session_state.setdefault("blind", st.query_params.get("blind") == "1")
        blind = st.toggle("Blind coding (hide other coders)", key="blind",
                          help="Show only your own codings (and the suggestions) on the "
                               "Transcript and Themes pages; the Agreement page is closed.")
    st.query_params["page"] = page
    if blind:
        st.query_params["blind"] = "1"
    else:
        st.query_params.pop("blind", None)
    return page
