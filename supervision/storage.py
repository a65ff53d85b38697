"""Where photo files live: a small Storage interface and its local-folder implementation."""

import os
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from flask import Flask, Response, current_app, request, send_file

SPOOL = ".spool"  # uploads being received; the same file system as the store, so renames are atomic
TEMP_PREFIX = ".tmp-"
# Waiting for the disk holds no core: enough threads for every upload a process receives at once.
_syncing = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fsync")


class Storage(ABC):
    """Content by key ("originals/ab/abcd…"). Every put is atomic and durable when it returns."""

    def __init__(self, spool_dir: str | Path):
        self.spool_dir = Path(spool_dir)
        self.spool_dir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def put_file(self, key: str, path: str | Path) -> None:
        """Move the local file `path` under `key`: on return it is complete and durable."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The content under `key` for reading; FileNotFoundError when there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; nothing happens when it does not exist."""

    @abstractmethod
    def keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        """(key, modification time) of every stored key under `prefix`."""

    @abstractmethod
    def send(self, key: str, mimetype: str, etag: str) -> Response:
        """An HTTP answer for the content: the bytes streamed here, or a redirect to a URL."""

    @abstractmethod
    def check(self) -> bool:
        """Whether the storage can take a write now (for /healthz)."""

    def sync_soon(self, path: Path) -> Future | None:
        """Start making a spooled file durable on another thread while the caller goes on (the
        later put_file finds it done); None when put_file has nothing to wait for locally."""
        return None

    def spool_file(self) -> Path:
        """A fresh local path to receive an upload into before `put_file`."""
        return self.spool_dir / f"{TEMP_PREFIX}{uuid.uuid4().hex}"

    def remove_stale_spool(self, older_than_s: float) -> list[Path]:
        """Delete uploads abandoned mid-way (the process died) older than `older_than_s`."""
        return _remove_older(self.spool_dir.glob(f"{TEMP_PREFIX}*"), older_than_s)


class LocalStorage(Storage):
    """A local folder: a temp file beside the target, fsync, rename, fsync the folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        super().__init__(self.root / SPOOL)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents or key.startswith("."):
            raise ValueError(f"invalid storage key {key!r}")
        return path

    def sync_soon(self, path: Path) -> Future:
        return _syncing.submit(_fsync_file, path)

    def put_file(self, key: str, path: str | Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = Path(path)
        if os.stat(source).st_dev != os.stat(target.parent).st_dev:
            staged = target.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
            shutil.copyfile(source, staged)
            source.unlink()
            source = staged
        _fsync_file(source)
        os.replace(source, target)
        _fsync_dir(target.parent)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        base = self._path(prefix)
        for path in base.rglob("*") if base.is_dir() else ():
            if path.is_file() and not path.name.startswith(TEMP_PREFIX):
                yield path.relative_to(self.root).as_posix(), path.stat().st_mtime

    def send(self, key: str, mimetype: str, etag: str) -> Response:
        if request.if_none_match.contains(etag):
            # Answered before opening the file: send_file's own 304 leaves it open.
            response = Response(status=304)
            response.set_etag(etag)
        else:
            response = send_file(self._path(key), mimetype=mimetype, etag=etag, conditional=True)
        response.cache_control.max_age = 365 * 24 * 3600
        response.cache_control.private = True
        response.cache_control.immutable = True
        return response

    def check(self) -> bool:
        probe = self.spool_file()
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
            return True
        except OSError:
            current_app.logger.exception("storage check failed")
            return False

    def remove_stale_spool(self, older_than_s: float) -> list[Path]:
        # Temporaries of a copy across file systems are left beside their targets.
        stale = self.root.rglob(f"{TEMP_PREFIX}*")
        return _remove_older((p for p in stale if p.is_file()), older_than_s)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the folder entry itself reached the disk.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_older(paths, older_than_s: float) -> list[Path]:
    limit = time.time() - older_than_s
    removed = []
    for path in paths:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # finished or removed meanwhile
            continue
    return removed


BACKENDS = {
    "local": lambda app: LocalStorage(app.config["PHOTO_DIR"]),
    "s3": lambda app: __import__("supervision.storage_s3", fromlist=["create"]).create(app),
}


def init_app(app: Flask) -> None:
    """Create the storage named by STORAGE_BACKEND; reachable as app.extensions["storage"]."""
    backend = app.config.get("STORAGE_BACKEND") or "local"
    if backend not in BACKENDS:
        raise RuntimeError(f"Unknown STORAGE_BACKEND {backend!r}; known: {', '.join(BACKENDS)}.")
    app.extensions["storage"] = BACKENDS[backend](app)


def get_storage() -> Storage:
    return current_app.extensions["storage"]
