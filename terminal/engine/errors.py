"""Errors of the terminal engine: what an operation refuses or cannot finish.

Why typed: the CLI maps these to exit codes and the TUI to screens, without parsing text::

    EngineError                 (a TerminalError)
    ├── InputError              the operator's input cannot make a transaction (nothing sent)
    │   ├── PinRequiredError    the card needs a PIN and none was given
    │   ├── ChipRequiredError   a chip card was swiped on a chip terminal: insert it
    │   ├── OriginalNotFoundError   no journal entry matches a void/refund/completion reference
    │   └── NotAllowedError     the referenced transaction cannot be voided/refunded/completed
    ├── HostFailureError        the host cannot be used right now
    │   ├── HostUnavailableError    it could not be reached or did not answer (link failure)
    │   ├── HostProtocolError   it answered with something that is not a usable reply
    │   └── SignOnError         it refused sign-on, or its keys do not check out
    │       └── KeysRejectedError   its key block does not verify under our TMK
    └── ServiceStateError       the service is not started (or is stopping)

A failure after a journal entry exists is not raised: the operation returns a ``TxnResult``
whose state (TIMED_OUT, REVERSED, FAILED) and ``error`` say what happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminal.core.errors import TerminalError

if TYPE_CHECKING:
    from iso8583.acquirer.model import Response

__all__ = [
    "ChipRequiredError",
    "EngineError",
    "HostFailureError",
    "HostProtocolError",
    "HostUnavailableError",
    "InputError",
    "KeysRejectedError",
    "NotAllowedError",
    "OriginalNotFoundError",
    "PinRequiredError",
    "ServiceStateError",
    "SignOnError",
]


class EngineError(TerminalError):
    """Base of every engine error."""


class InputError(EngineError, ValueError):
    """The request cannot be built from what the operator gave; nothing was sent."""


class PinRequiredError(InputError):
    """The card's service code requires online PIN and no PIN was entered."""

    def __init__(self, masked_pan: str) -> None:
        self.masked_pan = masked_pan
        super().__init__(f"card {masked_pan} requires a PIN")


class ChipRequiredError(InputError):
    """A chip card was swiped on a chip-capable terminal; fallback needs a chip failure."""

    def __init__(self, masked_pan: str) -> None:
        self.masked_pan = masked_pan
        super().__init__(
            f"card {masked_pan} has a chip: insert it (swipe only after a chip failure: fallback)"
        )


class OriginalNotFoundError(InputError, LookupError):
    """``reference`` (a STAN, RRN or journal id) matches no usable journal entry."""

    def __init__(self, reference: str, reason: str = "no such transaction") -> None:
        self.reference = reference
        self.reason = reason
        super().__init__(f"original transaction {reference}: {reason}")


class NotAllowedError(InputError):
    """The operation does not apply to the referenced transaction (e.g. void a void)."""


class AmbiguousReferenceError(InputError, LookupError):
    """A STAN or RRN matches more than one journal entry: the user must pass the id."""

    def __init__(self, reference: str, ids: list[int]) -> None:
        self.reference = reference
        self.ids = ids
        listed = ", ".join(str(i) for i in ids)
        super().__init__(
            f"{reference} matches journal entries {listed}: pass the journal id (--id N)"
        )


class HostFailureError(EngineError):
    """The host could not be used (the CLI's "host or network error")."""


class HostUnavailableError(HostFailureError):
    """The link failed (refused, timeout, closed); ``cause`` is the link error's text."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class HostProtocolError(HostFailureError):
    """The host's bytes decode to no usable answer (garbage, wrong MTI or STAN, bad fields)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"unusable answer from host: {reason}")


class SignOnError(HostFailureError):
    """Sign-on was declined, or the delivered keys failed their check values.

    ``answer`` is the host's answer (A7/A0) to the request that asked for this sign-on: the
    host did answer it, so the request is declined, not lost, and there is nothing to reverse.
    """

    def __init__(self, reason: str, *, answer: Response | None = None) -> None:
        self.reason = reason
        self.answer = answer
        super().__init__(reason)


class KeysRejectedError(SignOnError):
    """The host's key block does not verify under our TMK: no retry can help, only settings."""


class ServiceStateError(EngineError):
    """An operation was called on a service that is not running."""
