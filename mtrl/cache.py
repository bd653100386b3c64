"""An on-disk result cache keyed by the config and the version of the code that computed it.

The key of an entry hashes its JSON description together with :func:`code_version` (a hash of
every source file of ``mtrl`` that can change a result, and of the torch version), so any such
change makes old entries unreachable: the book never shows a result of old code. The plots
(``mtrl.plotting``), the book glue (``mtrl.book``) and the chapters' experiments
(``mtrl.studies``, which only read results) are outside the hash: a change of colour, of a
caption or of what a chapter sweeps keeps every cached result. Entries are written atomically
(temporary file, then rename) and carry a SHA-256 of their payload, checked on every read; an
entry that fails the check is deleted and treated as missing. Temporary files abandoned by a
killed writer are deleted by a later write once they are a day old.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

import torch

__all__ = [
    "ResultCache",
    "code_version",
    "default_cache",
    "resolve_cache",
    "tensor_digest",
    "write_atomically",
]

_MAGIC = b"mtrl-cache-1\n"
_PACKAGE = Path(__file__).parent
UNHASHED = ("plotting", "book", "studies")  # subpackages whose change cannot change a result


def hashed_sources() -> list[Path]:
    """Return the source files of ``mtrl`` that :func:`code_version` hashes, sorted: every
    ``.py`` file except those of the subpackages in ``UNHASHED``."""
    return sorted(
        path
        for path in _PACKAGE.rglob("*.py")
        if path.relative_to(_PACKAGE).parts[0] not in UNHASHED
    )


@functools.cache
def code_version() -> str:
    """Return a hash of the sources that can change a result (:func:`hashed_sources`) and of
    the torch version."""
    h = hashlib.sha256(torch.__version__.encode())
    for path in hashed_sources():
        h.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def tensor_digest(t: torch.Tensor) -> str:
    """Return a hash of a tensor's dtype, shape and values (for keys of results of tensors)."""
    data = t.detach().cpu().contiguous()
    h = hashlib.sha256(f"{data.dtype} {tuple(data.shape)}".encode())
    h.update(data.numpy().tobytes())
    return h.hexdigest()


class ResultCache:
    """A directory of cached results, one file per key."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"ResultCache({str(self.directory)!r})"

    def path(self, key: dict) -> Path:
        """Return the file that holds (or will hold) the entry for ``key``."""
        text = json.dumps({"key": key, "code": code_version()}, sort_keys=True)
        return self.directory / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.pt"

    def get(self, key: dict) -> dict | None:
        """Return the stored entry for ``key``, or ``None`` if absent or corrupt."""
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        head, digest, payload = blob[: len(_MAGIC)], blob[len(_MAGIC) : len(_MAGIC) + 64], None
        if head == _MAGIC and len(blob) > len(_MAGIC) + 64:
            payload = blob[len(_MAGIC) + 64 :]
        if payload is None or hashlib.sha256(payload).hexdigest().encode() != digest:
            path.unlink(missing_ok=True)
            return None
        return torch.load(io.BytesIO(payload), weights_only=True)

    def put(self, key: dict, value: dict) -> None:
        """Store ``value`` (a dict of tensors and plain values) under ``key``, atomically."""
        buffer = io.BytesIO()
        torch.save(value, buffer)
        payload = buffer.getvalue()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        blob = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + payload
        write_atomically(self.path(key), lambda tmp: Path(tmp).write_bytes(blob))

    def _remove_abandoned(self, age: float = 86400.0) -> None:
        """Delete temporary files older than ``age`` seconds: left by a writer that was killed
        before its rename (a live writer's file is seconds old)."""
        now = time.time()
        for tmp in self.directory.glob(".tmp-*"):
            try:
                if now - tmp.stat().st_mtime > age:
                    tmp.unlink()
            except FileNotFoundError:  # another process removed or renamed it meanwhile
                pass


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: set it back at once
    os.umask(mask)
    return mask


def write_atomically(path: str | os.PathLike, write) -> None:
    """Create ``path`` all at once: ``write(tmp)`` fills a temporary file beside it, which is
    flushed to disk and renamed into place; on any error the temporary file is removed. The file
    gets the permissions of a newly created file (``0666`` less the umask)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it: mkstemp makes it 0600
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_cache() -> ResultCache:
    """Return the cache in ``$MTRL_CACHE``, or ``~/.cache/mtrl`` when it is not set."""
    return ResultCache(os.environ.get("MTRL_CACHE") or Path.home() / ".cache" / "mtrl")


def resolve_cache(cache: ResultCache | str | None) -> ResultCache | None:
    """Return the cache that a ``cache=`` argument names: ``"default"`` is
    :func:`default_cache`, ``None`` is no cache, a :class:`ResultCache` is itself."""
    if isinstance(cache, str):
        if cache != "default":
            raise ValueError(f'cache must be "default", a ResultCache or None, got {cache!r}')
        return default_cache()
    return cache
