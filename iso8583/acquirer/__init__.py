"""The acquirer protocol shared by the terminal and the host simulator.

``model`` says what is asked and answered in logical terms, ``profiles`` where each item sits
in each dialect, ``security`` how messages are MAC'd and keys exchanged, ``codes`` what the
response codes mean.
"""

from __future__ import annotations

from iso8583.acquirer.codes import APPROVED, RESPONSE_TEXT, response_text
from iso8583.acquirer.model import Original, Request, Response, SessionKeys, Totals, TxnKind
from iso8583.acquirer.profiles import Profile, profile_for
from iso8583.acquirer.security import (
    TEST_TMK,
    WorkingKeys,
    apply_mac,
    issue_session_keys,
    mac_field_for,
    open_session_keys,
    pack_with_mac,
    verify_message_mac,
)

__all__ = [
    "APPROVED",
    "RESPONSE_TEXT",
    "TEST_TMK",
    "Original",
    "Profile",
    "Request",
    "Response",
    "SessionKeys",
    "Totals",
    "TxnKind",
    "WorkingKeys",
    "apply_mac",
    "issue_session_keys",
    "mac_field_for",
    "open_session_keys",
    "pack_with_mac",
    "profile_for",
    "response_text",
    "verify_message_mac",
]
