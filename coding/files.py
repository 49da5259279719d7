"""Writing files safely: atomically (a temporary file beside the target, then a rename), through
a symbolic link to the file it points to, and never over a special file (issue 13, item 9).

Every file the package writes for a user (exports, the Word report, REFI-QDA files, codebooks,
evaluation tables) goes through `write_atomic`, so `-o /dev/null` or `-o` a named pipe is
refused instead of replacing the device or the pipe with a regular file.
"""

import errno
import os
import secrets
import stat
from pathlib import Path

from .errors import CodingError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISSOCK, "a socket"))


def special_kind(mode):
    """What a stat mode is when it is not a regular file ("a character device"), else None."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


def output_target(path):
    """The file that writing `path` will replace: `path` itself, or the file a symbolic link
    (or a chain of them) points to. Raises CodingError naming `path` when that is a folder, a
    device, a FIFO or a socket, so nothing is opened or replaced."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise CodingError(f"cannot write this file: {_reason(exc)}", path=path) from exc
    kind = special_kind(mode)
    if kind is not None:
        via = f"is a link to {target}, which is {kind}" if target != path else f"is {kind}"
        raise CodingError(f"{via}, not a regular file; nothing was written (choose another "
                          "file name)", path=path)
    return target


def check_regular_file(path, error=CodingError):
    """Raise `error` naming `path` when it is (or links to) a device, FIFO, socket or folder:
    reading /dev/zero would fill memory and a FIFO would wait for a writer forever (issue 13,
    item 16). Nothing is opened."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise error(f"cannot be read: {_reason(exc)}", path=path) from exc
    kind = special_kind(mode)
    if kind is not None:
        raise error(f"is not a regular file but {kind}; nothing was read", path=path)


def open_regular_file(path, error=CodingError):
    """`path` opened for reading in binary, checked to be a regular file before it is opened
    (opening some devices has effects) and again on the open descriptor (the name may have been
    swapped in between); a FIFO is opened without waiting for a writer. Check the size with
    `os.fstat(handle.fileno()).st_size` before reading."""
    check_regular_file(path, error)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"cannot be read: {_reason(exc)}", path=path) from exc
    handle = os.fdopen(descriptor, "rb")
    kind = special_kind(os.fstat(descriptor).st_mode)
    if kind is not None:
        handle.close()
        raise error(f"is not a regular file but {kind}; nothing was read", path=path)
    if hasattr(os, "set_blocking"):
        os.set_blocking(descriptor, True)
    return handle


def write_to(target, content):
    """Write bytes to `target`: a binary file object (anything with `write`, e.g. io.BytesIO
    for a download made in memory), or a path, written atomically (write_atomic)."""
    if hasattr(target, "write"):
        target.write(content)
        return target
    return write_atomic(target, content)


def write_atomic(path, content):
    """Write `content` (str as UTF-8, or bytes) to `path` atomically: into a new temporary file
    beside the file, then renamed over it, so readers see the old file or the new one, never
    half of one. A symbolic link stays a link (its target is replaced) and an existing file
    keeps its permissions. Raises CodingError naming `path` for a special file, a folder that
    cannot be written in (read-only file system, permission denied) or a failed write."""
    target = output_target(path)
    folder = target.parent
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = None
    try:
        temporary, descriptor = _create_beside(target)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass  # a new file: the mode os.open gave it (0o666 less the umask)
        output_target(path)  # a special file put there while we wrote is still refused
        os.replace(temporary, target)
        temporary = None
    except CodingError:
        raise
    except OSError as exc:
        if temporary is None and exc.errno == errno.ENOENT:
            raise CodingError(f"cannot write this file: the folder {folder} does not exist",
                              path=path) from exc
        if temporary is None and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise CodingError(f"cannot write in {folder}: {_reason(exc)}", path=path) from exc
        raise CodingError(f"cannot write this file: {_reason(exc)}", path=path) from exc
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass  # the error that got us here is the one to report


def _create_beside(target):
    """A new file beside `target` that nobody else can have made (O_EXCL: a link planted at
    the name is not followed), and its descriptor."""
    while True:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue


def _reason(exc):
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
