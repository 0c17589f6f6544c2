"""Walking folders and reading files without surprises, for ``sourcemaps`` and ``debug-files``.

- Each real folder is walked once per path given: a symbolic link back to a folder being
  walked (a loop) or to one walked already is reported once and not followed again.
- Only regular files are yielded and read: FIFOs, sockets and device files are reported and
  skipped (opening a FIFO blocks, a device may never end).
- A file name that is not UTF-8, a broken symbolic link and a folder that cannot be listed
  are reported with their path, never an exception.
- Reads are bounded: :func:`read_regular` opens without blocking, checks that what it opened
  is a regular file and never reads more than its limit.
- :func:`read_inside` reads a file only when its real path (symbolic links resolved) lies
  inside one of the given root folders.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

MAX_READ = 512 << 20  # a JS file or map read whole into memory (inject, rewrite)

Keep = Callable[[str, str, bool], bool]  # (folder, path relative to the top, is a folder)


class UnsafeFile(OSError):
    """A path that is not read: not a regular file, too large, or outside the roots."""

    def __init__(self, message: str, code: int = errno.EINVAL) -> None:
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.strerror)


def shown(path: str) -> str:
    """``path`` printable on one line: bytes that are not UTF-8 as ``\\xNN``, control
    characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _kind_of(mode: int) -> Optional[str]:
    """None for a regular file or folder, else what the file is."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def top_problem(path: str) -> Optional[str]:
    """Why a path named by the user cannot be used (None for a folder or regular file)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            return _link_problem(exc)
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        return f"cannot read: {exc.strerror or exc}"
    kind = _kind_of(st.st_mode)
    if kind:
        return f"not a regular file ({kind})"
    if _not_utf8(path):
        return "the path is not valid UTF-8"
    return None


def _link_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "broken symbolic link (its target does not exist)"
    return f"cannot read ({exc.strerror or exc})"


@dataclass
class Skipped:
    """Something the walk left out, with the reason (one line)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{shown(self.path)}: {self.message}"


class Walk:
    """The regular files under folders, each real folder once: folders reached without a
    symbolic link first (a folder's files, then its sub-folders, in sorted order), then the
    folders reached through links that lead somewhere not walked yet. ``keep(folder, rel,
    is_dir)`` filters by name before anything else is looked at; what is left out for a
    reason lands in ``skipped``."""

    def __init__(self, keep: Optional[Keep] = None) -> None:
        self.keep = keep
        self.skipped: List[Skipped] = []

    def files(self, top: str) -> Iterator[str]:
        """The regular files under folder ``top``."""
        seen: Dict[Tuple[int, int], str] = {}
        links: List[Tuple[str, str]] = [(top, "")]  # folders to walk through a link, in order
        while links:
            path, rel = links.pop(0)
            if self._first_visit(path, seen):
                yield from self._folder(path, rel, seen, links)

    def _first_visit(self, path: str, seen: Dict[Tuple[int, int], str]) -> bool:
        """True when folder ``path`` was not walked yet (noted in ``seen``); a folder that
        cannot be read, or was reached before (a loop, a bind mount, a second link), is
        skipped with its reason."""
        try:
            st = os.stat(path)
        except OSError as exc:
            self.skipped.append(Skipped(path, f"cannot read: {exc.strerror or exc}"))
            return False
        key = (st.st_dev, st.st_ino)
        if key in seen:
            self._again(path, seen[key])
            return False
        seen[key] = path
        return True

    def _again(self, path: str, first: str) -> None:
        """Report a folder reached a second time: a loop when it holds the link's folder."""
        here = os.path.realpath(os.path.dirname(path))
        target = os.path.realpath(path)
        if here == target or here.startswith(target.rstrip(os.sep) + os.sep):
            message = f"file system loop (leads back to {shown(first)}); skipped"
        else:
            message = f"the same folder as {shown(first)}, walked once"
        self.skipped.append(Skipped(path, message))

    def _folder(
        self,
        folder: str,
        rel: str,
        seen: Dict[Tuple[int, int], str],
        links: List[Tuple[str, str]],
    ) -> Iterator[str]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.skipped.append(Skipped(folder, f"cannot list folder ({exc.strerror or exc})"))
            return
        folders: List[Tuple[str, str]] = []
        for entry in entries:
            sub = rel + entry.name
            kind, problem = _classify(entry)
            if problem is not None:
                if self.keep is None or self.keep(folder, sub, False):
                    self.skipped.append(Skipped(entry.path, problem))
                continue
            if self.keep is not None and not self.keep(folder, sub, kind != "file"):
                continue
            if _not_utf8(entry.name):
                self.skipped.append(Skipped(entry.path, "file name is not valid UTF-8; skipped"))
            elif kind == "link":
                links.append((entry.path, sub + "/"))
            elif kind == "dir":
                folders.append((entry.path, sub + "/"))
            else:
                yield entry.path
        for path, sub in folders:
            if self._first_visit(path, seen):
                yield from self._folder(path, sub, seen, links)


def _classify(entry: "os.DirEntry[str]") -> Tuple[str, Optional[str]]:
    """(``dir``, ``link`` (a folder through a symbolic link) or ``file``, None), or
    (``skip``, why) for what is none of them."""
    try:
        if entry.is_symlink():
            mode = os.stat(entry.path).st_mode
            if stat.S_ISDIR(mode):
                return "link", None
        elif entry.is_dir(follow_symlinks=False):
            return "dir", None
        elif entry.is_file(follow_symlinks=False):
            return "file", None
        else:
            mode = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return "skip", _link_problem(exc) + "; skipped"
    kind = _kind_of(mode)
    if kind is None:
        return "file", None
    return "skip", f"not a regular file ({kind}); skipped"


def open_regular(path: str, limit: Optional[int] = None, nofollow: bool = False) -> BinaryIO:
    """``path`` opened for reading, after checking (on the open file) that it is a regular
    file of at most ``limit`` bytes; raises :class:`UnsafeFile` (an ``OSError``) if not.
    Opening never blocks (a FIFO is refused, not waited on)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    if nofollow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        kind = _kind_of(st.st_mode) or ("a folder" if stat.S_ISDIR(st.st_mode) else None)
        if kind:
            raise UnsafeFile(f"not a regular file ({kind})")
        if limit is not None and st.st_size > limit:
            raise UnsafeFile(f"larger than {limit} bytes", errno.EFBIG)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(fh: BinaryIO, limit: int) -> bytes:
    """The rest of open regular file ``fh``, at most ``limit + 1`` bytes (one more than the
    limit tells the caller it was exceeded). Reads what ``fstat`` says plus one byte first,
    so no ``limit``-sized buffer is allocated; more only for a file that grows or reports no
    size (``/proc``)."""
    size = os.fstat(fh.fileno()).st_size - fh.tell()
    data = fh.read(max(0, min(size, limit)) + 1)
    if len(data) <= max(size, 0):
        return data
    parts, total = [data], len(data)
    while total <= limit:
        block = fh.read(min(1 << 20, limit + 1 - total))
        if not block:
            break
        parts.append(block)
        total += len(block)
    return b"".join(parts)


def read_regular(path: str, limit: int = MAX_READ, nofollow: bool = False) -> bytes:
    """The bytes of regular file ``path`` (at most ``limit``; a larger or growing file
    raises :class:`UnsafeFile`)."""
    with open_regular(path, limit, nofollow) as fh:
        data = read_at_most(fh, limit)
    if len(data) > limit:
        raise UnsafeFile(f"larger than {limit} bytes", errno.EFBIG)
    return data


def real_roots(roots: Sequence[str]) -> List[str]:
    """The real paths (symbolic links resolved) of folders, for :func:`read_inside`."""
    return sorted({os.path.realpath(r) for r in roots})


def inside(real: str, roots: Sequence[str]) -> bool:
    """True when the real path ``real`` is one of ``roots`` or lies below one."""
    for root in roots:
        base = root if root.endswith(os.sep) else root + os.sep
        if real == root or real.startswith(base):
            return True
    return False


def read_inside(path: str, roots: Sequence[str], limit: int) -> bytes:
    """The bytes of ``path`` when its real path lies inside one of ``roots`` (real paths,
    see :func:`real_roots`) and it is a regular file of at most ``limit`` bytes; raises
    :class:`UnsafeFile` otherwise (or ``OSError`` when it cannot be opened)."""
    real = os.path.realpath(path)
    if not inside(real, roots):
        raise UnsafeFile("outside the source roots", errno.EACCES)
    return read_regular(real, limit, nofollow=True)
