"""Reading untrusted zip archives and XML safely: members in memory, never extracted to disk.

Used by the REFI-QDA reader (`refi.py`); `check_zip` and `declares_dtd` also vet .xlsx sheets
and .docx transcripts before openpyxl or python-docx (which trust them) read them (issue 8).
An archive is checked whole before any member is read:
member names (no absolute paths, no `..`), member count, total unpacked size and each member's
compression ratio (a zip bomb). XML is parsed with defusedxml with DTDs forbidden, so no entity
expansion and no external entity or DTD is ever fetched (XXE, billion laughs).
"""

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from ..errors import RefiError
from ..files import check_regular_file

MAX_MEMBERS = 100_000
MAX_TOTAL_BYTES = 4 * 2**30  # every member unpacked: media files may be large, but not this
MAX_READ_BYTES = 200 * 2**20  # one member read into memory (.qde, a source text, a .docx)
MAX_RATIO = 100  # unpacked / packed for a member over RATIO_FLOOR bytes; text packs ~3-10x
RATIO_FLOOR = 2**20
_CHUNK = 2**20


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    packed: int


class SafeArchive:
    """A zip archive whose members are listed and read in memory after the checks above.

    >>> with SafeArchive(path) as archive:
    ...     data = archive.read("project.qde")
    """

    def __init__(self, path, kind="archive"):
        self.path = path
        self.kind = kind
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except FileNotFoundError as exc:
            raise RefiError("does not exist", path=path) from exc
        except OSError as exc:
            raise RefiError(f"cannot be read: {exc.strerror or exc}", path=path) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise RefiError(f"is not a readable {kind}: not a zip archive, or damaged or "
                            f"truncated ({exc})", path=path) from exc
        try:
            self.members = _check_members(infos, path)
        except RefiError:
            self._zip.close()
            raise
        self._by_name = {m.name: m for m in self.members}
        self._by_folded = {}
        for member in self.members:
            self._by_folded.setdefault(member.name.casefold(), member)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._zip.close()

    def find(self, name):
        """The member called `name`, else one whose name differs only in case (`Sources/`)."""
        return self._by_name.get(name) or self._by_folded.get(name.casefold())

    def read(self, name):
        """A member's bytes, read in memory with its declared size enforced (CRC checked)."""
        member = self.find(name)
        if member is None:
            raise RefiError(f"has no member '{name}'", path=self.path)
        if member.size > MAX_READ_BYTES:
            raise RefiError(f"member '{member.name}' unpacks to {member.size / 1e6:.0f} MB, over "
                            f"the {MAX_READ_BYTES // 2**20} MB limit", path=self.path)
        chunks, total = [], 0
        try:
            with self._zip.open(member.name) as handle:
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > member.size:  # a header that lies about the size
                        raise RefiError(f"member '{member.name}' unpacks to more than its "
                                        f"declared {member.size} bytes (a zip bomb?); refused",
                                        path=self.path)
                    chunks.append(chunk)
        except RefiError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            # BadZipFile: bad CRC; RuntimeError: encrypted; NotImplementedError: compression
            raise RefiError(f"is not a readable {self.kind}: member '{member.name}' is damaged "
                            f"({exc})", path=self.path) from exc
        return b"".join(chunks)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file


def check_zip(path, error, kind, max_total=MAX_READ_BYTES):
    """Refuse a zip-based file (an .xlsx) that is damaged, has unsafe names, is a zip bomb or
    has an XML part with a DTD, before a library that trusts it opens it (issue 8). Raises
    `error` (a CodingError class) naming the file; one that cannot be read at all is left to
    the caller's reader to report."""
    check_regular_file(path, error)  # opening a FIFO would wait for ever
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            encrypted = head == OLE_MAGIC and "EncryptedPackage".encode("utf-16-le") in \
                handle.read(MAX_READ_BYTES)
        if head == OLE_MAGIC:  # Office keeps a password-protected file in a compound file
            raise error(f"is a password-protected {kind} (encrypted by Office): remove the "
                        "password, save it and try again" if encrypted else
                        f"is an old Office 97-2003 file, not a {kind}: save it as {kind}",
                        path=path)
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except OSError:
        return
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise error(f"is not a readable {kind}: not a zip archive, or damaged or truncated "
                    f"({exc})", path=path) from exc
    with archive:
        try:
            _check_members(infos, path, max_total)
        except RefiError as exc:
            raise error(exc.message, path=path) from exc
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")):
                try:
                    with archive.open(info) as handle:
                        dtd = declares_dtd(handle)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                        NotImplementedError, RuntimeError) as exc:
                    raise error(f"is not a readable {kind}: member '{info.filename}' is "
                                f"damaged ({exc})", path=path) from exc
                if dtd:
                    raise error(f"part '{info.filename}' declares a DTD (<!DOCTYPE>), which "
                                "Office never writes and which allows entity-expansion and "
                                "external-entity (XXE) attacks; refused", path=path)


class _PrologDone(Exception):
    """Raised from expat handlers to stop reading XML after its prolog."""


def declares_dtd(handle):
    """True when the XML read from `handle` (a binary file object) declares a DTD.

    Only the prolog is read, up to the root element's start tag, so a huge part costs nothing.
    Malformed XML gives False: the parser that reads it for real reports it. Errors raised by
    `handle.read` (a damaged zip member) propagate.
    """
    parser = expat.ParserCreate()
    found = []

    def doctype(*args):
        found.append(True)
        raise _PrologDone

    def root(*args):
        raise _PrologDone

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        while chunk := handle.read(2**16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _PrologDone:
        pass
    except expat.ExpatError:
        pass
    return bool(found)


def _check_members(infos, path, max_total=MAX_TOTAL_BYTES):
    if len(infos) > MAX_MEMBERS:
        raise RefiError(f"holds {len(infos)} files, over the {MAX_MEMBERS} limit; refused",
                        path=path)
    members, seen, total = [], set(), 0
    for info in infos:
        name = info.filename
        if unsafe_member_name(name):
            raise RefiError(f"holds an entry with an unsafe path {name!r} (absolute or with "
                            "'..'); refused", path=path)
        if name in seen:
            raise RefiError(f"holds two entries named {name!r}; refused", path=path)
        seen.add(name)
        total += info.file_size
        if info.file_size > RATIO_FLOOR and \
                info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise RefiError(f"entry {name!r} would unpack from {info.compress_size} bytes to "
                            f"{info.file_size / 1e6:.0f} MB (a zip bomb?); refused", path=path)
        if not info.is_dir():
            members.append(Member(name, info.file_size, info.compress_size))
    if total > max_total:
        raise RefiError(f"would unpack to {total / 1e6:,.0f} MB, over the "
                        f"{max_total / 2**20:,.0f} MB limit (a zip bomb?); refused",
                        path=path)
    return members


def unsafe_member_name(name):
    """True for names that would escape a folder: absolute, drive letters, `..` parts."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":") or "\x00" in normal:
        return True
    return ".." in PurePosixPath(normal).parts


def parse_xml(data, path):
    """Parse XML bytes into an Element with defusedxml: no DTD, no entities, nothing fetched.

    Errors name the file and the line: `project.qde:1: ... DTD ... refused`.
    """
    try:
        return SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except DefusedXmlException as exc:
        entity = "Entit" in type(exc).__name__
        marker = b"<!ENTITY" if entity else b"<!DOCTYPE"
        what = f"<!{'ENTITY' if entity else 'DOCTYPE'} {getattr(exc, 'name', '') or ''}>"
        raise RefiError(f"XML with a DTD or entity declarations is refused (they allow external "
                        f"entity and entity-expansion attacks): {what.replace(' >', '>')}",
                        path=path, line=_line_of(data, marker)) from exc
    except SafeElementTree.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise RefiError(f"is not well-formed XML: {_parse_message(exc)}", path=path,
                        line=line) from exc


def _line_of(data, marker):
    found = data.find(marker)
    if found < 0:
        found = data.upper().find(marker.upper())
    return data.count(b"\n", 0, found) + 1 if found >= 0 else None


def _parse_message(exc):
    message = str(exc)
    return message.split(": line")[0] if ": line" in message else message
