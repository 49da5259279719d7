"""Errors a user can cause and fix.

    CodingError                 one clear message: "path:line: what is wrong"
     ├── TranscriptError        a transcript cannot be read or split into turns
     ├── CodebookError          a codebook file is malformed or inconsistent
     ├── CaseSheetError         a participants sheet is malformed
     ├── CodingsFileError       a codings file (gold codings, imports) cannot be applied
     ├── RefiError              a REFI-QDA file cannot be read
     ├── StoreError             a project cannot be opened or changed
     └── SuggesterError         a suggester was misused or misconfigured

Interfaces catch CodingError exactly once and show str(err); anything else is a bug.
A database URL's password never reaches a message: `path` and `message` go through
`redact_url` (issue 13, item 14).
"""

import re

# scheme://user:password@host -> scheme://user:***@host, as SQLAlchemy's
# URL.render_as_string(hide_password=True) shows it, but in any text (a driver's message too),
# and without parsing: the password runs to the last "@" before white space, so one with an
# unescaped "@" (which make_url would split) is hidden whole. A password given as a query
# parameter (?password=...) is hidden too.
_USER_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):\S*@")
_QUERY_PASSWORD = re.compile(r"(://\S*?[?&](?:password|passwd|pwd)=)[^&\s]*", re.IGNORECASE)


def redact_url(text):
    """`text` with the password of every URL in it shown as ***.

    >>> redact_url("cannot connect to postgresql+psycopg://ann:s3cret@db.example.org/study")
    'cannot connect to postgresql+psycopg://ann:***@db.example.org/study'
    """
    if text is None or "://" not in str(text):
        return text
    text = _USER_PASSWORD.sub(r"\1:***@", str(text))
    return _QUERY_PASSWORD.sub(r"\1***", text)


class CodingError(Exception):
    """Base class: str(err) starts with "path:line:" when they are known."""

    def __init__(self, message, path=None, line=None):
        self.message = redact_url(message)
        self.path = redact_url(str(path)) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __str__(self):
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return where + self.message


class TranscriptError(CodingError):
    pass


class CodebookError(CodingError):
    """One or more codebook problems; `problems` holds every CodingError found."""

    def __init__(self, message, path=None, line=None, problems=None):
        self.problems = list(problems or [])
        super().__init__(message, path=path, line=line)


class CaseSheetError(CodingError):
    pass


class CodingsFileError(CodingError):
    pass


class RefiError(CodingError):
    pass


class StoreError(CodingError):
    pass


class SuggesterError(CodingError):
    pass
