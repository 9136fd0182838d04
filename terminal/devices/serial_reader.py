"""A magnetic-stripe reader on a serial line (pyserial URL), parsed by the core's stream parser.

URL options besides the serial settings: ``preamble`` and ``postamble`` (percent-encoded
bytes the reader sends around each swipe, e.g. ``?preamble=%1B%5B``). A swipe that cannot
be used is a READ_ERROR event with the reason (never the track data) and is skipped by
:meth:`wait_swipe`, as a cashier would ask for another swipe.
"""

from __future__ import annotations

from terminal.core.devices import DeviceError, EmitEvent, ReaderOutcome
from terminal.core.events import DeviceCondition, DeviceRole
from terminal.core.reader_text import ReaderFraming, ReaderStream, SwipeFailed, SwipeRead
from terminal.devices.serial_input import Expectation, InputDevice
from terminal.devices.serial_link import Backoff, parse_device_url

__all__ = ["READER_OPTIONS", "SerialCardReader"]

READER_OPTIONS = ("preamble", "postamble")


class SerialCardReader(InputDevice[ReaderOutcome]):
    """Implements :class:`terminal.core.devices.CardReader`."""

    def __init__(
        self,
        url: str,
        *,
        emit: EmitEvent,
        name: str = "reader",
        backoff: Backoff | None = None,
    ) -> None:
        parsed = parse_device_url(url, device=f"--reader {url}", device_options=READER_OPTIONS)
        if parsed.is_file:
            raise DeviceError(f"--reader {url}", "a card reader cannot be a file:")
        try:
            framing = ReaderFraming(
                preamble=parsed.options.get("preamble", "").encode("latin-1"),
                postamble=parsed.options.get("postamble", "").encode("latin-1"),
            )
        except (ValueError, UnicodeEncodeError) as exc:
            raise DeviceError(f"--reader {url}", str(exc)) from None
        super().__init__(parsed, role=DeviceRole.READER, name=name, emit=emit, backoff=backoff)
        self._stream = ReaderStream(framing)

    def wait_swipe(self, timeout: float | None) -> SwipeRead:
        with self.expect_swipe() as expectation:
            return expectation.wait(timeout)  # type: ignore[return-value]

    def expect_swipe(self) -> Expectation[ReaderOutcome]:
        """Listen for the next good swipe from now on; ``.wait(timeout)`` for it."""
        return self._expect(lambda item: isinstance(item, SwipeRead), "swipe")

    def _feed(self, data: bytes) -> list[ReaderOutcome]:
        return self._stream.feed(data)

    def _idle(self) -> list[ReaderOutcome]:
        return self._stream.idle()

    def _flush(self) -> list[ReaderOutcome]:
        return self._stream.flush()

    def _reset(self) -> None:
        self._stream.reset()

    def _note(self, item: ReaderOutcome) -> None:
        if isinstance(item, SwipeFailed):
            self.last_event = f"read error: {item.reason}"
            self.line.event(DeviceCondition.READ_ERROR, item.reason)
        else:
            self.last_event = f"swipe {item.swipe.masked_pan}"
