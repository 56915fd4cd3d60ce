# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage: the board's lock, atomic writes, the archive file and the locked transaction. Standard library only.

``atomic_write`` is the collection's one way to replace a file (the board,
pidfiles, the dispatcher's queue and state, the files of the orchestra home):
a temp file in the same directory created exclusively with the final mode,
written, fsynced, renamed over the target, then the directory fsynced; a
replaced file keeps its mode and owner unless a mode is given.

Permissions: what the team writes is private unless said otherwise. A new
file is 0600 (``NEW_FILE_MODE``); a new board takes the mode its caller gives
(``parse_mode`` checks one); the board's lock file and archive, when created,
take the board's mode and owner; a replaced file keeps its mode, owner and
group where the writer may set them, so a write by root leaves a user's board
the user's.

The ``orchestra`` command loads this module on every call, so it imports
``posix`` (the functions ``os`` re-exports) rather than ``os``, whose import
costs a sixth of a command's start-up (see bench/board_cli.py).
"""

from __future__ import annotations

import fcntl
import posix
import sys
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board_format as format_lib
except ImportError:  # deployed on a target: the files sit side by side
    import _board_format as format_lib  # type: ignore[no-redef]

_O_CLOEXEC = getattr(posix, "O_CLOEXEC", 0)

# The mode of a file the collection creates without being told one (a new board, its lock and
# archive when there is no board to take the mode of, the dispatcher's state).
NEW_FILE_MODE = 0o600


def parse_mode(value) -> int:
    """A board's mode from the text a user wrote (``"0600"``, ``"644"``, ``"0o660"``); ValueError naming
    the problem. Octal digits only, read and write for the owner (the owner's agents write the board), no
    execute or special bits."""
    text = str(value).strip()
    digits = text[2:] if text[:2] in ("0o", "0O") else text
    # YAML reads an unquoted 0644 as the number 420: say so when a decimal number is what came.
    unquoted = (" (0%o unquoted in YAML is the number %s: quote the mode)" % (int(text), text)
                if text.isdigit() and not text.startswith("0") and 0 < int(text) <= 0o7777 else "")
    if not 3 <= len(digits) <= 4 or digits.strip("01234567"):
        raise ValueError("mode %r is not an octal mode such as '0600' or '0644'%s" % (text, unquoted))
    mode = int(digits, 8)
    if mode & 0o7111:
        raise ValueError("mode %r gives execute or special bits: the board is a text file, use '0600' or '0644'%s"
                         % (text, unquoted))
    if mode & 0o600 != 0o600:
        raise ValueError("mode %r does not let its owner read and write the board, which the agents write: "
                         "use '0600' (private) or '0644'/'0660' (shared)%s" % (text, unquoted))
    return mode


# --------------------------------------------------------------------------- paths and files


def exists(path: str) -> bool:
    """os.path.exists without importing os."""
    try:
        posix.stat(path)
    except (OSError, ValueError):
        return False
    return True


def getenv(name: str, default: str | None = None) -> str | None:
    """os.environ.get without importing os (os.environ, with its changes, once os is loaded)."""
    loaded = sys.modules.get("os")
    if loaded is not None:
        return loaded.environ.get(name, default)
    value = posix.environ.get(name.encode())
    return default if value is None else value.decode(sys.getfilesystemencoding(), "surrogateescape")


def _split(path: str) -> tuple[str, str]:
    """(directory, name) of a path; '.' for a bare name."""
    directory, sep, name = path.rpartition("/")
    return (directory or ("/" if sep else ".")), name


def make_dirs(path: str, mode: int = 0o700) -> None:
    """``os.makedirs(path, mode, exist_ok=True)``, but every directory it creates, parents included, gets
    ``mode`` (os.makedirs gives parents 0777 less the umask); an existing one keeps its mode."""
    path = path.rstrip("/") or "/"
    try:
        posix.mkdir(path, mode)
    except FileExistsError:
        return
    except FileNotFoundError:
        parent = _split(path)[0]
        if parent == path:
            raise
        make_dirs(parent, mode)
        try:
            posix.mkdir(path, mode)
        except FileExistsError:
            pass


def lock_path(path: str) -> str:
    return path + ".lock"


def archive_path(path: str) -> str:
    """``<name>.archive<ext>`` beside the board (``.md`` when it has no extension), as os.path.splitext splits."""
    name_start = path.rfind("/") + 1
    dot = path.rfind(".")
    if dot > name_start and path[name_start:dot].strip("."):
        return path[:dot] + ".archive" + path[dot:]
    return path + ".archive.md"


def new_board_id() -> str:
    """A random identity for a new board (16 hex digits)."""
    return posix.urandom(8).hex()


def backup_copy(path: str) -> str:
    """Copy ``path`` beside itself as ``<path>.<pid>.<YYYY-MM-DD@HH:MM:SS>~`` (the name Ansible's
    ``backup_local`` gives) with its mode, owner and group; returns the copy's path."""
    target = "%s.%d.%s~" % (path, posix.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S"))
    original = posix.stat(path)
    atomic_write(target, read_bytes(path), original.st_mode & 0o7777, owner=(original.st_uid, original.st_gid))
    return target


def read_bytes(path: str) -> bytes:
    fd = posix.open(path, posix.O_RDONLY | _O_CLOEXEC)
    try:
        chunks = []
        size = max(posix.fstat(fd).st_size + 1, 4096)
        while True:
            chunk = posix.read(fd, size)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        posix.close(fd)


def _fsync_directory(directory: str) -> None:
    fd = posix.open(directory, posix.O_RDONLY | _O_CLOEXEC)
    try:
        posix.fsync(fd)
    finally:
        posix.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[posix.write(fd, view):]


def _write_pieces(fd: int, pieces: list) -> None:
    """Write texts (as UTF-8) and bytes in order, in one writev per 512 pieces (no joined copy)."""
    buffers = [piece.encode("utf-8") if isinstance(piece, str) else piece for piece in pieces]
    for first in range(0, len(buffers), 512):
        batch = buffers[first:first + 512]
        written = posix.writev(fd, batch)
        if written < sum(len(buffer) for buffer in batch):  # a short write: the rest one by one
            _write_all(fd, memoryview(b"".join(batch))[written:])


def _own(fd: int, uid: int, gid: int) -> None:
    """Give the open file ``uid`` and ``gid`` where the writer may (root may; a user may give the group
    when a member of it), as Ansible's atomic_move does; otherwise it stays the writer's."""
    made = posix.fstat(fd)
    if made.st_uid == uid and made.st_gid == gid:
        return
    try:
        posix.fchown(fd, uid, gid)
    except PermissionError:
        if made.st_gid != gid:
            try:
                posix.fchown(fd, -1, gid)  # the group at least: a board shared 0660 stays its group's
            except PermissionError:
                pass


def _board_like(path: str, mode: int) -> tuple[int, int | None, int | None]:
    """(mode, uid, gid) for a file made beside the board: the board's own, else ``mode`` and the writer's."""
    try:
        board = posix.stat(path)
    except FileNotFoundError:
        return mode, None, None
    return board.st_mode & 0o666, board.st_uid, board.st_gid


def create_like(path: str, flags: int, like: str, mode: int = NEW_FILE_MODE) -> int:
    """Create ``path`` exclusively (FileExistsError when it exists) with the mode, owner and group of the
    file ``like`` (the board), or ``mode`` when that does not exist; returns the open descriptor."""
    mode, uid, gid = _board_like(like, mode)
    fd = posix.open(path, flags | posix.O_CREAT | posix.O_EXCL | _O_CLOEXEC, mode)
    try:
        if uid is not None:
            _own(fd, uid, gid)
        posix.fchmod(fd, mode)  # exactly the mode: creation applied the umask
    except BaseException:
        posix.close(fd)
        posix.unlink(path)
        raise
    return fd


def atomic_write(path: str, data, mode: int | None = None, new_mode: int = NEW_FILE_MODE, owner=None) -> None:
    """Replace ``path`` with ``data`` (bytes, text written as UTF-8, or a list of such pieces) so that a
    reader sees the old file or the new one, whole, and the new one survives a crash once this returns.

    A temp file beside the target is created exclusively (``O_EXCL``) with
    the final mode, written, fsynced and renamed over the target, then the
    directory is fsynced. Without ``mode`` a replaced file keeps its mode
    (a new one gets ``new_mode``, 0600 unless told); a replaced file keeps its
    owner and group (``owner``, a (uid, gid) pair, for a new one) where the
    caller may set them (as Ansible's atomic_move). A failure removes the temp
    file and leaves the target as it was.
    """
    directory, name = _split(path)
    try:
        old = posix.stat(path)
    except FileNotFoundError:
        old = None
    if mode is None:
        mode = old.st_mode & 0o7777 if old is not None else new_mode
    if old is not None:
        owner = (old.st_uid, old.st_gid)
    # tempfile would do, but importing it costs a tenth of an `orchestra` command.
    temp = "%s/.%s.%d.%s.tmp" % (directory, name, posix.getpid(), posix.urandom(4).hex())
    fd = posix.open(temp, posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | _O_CLOEXEC, mode & 0o777)
    try:
        try:
            if owner is not None:
                _own(fd, *owner)
            posix.fchmod(fd, mode)  # exactly the mode: creation applied the umask
            _write_pieces(fd, data if isinstance(data, list) else [data])
            posix.fsync(fd)
        finally:
            posix.close(fd)
        posix.replace(temp, path)
    except BaseException:
        try:
            posix.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


# --------------------------------------------------------------------------- the board's lock


class locked:  # noqa: N801 - used like a function: ``with locked(path):``
    """Hold the board's exclusive lock (flock on ``<board>.lock``); LockTimeout after ``timeout`` seconds.

    flock is released by the kernel when its holder dies, so a killed
    writer never leaves the board locked.
    """

    def __init__(self, path: str, timeout: float = 10.0, mode: int = NEW_FILE_MODE):
        self.path, self.timeout, self.fd, self.mode = path, timeout, None, mode

    def _open(self) -> int:
        """The lock file, opened; created with the board's mode and owner (``mode`` before there is a
        board) when missing; read-only when the writer may read but not write it (flock needs no more)."""
        holder = lock_path(self.path)
        while True:
            try:
                return posix.open(holder, posix.O_RDWR | _O_CLOEXEC)
            except FileNotFoundError:
                pass
            except PermissionError:
                return posix.open(holder, posix.O_RDONLY | _O_CLOEXEC)
            try:
                return create_like(holder, posix.O_RDWR, self.path, self.mode)
            except FileExistsError:  # another writer made it in between: open theirs
                continue
            except FileNotFoundError:
                raise format_lib.NotFound("directory %s does not exist; create it first or fix the board's path"
                                          % _split(self.path)[0]) from None

    def __enter__(self):
        path = self.path
        self.fd = self._open()
        deadline = time.monotonic() + self.timeout
        delay = 0.0005
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (BlockingIOError, PermissionError):  # EWOULDBLOCK, or EACCES on some systems
                pass
            except BaseException:
                self.__exit__()
                raise
            if time.monotonic() >= deadline:
                self.__exit__()
                holder = lock_path(path)
                raise format_lib.LockTimeout("could not lock %s within %.1fs: another writer holds %s; retry, or "
                                             "find the stuck process with 'fuser %s'" % (path, self.timeout, holder, holder))
            time.sleep(delay)
            delay = min(delay * 2, 0.005)

    def __exit__(self, *exc_info):
        if self.fd is not None:
            posix.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


# --------------------------------------------------------------------------- board files


def read_text(path: str) -> str:
    return format_lib.decode(read_bytes(path), path)


def load(path: str) -> format_lib.Board:
    """Read and split the board without locking: writers replace it atomically, so it is always whole."""
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise format_lib.NotFound("board %s does not exist; create it with the start playbook or 'orchestra board "
                                  "init'" % path) from None
    return format_lib.parse(text, path)


def append_archive(path: str, lines: list[str], newline: str, mode: int = NEW_FILE_MODE) -> None:
    """Append entries (their lines) to the archive beside the board, then fsync; a new archive starts
    with a heading and takes the board's mode and owner (``mode`` when there is no board yet).

    Runs before the board is replaced: a writer killed in between leaves
    the entries in both files, never in neither.
    """
    target = archive_path(path)
    try:
        fd, fresh = posix.open(target, posix.O_WRONLY | posix.O_APPEND | _O_CLOEXEC), False
    except FileNotFoundError:
        fd, fresh = create_like(target, posix.O_WRONLY | posix.O_APPEND, path, mode), True
    try:
        text = ("# Board archive" + newline + newline if fresh else "") + "".join(line + newline for line in lines)
        _write_all(fd, text.encode("utf-8"))
        posix.fsync(fd)
    finally:
        posix.close(fd)


def load_archive(path: str) -> list[format_lib.Entry]:
    """Entries moved off the board (completions and messages), oldest first; damaged ones are skipped."""
    try:
        text = read_text(archive_path(path))
    except FileNotFoundError:
        return []
    return format_lib.entries_of(text)


class _Unlocked:
    """In place of ``locked`` for a transaction that writes nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


class Outcome:
    """What a transaction did: the operation's result, whether the board changed, and both texts
    (the text after is joined from the written pieces only when asked for)."""

    __slots__ = ("result", "before", "_after")

    def __init__(self, result, before: str, after):
        self.result, self.before, self._after = result, before, after

    @property
    def after(self) -> str:
        if not isinstance(self._after, str):
            self._after = "".join(self._after)
        return self._after

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def diff(self, path: str) -> dict:
        """The board before and after, as Ansible's diff mode shows it."""
        return {"before": self.before, "after": self.after, "before_header": path, "after_header": path}


def transact(path: str, operation, lock_timeout: float = 10.0, write: bool = True, create: bool = False,
             backup=None, finish=None, mode: int = NEW_FILE_MODE) -> Outcome:
    """Locked read-modify-write: ``operation(board)`` edits the parsed board; if it changed anything
    and ``write`` is true, the board is replaced. ``finish(board)``, run after a change, returns the
    lines of entries to append to the archive first. ``create`` starts from an empty file when the
    board does not exist; ``backup(path)`` runs, under the lock, just before an existing board is
    replaced. ``mode``: a board created here (and its lock file and archive, until it exists) gets it;
    an existing board keeps its mode and owner, which its lock file and archive take when created.

    Any BoardError raised by the parse or the operation leaves the file untouched. Without ``write``
    (check mode) the board is only read, so, as any reader, without the lock (whose file would be created).
    """
    with locked(path, lock_timeout, mode) if write else _Unlocked():
        if create and not exists(path):
            board = format_lib.parse("", path)
        else:
            board = load(path)
        before = board.text
        result = operation(board)
        if not board.changed:
            return Outcome(result, before, before)
        moved = finish(board) if finish is not None else None
        pieces = board.pieces()
        if write:
            if moved:
                append_archive(path, moved, board.newline, mode)
            if backup is not None and before:
                backup(path)
            atomic_write(path, pieces, new_mode=mode)
        return Outcome(result, before, pieces)
