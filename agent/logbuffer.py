"""The last lines of the terminal's log, for the ``logs`` command, with PANs masked.

Masking happens when a record is captured, so a PAN that slipped into a log message never
sits in this buffer in clear, let alone goes over MQTT.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from iso8583.masking import scrub_pans

__all__ = ["LogBuffer"]


class LogBuffer(logging.Handler):
    def __init__(self, capacity: int = 2000, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: deque[str] = deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = scrub_pans(self.format(record))
        except Exception:  # a bad log call must not break the caller
            return
        with self._guard:
            self._lines.append(line)

    def tail(self, count: int) -> list[str]:
        with self._guard:
            return list(self._lines)[-count:] if count > 0 else []

    #: The terminal's and the agent's loggers (not the root: other libraries stay quiet).
    LOGGERS = ("posemu", "terminal", "agent", "iso8583")

    def attach(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(self.level)
            logger.addHandler(self)

    def detach(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)
