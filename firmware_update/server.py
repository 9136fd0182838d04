"""A static HTTP server for a repository directory, with single-range ``Range`` support.

Any web server or CDN serving REPODIR as files works as well; this one exists so a tester
needs nothing else, and so the resume path (206 Partial Content) is exercised for real.
Bodies go out with ``socket.sendfile`` (zero-copy), which keeps loopback downloads fast.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, ClassVar, Final
from urllib.parse import unquote, urlsplit

__all__ = ["RepoHandler", "RepoServer", "parse_range"]

_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single ``bytes=`` range, or None when unsatisfiable.

    Raises ValueError for a header that is not a single byte range (served as a full 200).
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        raise ValueError(header)
    first, last = match.groups()
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            return None
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


class RepoHandler(BaseHTTPRequestHandler):
    """GET and HEAD of files under the server's ``root``; nothing else."""

    server: RepoServer
    protocol_version = "HTTP/1.1"
    quiet: ClassVar[bool] = True

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two sends; without NODELAY the body of a small file
        # waits for the client's delayed ACK (~40 ms per metadata file)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _resolve(self) -> Path | None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        root = self.server.root
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def _serve(self, *, body: bool) -> None:
        path = self._resolve()
        if path is None:
            self._not_found(body=body)
            return
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start, end, status = 0, size - 1, HTTPStatus.OK
            header = self.headers.get("Range")
            if header:
                try:
                    span = parse_range(header, size)
                except ValueError:
                    span = (0, size - 1)
                if span is None:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if span != (0, size - 1):
                    start, end, status = span[0], span[1], HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if body:
                self.send_body(handle, start, end - start + 1)

    def _not_found(self, *, body: bool) -> None:
        """404 that keeps the connection open.

        Every TUF refresh asks for the next root version, which is normally absent;
        ``send_error`` would close the connection and cost the client a reconnect.
        """
        text = b"not found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)

    def send_body(self, handle: BinaryIO, offset: int, count: int) -> None:
        """Send ``count`` bytes from ``offset``; a seam tests override to cut a transfer."""
        self.wfile.flush()
        self.connection.sendfile(handle, offset, count)


class RepoServer(ThreadingHTTPServer):
    """``with RepoServer(root, ("127.0.0.1", 0)) as s: s.start(); s.url``"""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        address: tuple[str, int] = ("127.0.0.1", 0),
        handler: type[RepoHandler] = RepoHandler,
    ) -> None:
        self.root = root.resolve()
        super().__init__(address, handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host if isinstance(host, str) else host.decode()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> None:
        """Serve in a daemon thread (tests, benchmarks); ``serve_forever`` for the CLI."""
        self._thread = threading.Thread(target=self.serve_forever, name="firmware-repo")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()
