"""A TUF fetcher that resumes broken downloads with HTTP ``Range`` instead of starting over.

python-tuf verifies what a fetcher returns (length bound while downloading, hashes after), so
resuming is safe: bytes kept from an earlier attempt are re-hashed with the rest. Two kinds of
resume:

* within one download, a dropped connection is retried from the byte where it broke;
* across runs, target downloads (package archives) stream into ``partial_dir``; a later
  ``download_file`` of the same URL continues from what is there. Target URLs carry the
  file's SHA-256 (consistent snapshots), so a partial file can only ever continue itself.

A partial file that fails verification is deleted (the next attempt starts clean). Every error
leaves this class as a ``tuf.api.exceptions.DownloadError`` (the interface's contract).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import urllib3
from tuf.api import exceptions
from tuf.api.metadata import TargetFile
from tuf.ngclient.fetcher import FetcherInterface

__all__ = ["Progress", "ResumableFetcher"]

#: progress(done_bytes, total_bytes) during a target download
Progress = Callable[[int, int], None]

_CHUNK: Final = 1 << 20
#: chunks queued for the hash thread: slack to ride out a short stall of either thread;
#: more only holds memory (it was 64 MiB) without adding throughput
_IN_FLIGHT: Final = 8
#: error bodies short enough to read so the connection is reused (the 404 of the next root)
_DRAIN_MAX: Final = 4096
_CONTENT_RANGE: Final = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_TRANSIENT: Final = (
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.DecodeError,
    ConnectionError,
    TimeoutError,
)


class ResumableFetcher(FetcherInterface):
    """urllib3 fetcher with Range resume; ``partial_dir`` enables resume across runs."""

    def __init__(
        self,
        *,
        partial_dir: Path | None = None,
        resume_prefix: str | None = None,
        retries: int = 3,
        timeout: float = 30.0,
        backoff: float = 0.2,
        progress: Progress | None = None,
    ) -> None:
        self.partial_dir = partial_dir
        self.resume_prefix = resume_prefix
        self.retries = retries
        self.backoff = backoff
        self.progress = progress
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,
            headers={"User-Agent": "posemu-firmware"},
        )
        #: bytes actually received over the network (tests and the benchmark read it)
        self.bytes_received = 0

    # --- the interface ---------------------------------------------------------------------
    def _fetch(self, url: str) -> Iterator[bytes]:
        return self._chunks(url, 0)

    @contextlib.contextmanager
    def download_file(self, url: str, max_length: int) -> Iterator[IO[bytes]]:
        """As the interface's, but persistent (resumable) for URLs under ``resume_prefix``."""
        partial = self._partial_path(url)
        if partial is None:
            handle: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
            have = 0
        else:
            partial.parent.mkdir(parents=True, exist_ok=True)
            handle = open(partial, "a+b")  # noqa: SIM115 - closed below
            have = handle.seek(0, os.SEEK_END)
            if have > max_length:
                handle.truncate(0)
                have = 0
        keep = False
        try:
            try:
                self._fill(handle, url, have, max_length, partial is not None)
            except exceptions.DownloadLengthMismatchError:
                raise
            except exceptions.DownloadError:
                keep = True  # a broken transfer: the next run continues from these bytes
                raise
            handle.seek(0)
            yield handle
        finally:
            # consumed, too long, or failed verification: never continue from it
            handle.close()
            if partial is not None and not keep:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()

    def download_target(self, url: str, info: TargetFile, dest: Path) -> Path:
        """Fetch a target into ``dest``, checked against TUF-verified ``info`` as it streams.

        The same checks as ``TargetFile.verify_length_and_hashes`` (length, every listed hash,
        same exception), but the digests are computed on a second thread while the bytes
        arrive instead of in a second pass over the file: on a fast link that second pass
        costs about as much as the download. Bytes kept from an earlier attempt are hashed
        first. ``dest`` appears (atomic rename) only once everything matched.
        """
        hashers = {}
        for algo in info.hashes:
            try:
                hashers[algo] = hashlib.new(algo)
            except (ValueError, TypeError) as exc:
                raise exceptions.LengthOrHashMismatchError(
                    f"Unsupported algorithm '{algo}'"
                ) from exc
        partial = self._partial_path(url) or dest.with_name(f".{dest.name}.part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        digests = _HashThread(list(hashers.values()))
        keep = False
        try:
            with open(partial, "a+b") as handle:
                have = handle.seek(0, os.SEEK_END)
                if have > info.length:
                    handle.truncate(0)
                    have = 0
                handle.seek(0)
                while have and (chunk := handle.read(_CHUNK)):
                    digests.feed(chunk)
                handle.seek(0, os.SEEK_END)
                try:
                    received = self._fill(handle, url, have, info.length, True, digests.feed)
                except exceptions.DownloadLengthMismatchError:
                    raise
                except exceptions.DownloadError:
                    keep = True
                    raise
            digests.finish()
            if received != info.length:
                raise exceptions.LengthOrHashMismatchError(
                    f"Observed length {received} does not match expected length {info.length}"
                )
            for algo, expected in info.hashes.items():
                observed = hashers[algo].hexdigest()
                if observed != expected:
                    raise exceptions.LengthOrHashMismatchError(
                        f"Observed hash {observed} does not match expected hash {expected}"
                    )
            os.replace(partial, dest)
            return dest
        finally:
            digests.finish()
            if not keep:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()

    # --- internals -------------------------------------------------------------------------
    def _partial_path(self, url: str) -> Path | None:
        if self.partial_dir is None or self.resume_prefix is None:
            return None
        if not url.startswith(self.resume_prefix):
            return None
        # keyed by the path under the prefix (consistent snapshots: the file's SHA-256 is in
        # it), not the whole URL, so another spelling of the repository URL continues it
        name = hashlib.sha256(url[len(self.resume_prefix) :].encode()).hexdigest()[:40]
        return self.partial_dir / f"{name}.part"

    def _fill(
        self,
        handle: IO[bytes],
        url: str,
        have: int,
        max_length: int,
        report: bool,
        sink: Callable[[bytes], None] | None = None,
    ) -> int:
        received = have
        if report and self.progress is not None:
            self.progress(received, max_length)
        try:
            for chunk in self._chunks(url, have):
                received += len(chunk)
                if received > max_length:
                    raise exceptions.DownloadLengthMismatchError(
                        f"received {received} bytes, more than the signed {max_length}"
                    )
                handle.write(chunk)
                if sink is not None:
                    sink(chunk)
                if report and self.progress is not None:
                    self.progress(received, max_length)
            handle.flush()
            return received
        except exceptions.DownloadError:
            handle.flush()
            raise
        except Exception as exc:
            handle.flush()
            raise exceptions.DownloadError(f"failed to download {url}: {exc}") from exc

    def _chunks(self, url: str, offset: int) -> Iterator[bytes]:
        """The body of ``url`` from ``offset``, reconnecting with Range after a broken read."""
        failures = 0
        while True:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                response = self._pool.request(
                    "GET", url, headers=headers, preload_content=False, redirect=True
                )
            except _TRANSIENT as exc:
                failures = self._failed(url, failures, exc)
                continue
            try:
                skip = self._check_status(response, url, offset)
                if skip is None:
                    return
                for chunk in response.stream(_CHUNK, decode_content=False):
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                        if not chunk:
                            continue
                    offset += len(chunk)
                    self.bytes_received += len(chunk)
                    failures = 0
                    yield chunk
                return
            except _TRANSIENT as exc:
                failures = self._failed(url, failures, exc)
            finally:
                response.release_conn()

    def _check_status(
        self, response: urllib3.BaseHTTPResponse, url: str, offset: int
    ) -> int | None:
        """Bytes to skip before the requested offset, or None when nothing is left to read."""
        status = response.status
        if status == 416 and offset:
            return None  # we already have everything; TUF's hash check decides
        if status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                raise exceptions.DownloadError(f"{url}: server answered another range")
            return 0
        if status == 200:
            return offset  # the server ignored Range: skip what we already have
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) <= _DRAIN_MAX:
            response.drain_conn()  # a short error body: keep the connection for the next file
        raise exceptions.DownloadHTTPError(f"{url}: HTTP {status}", status)

    def _failed(self, url: str, failures: int, exc: BaseException) -> int:
        failures += 1
        if failures > self.retries:
            raise exceptions.DownloadError(
                f"{url}: connection failed {failures} times in a row ({exc})"
            ) from exc
        time.sleep(self.backoff * failures)
        return failures


class _HashThread:
    """Feeds chunks to hashers on a worker thread (hashlib releases the GIL on large updates)."""

    def __init__(self, hashers: list[Any]) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_IN_FLIGHT)
        self._hashers = hashers
        self._done = False
        self._thread = threading.Thread(target=self._run, name="firmware-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            for hasher in self._hashers:
                hasher.update(chunk)

    def feed(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def finish(self) -> None:
        if not self._done:
            self._done = True
            self._queue.put(None)
            self._thread.join()
