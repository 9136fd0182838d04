"""ESC/POS real-time status: the queries a terminal sends and the bytes a printer answers.

DLE EOT n (``10 04 n``) is executed by the printer as soon as it arrives, even mid-job, and
answered with one byte whose bits 1 and 4 are always 1 and bits 0 and 7 always 0 (Epson
ESC/POS reference, "DLE EOT"); GS r 1 (``1D 72 01``) answers a paper sensor byte with bits
4 and 7 clear. A byte that breaks those fixed bits is not a status reply (line noise, an
echo): :func:`decode_dle_eot` rejects it rather than guess. Both ends of the wire use this
module: the terminal's serial printer and ``posemu devsim printer``.
"""

from __future__ import annotations

from dataclasses import replace

from terminal.core.devices import PrinterStatus

__all__ = [
    "DLE_EOT",
    "GS_R",
    "StatusReplyError",
    "decode_dle_eot",
    "decode_gs_r1",
    "encode_dle_eot",
    "encode_gs_r1",
]

DLE_EOT = b"\x10\x04"
GS_R = b"\x1d\x72"
_FIXED_MASK, _FIXED = 0b1001_0011, 0b0001_0010


class StatusReplyError(ValueError):
    """A byte that is not a valid reply to the query sent."""


def encode_dle_eot(n: int, status: PrinterStatus) -> int:
    """The byte a printer in ``status`` answers to DLE EOT ``n`` (1-4)."""
    bits = 0
    if n == 1:  # printer status
        bits = 0x08 if not status.online else 0
    elif n == 2:  # off-line cause
        bits = (0x04 if status.cover_open else 0) | (0x20 if status.paper_out else 0)
        bits |= 0x40 if status.error else 0
    elif n == 3:  # error cause: unrecoverable/auto-recoverable errors
        bits = 0x20 if status.error else 0
    elif n == 4:  # roll paper sensor
        bits = (0x0C if status.paper_near_end else 0) | (0x60 if status.paper_out else 0)
    else:
        raise ValueError(f"DLE EOT {n}: n must be 1-4")
    return _FIXED | bits


def decode_dle_eot(n: int, byte: int, status: PrinterStatus) -> PrinterStatus:
    """``status`` updated with what the reply to DLE EOT ``n`` says."""
    if byte & _FIXED_MASK != _FIXED:
        raise StatusReplyError(f"DLE EOT {n}: 0x{byte:02X} is not a status byte")
    if n == 1:
        return replace(status, online=not byte & 0x08)
    if n == 2:
        return replace(
            status,
            cover_open=bool(byte & 0x04),
            paper_out=status.paper_out or bool(byte & 0x20),
            error=bool(byte & 0x40),
        )
    if n == 3:
        return replace(status, error=status.error or bool(byte & 0x60))
    if n == 4:
        return replace(status, paper_near_end=bool(byte & 0x0C), paper_out=bool(byte & 0x60))
    raise ValueError(f"DLE EOT {n}: n must be 1-4")


def encode_gs_r1(status: PrinterStatus) -> int:
    """Reply to GS r 1: paper sensor (bits 0-1 near end, bits 2-3 paper end)."""
    return (0x03 if status.paper_near_end else 0) | (0x0C if status.paper_out else 0)


def decode_gs_r1(byte: int, status: PrinterStatus) -> PrinterStatus:
    if byte & 0x90:
        raise StatusReplyError(f"GS r 1: 0x{byte:02X} is not a paper sensor status")
    return replace(
        status,
        paper_near_end=status.paper_near_end or bool(byte & 0x03),
        paper_out=status.paper_out or bool(byte & 0x0C),
    )
