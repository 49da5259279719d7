"""What every page shares: the open project, the coder's name, and cached reads.

Reads are cached per project and *data version* (the newest event id: every change writes an
event), so any write, from this session, another session or the CLI, invalidates them at once
while an idle rerun costs one tiny query.
"""

import os
import re
import string
import sys
from pathlib import Path

import streamlit as st

from ..errors import CodingError, StoreError, redact_url
from ..project import Project, open_project
from ..records import COUNTED_STATUSES, SUGGESTED, WITH_SUGGESTIONS

SAMPLE_PROJECT = "sample_project.db"
PAGES = ("Documents", "Transcript", "Search", "Review", "Codebook", "Themes", "Agreement",
         "Export")


def project_location():
    """The project after `--` in `streamlit run app.py -- PROJECT`, else $CODING_PROJECT (set by
    `coding app PROJECT`), else the sample study that `coding demo` builds."""
    script = Path(sys.argv[0]).name if sys.argv else ""
    args = [a for a in sys.argv[1:] if not a.startswith("-")] \
        if script in ("app.py", "streamlit_app.py") else []
    return args[0] if args else os.environ.get("CODING_PROJECT") or SAMPLE_PROJECT


@st.cache_resource(show_spinner=False)
def _store(location):
    return open_project(location).store


def project():
    """A Project for this session: the shared store, stamped with this session's coder."""
    return Project(_store(project_location()), coder=coder() or "anonymous")


def coder():
    """This session's coder: chosen in the app, or given by `coding --coder NAME app`."""
    return st.session_state.get("coder") or st.query_params.get("coder") or \
        os.environ.get("CODING_APP_CODER", "")


def coder_label():
    """How the coder is shown: with sign-in, "Name <e-mail>" (the e-mail is what is stamped);
    else the name itself."""
    return st.session_state.get("coder_label") or coder()


# -- user data shown as text ------------------------------------------------------------------
_MARKDOWN = re.compile("([" + re.escape(string.punctuation) + "])")
_JOINER = "\u2060"  # WORD JOINER: invisible, and breaks GFM's link detection in plain text
_WWW = re.compile(r"(www)(\.)", re.IGNORECASE)


def plain(text):
    """`text` for an element that renders Markdown (st.markdown, st.caption, st.success and
    the other messages, headings, widget labels, radio options, buttons, expander titles): it
    shows as the characters it is, never as an image, a link, a heading or HTML (issue 13,
    item 13). Every ASCII punctuation character is backslash-escaped (CommonMark); GFM links
    plain URLs and e-mail addresses even after escaping, so a word joiner is put after `://`
    and `@` and before the dot of `www.`. Selectbox and multiselect options, st.text,
    st.code and st.dataframe show text as it is, and need no escaping.

    `st.caption(f"Coding as **{plain(name)}**")`: the name shows as typed, in bold.
    """
    text = "" if text is None else str(text)
    text = text.replace("://", ":" + _JOINER + "//").replace("@", "@" + _JOINER)
    return _MARKDOWN.sub(r"\\\1", _WWW.sub(r"\1" + _JOINER + r"\2", text))


def message(text):
    """A message for st.error/st.success/st.info: database passwords hidden (errors.redact_url,
    which is safe to apply twice: a CodingError has done it already), Markdown escaped."""
    return plain(redact_url("" if text is None else str(text)))


def blind():
    """Blind coding (the sidebar toggle): this session sees only its own codings."""
    return bool(st.session_state.get("blind"))


def visible(frame):
    """The rows of a codings or memos frame this session may see: every row, or in blind
    coding only the coder's own (plus pending suggestions: the suggesters are no person's
    work). The one place blind coding filters, so no page shows another coder by accident."""
    if not blind():
        return frame
    mine = frame["coder"] == coder()
    if "status" in frame.columns:
        mine |= frame["status"] == SUGGESTED
    return frame[mine]


def version(proj):
    """Changes whenever anything in the project changes."""
    return proj.data_version()


# -- cached reads: (project label, version) are the cache key; the Project is not hashed ------
@st.cache_data(show_spinner=False, max_entries=8)
def codings(_proj, label, data_version, include_suggestions=False):
    return _proj.codings_frame(statuses=WITH_SUGGESTIONS if include_suggestions else
                               COUNTED_STATUSES)


@st.cache_data(show_spinner=False, max_entries=8)
def pending(_proj, label, data_version, order, code=None, limit=None):
    """The head of the review queue (sorted and cut in the database) and its length."""
    return _proj.pending(order=order, code=code, limit=limit), _proj.pending_count(code)


@st.cache_data(show_spinner=False, max_entries=8)
def documents(_proj, label, data_version):
    return _proj.documents()


@st.cache_data(show_spinner=False, max_entries=8)
def cases(_proj, label, data_version):
    return _proj.cases()


@st.cache_data(show_spinner=False, max_entries=8)
def codebook(_proj, label, data_version):
    return _proj.codebook_or_none()


@st.cache_data(show_spinner=False, max_entries=4)
def case_words(_proj, label, documents):
    """Participant words per case; they change only when documents come, go, change content
    or case, so `documents` (a tuple of (id, sha256, case), not the data version) is the key."""
    return _proj.case_words()


@st.cache_data(show_spinner=False, max_entries=64)
def _turns(_proj, label, document, document_id, sha256):
    return _proj.turns(document)


def turns(proj, label, document, data_version=None):
    """A document's turns, cached by its content (id and SHA-256), not its name: a restored
    backup or a re-ingested file may hold other text under the same name (issue 13, item 4).
    `document` is a DocumentInfo, or a name looked up among the documents of `data_version`
    (default: the current one)."""
    info = document if hasattr(document, "sha256") else document_info(
        proj, label, version(proj) if data_version is None else data_version, document)
    return _turns(proj, label, info.name, info.id, info.sha256)


def document_info(proj, label, data_version, name):
    """The DocumentInfo of the document called `name`; StoreError when there is none."""
    for info in documents(proj, label, data_version):
        if info.name == name:
            return info
    raise StoreError(f"no document named '{name}' in this project", path=label)


@st.cache_data(show_spinner=False, max_entries=8)
def coding_counts(_proj, label, data_version):
    return _proj.coding_counts()


@st.cache_data(show_spinner=False, max_entries=8)
def agreement(_proj, label, data_version, coders, unit, codes):
    """Project.agreement for a tuple of coders and a tuple of codes (empty: every code)."""
    return _proj.agreement(list(coders), unit, codes=list(codes) or None)


@st.cache_data(show_spinner=False, max_entries=8)
def disagreements(_proj, label, data_version, coders, unit, code):
    """Project.open_disagreements for a pair of coders and a code."""
    return _proj.open_disagreements(list(coders), unit, code)


@st.cache_data(show_spinner=False, max_entries=64)
def sentences(_proj, label, document, document_id, sha256, seq):
    """Project.sentences of one turn; keyed by the document's id and SHA-256, as turns are."""
    return _proj.sentences(document, seq)


def status_counts(proj, label, data_version):
    """Codings per status over the whole project (see Project.coding_counts)."""
    totals = {}
    for by_status in coding_counts(proj, label, data_version).values():
        for status, n in by_status.items():
            totals[status] = totals.get(status, 0) + n
    return totals


def pending_by_document(proj, label, data_version):
    return {document: by_status.get(SUGGESTED, 0)
            for document, by_status in coding_counts(proj, label, data_version).items()}


def go_to(page, **params):
    """Switch page (from a button callback) and remember where, so a reload returns there."""
    st.session_state["page"] = page
    for key, value in params.items():
        st.session_state[key] = value


def safely(action, *args, **kwargs):
    """Run a change; a CodingError becomes a message at the top of the page, not a traceback.
    Returns the action's result, or None when it failed."""
    try:
        return action(*args, **kwargs)
    except CodingError as exc:
        flash(str(exc), "error")
        return None


def flash(message, kind="success"):
    """Show a message on the next render (callbacks run before the page is drawn)."""
    st.session_state.setdefault("_flash", []).append((kind, message))


def show_flash():
    """Flash messages are text: the data in them (names, quotes, paths) is never Markdown."""
    for kind, text in st.session_state.pop("_flash", []):
        (st.error if kind == "error" else st.success)(message(text))


# -- the Transcript page's reads (issue 16) ----------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def document_codings(_proj, label, data_version, document, statuses):
    """Project.codings_frame of one document, for a tuple of statuses."""
    return _proj.codings_frame(statuses=list(statuses), documents=[document])


@st.cache_data(show_spinner=False, max_entries=8)
def memos(_proj, label, data_version):
    return _proj.memos()


@st.cache_data(show_spinner=False, max_entries=16)
def recent_codes(_proj, label, data_version, coder):
    """Project.recent_codes of `coder`: what the code picker offers first."""
    return _proj.recent_codes(coder)
