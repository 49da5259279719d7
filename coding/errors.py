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
"""


class CodingError(Exception):
    """Base class: str(err) starts with "path:line:" when they are known."""

    def __init__(self, message, path=None, line=None):
        self.message = message
        self.path = str(path) if path is not None else None
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
