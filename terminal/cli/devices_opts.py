"""``--reader`` and ``--scanner`` (``--printer`` is the receipt service's) for the commands
that run the terminal, and the waits for a swipe or a scan.

A command builds its :class:`AttachedDevices` from these options before it talks to the
host, so a bad URL is an error before any money moves; a device that is unplugged is not:
it goes offline (an event, a line on stderr) and the command waits for it to come back
until its ``--timeout``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from terminal.core.devices import CardReader, CodeScanner
from terminal.core.events import DeviceEvent
from terminal.core.reader_text import SwipeFailed
from terminal.devices.attached import AttachedDevices
from terminal.engine import CardInput

__all__ = [
    "AttachedDevices",
    "add_input_device_options",
    "open_devices",
    "report_device_event",
    "wait_for_card",
    "wait_for_code",
]

#: How long to wait for a swipe or a scan without --timeout.
DEFAULT_WAIT = 60.0
_URL_HELP = "pyserial URL (/dev/ttyUSB0?baudrate=9600, /dev/pts/N, socket://H:P, rfc2217://H:P)"


def add_input_device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reader", metavar="URL", help=f"magnetic-stripe reader: {_URL_HELP}")
    p.add_argument("--scanner", metavar="URL", help=f"QR / barcode scanner: {_URL_HELP}")


def open_devices(args: argparse.Namespace, *, printer: Any = None) -> AttachedDevices:
    return AttachedDevices.from_urls(
        reader=getattr(args, "reader", None),
        scanner=getattr(args, "scanner", None),
        printer=printer,
        emit=report_device_event,
    )


def report_device_event(event: DeviceEvent) -> None:
    """Device events of a one-shot command: problems and recoveries on stderr."""
    if event.condition == "online":
        return
    detail = f": {event.detail}" if event.detail else ""
    print(f"{event.role} {event.url}: {event.condition}{detail}", file=sys.stderr, flush=True)


def _wait(args: argparse.Namespace) -> float:
    return args.timeout if getattr(args, "timeout", None) else DEFAULT_WAIT


async def _until_online(device: CardReader | CodeScanner, limit: float) -> None:
    """Prompt only once the port is open: bytes sent before that are flushed by the open."""
    if not await asyncio.to_thread(device.wait_online, min(3.0, limit)):
        reason = device.last_error or "not answering"
        print(f"{device.url} is offline ({reason}); waiting for it", file=sys.stderr, flush=True)


async def wait_for_card(args: argparse.Namespace, devices: AttachedDevices) -> CardInput:
    """The next good swipe on the reader (read errors are reported and waited past)."""
    reader = devices.reader
    await _until_online(reader, _wait(args))
    unsubscribe = reader.subscribe(
        lambda item: (
            print(f"reader: {item.reason}; swipe again", file=sys.stderr, flush=True)
            if isinstance(item, SwipeFailed)
            else None
        )
    )
    try:
        with reader.expect_swipe() as expectation:  # listening before the prompt
            print(f"swipe a card on {reader.url} ...", file=sys.stderr, flush=True)
            read = await asyncio.to_thread(expectation.wait, _wait(args))
    finally:
        unsubscribe()
    return CardInput.from_swipe(read.swipe, chip_failed=bool(getattr(args, "fallback", False)))


async def wait_for_code(args: argparse.Namespace, devices: AttachedDevices) -> str:
    scanner = devices.scanner
    await _until_online(scanner, _wait(args))
    with scanner.expect_code() as expectation:
        print(f"scan the customer's code on {scanner.url} ...", file=sys.stderr, flush=True)
        return await asyncio.to_thread(expectation.wait, _wait(args))
