"""Input devices on a serial line: a thread reads, a parser cuts, listeners and waiters get it.

The card reader and the code scanner differ only in their parser. The thread survives
the port: when it fails mid-read the device goes offline (an event), the partial input is
dropped, and the port is reopened with back-off until it is back, without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from terminal.core.devices import DeviceTimeout, EmitEvent
from terminal.core.events import DeviceRole
from terminal.devices.serial_link import Backoff, DeviceUrl, SerialLine

__all__ = ["Expectation", "InputDevice"]

T = TypeVar("T")
_log = logging.getLogger(__name__)
#: Silence after which a reader's pending lines form a swipe (readers send a swipe at once).
IDLE_AFTER = 0.03


class InputDevice(Generic[T]):
    """Base of serial input devices; subclasses implement ``_feed``, ``_idle``, ``_flush``."""

    def __init__(
        self,
        url: DeviceUrl,
        *,
        role: DeviceRole,
        name: str,
        emit: EmitEvent,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.url = url.url
        self.line = SerialLine(url, role=role, name=name, emit=emit, backoff=backoff)
        self._listeners: list[Callable[[T], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._online = threading.Event()  # the port is open and being read
        self.last_event = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"device-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._online.clear()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.line.close()

    @property
    def state(self) -> str:
        return self.line.state

    @property
    def last_error(self) -> str:
        return self.line.last_error if self.line.state == "offline" else ""

    def wait_online(self, timeout: float) -> bool:
        """True once the port is open and read (what was sent before that is flushed)."""
        self.start()
        return self._online.wait(timeout)

    # --- consumers ------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[T], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _expect(self, accept: Callable[[T], bool], what: str) -> Expectation[T]:
        """Start listening now (so nothing read from here on is missed); wait later."""
        self.start()
        return Expectation(self, accept, what)

    def _wait(self, accept: Callable[[T], bool], timeout: float | None, what: str) -> T:
        """Block for the next item ``accept`` takes (starting the device if needed)."""
        with self._expect(accept, what) as expectation:
            return expectation.wait(timeout)

    def _deliver(self, items: list[T]) -> None:
        with self._lock:
            listeners = tuple(self._listeners)
        for item in items:
            self._note(item)
            for listener in listeners:
                try:
                    listener(item)
                except Exception:  # a consumer's bug must not stop the device
                    _log.exception("device listener failed")

    # --- the reading thread ---------------------------------------------------------------

    def _run(self) -> None:
        line = self.line
        last_data = time.monotonic()
        while not self._stop.is_set():
            if line.port is None:
                if not line.open():
                    line.wait_retry(self._stop)
                    continue
                self._reset()
                self._online.set()
            try:
                data = line.read()
            except Exception as exc:  # the port vanished or failed mid-read
                self._online.clear()
                self._deliver(self._flush())
                line.lost(exc)
                continue
            now = time.monotonic()
            if data:
                last_data = now
                self._deliver(self._feed(data))
            elif now - last_data >= IDLE_AFTER:
                self._deliver(self._idle())

    # --- parser hooks ---------------------------------------------------------------------

    def _feed(self, data: bytes) -> list[T]:
        raise NotImplementedError

    def _idle(self) -> list[T]:
        return []

    def _flush(self) -> list[T]:
        return []

    def _reset(self) -> None:
        """The port was (re)opened: forget partial input."""

    def _note(self, item: T) -> None:
        """Remember the last thing read, for the devices panel."""


class Expectation(Generic[T]):
    """A wait for the next accepted item, listening from its creation until closed."""

    def __init__(self, device: InputDevice[T], accept: Callable[[T], bool], what: str) -> None:
        self._name, self._what = device.name, what
        self._box: queue.Queue[T] = queue.Queue()
        self._unsubscribe = device.subscribe(
            lambda item: self._box.put(item) if accept(item) else None
        )

    def wait(self, timeout: float | None) -> T:
        try:
            return self._box.get(timeout=timeout)
        except queue.Empty:
            raise DeviceTimeout(self._name, f"no {self._what} within {timeout:g} s") from None

    def close(self) -> None:
        self._unsubscribe()

    def __enter__(self) -> Expectation[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
