"""``cup``: a China UnionPay-style POS terminal dialect.

What a UnionPay acquirer's terminal link looks like on the wire::

    | length (2 bytes, binary) | TPDU (5 bytes) | header (6 bytes) | MTI (2 bytes BCD) |
    | bitmap (8 bytes binary)  | fields ...                                           |

Numbers are packed BCD; variable-length numbers are left-aligned (padded on the right), as in
the UnionPay terminal specifications; field 60 (transaction type, batch number, network
management code, ...) and 61 (original transaction) are positional composites over their digits,
field 55 is BER-TLV, field 62 carries binary key material at sign-on.
"""

from __future__ import annotations

from iso8583.dialects._table import Row, bcd_policy, build_fields
from iso8583.framing import FrameFormat, LengthHeader
from iso8583.spec import (
    BerTlv,
    BitmapEncoding,
    Encoding,
    FieldSpec,
    Kind,
    Pad,
    Positional,
    Spec,
)

__all__ = ["CUP_FIELDS", "CUP_HEADER", "cup"]

#: Application type 60, spec version 31, terminal status 0, processing request 0, reserved.
CUP_HEADER = bytes.fromhex("603100000000")

CUP_FIELDS: list[Row] = [
    (2, "n", 19, 2, "Primary account number (PAN)"),
    (3, "n", 6, 0, "Processing code"),
    (4, "n", 12, 0, "Amount, transaction"),
    (11, "n", 6, 0, "System trace audit number (STAN)"),
    (12, "n", 6, 0, "Time, local transaction (hhmmss)"),
    (13, "n", 4, 0, "Date, local transaction (MMDD)"),
    (14, "n", 4, 0, "Date, expiration (YYMM)"),
    (15, "n", 4, 0, "Date, settlement (MMDD)"),
    (22, "n", 3, 0, "Point of service entry mode"),
    (23, "n", 3, 0, "Card sequence number"),
    (25, "n", 2, 0, "Point of service condition code"),
    (26, "n", 2, 0, "Point of service PIN capture code"),
    (32, "n", 11, 2, "Acquiring institution identification code"),
    (35, "z", 37, 2, "Track 2 data"),
    (36, "z", 104, 3, "Track 3 data"),
    (37, "an", 12, 0, "Retrieval reference number (RRN)"),
    (38, "an", 6, 0, "Authorization identification response"),
    (39, "an", 2, 0, "Response code"),
    (41, "ans", 8, 0, "Card acceptor terminal identification"),
    (42, "ans", 15, 0, "Card acceptor identification code"),
    (44, "ans", 25, 2, "Additional response data"),
    (48, "n", 322, 3, "Additional data - private (settlement totals)"),
    (49, "an", 3, 0, "Currency code, transaction"),
    (52, "b", 8, 0, "PIN data"),
    (53, "n", 16, 0, "Security related control information"),
    (54, "ans", 20, 3, "Balance amount"),
    (55, "b", 255, 3, "ICC system related data (EMV)"),
    (58, "ans", 100, 3, "Electronic cash / QR data"),
    (59, "ans", 999, 3, "Reserved (QR payment code, scheme data)"),
    (60, "n", 17, 3, "Reserved private: transaction type, batch number, network management"),
    (61, "n", 29, 3, "Original message data"),
    (62, "b", 512, 3, "Reserved private: terminal info, working keys"),
    (63, "ans", 163, 3, "Reserved private: card organisation, operator"),
    (64, "b", 8, 0, "Message authentication code (MAC)"),
]


def _n(length: int, name: str) -> FieldSpec:
    return FieldSpec(name=name, kind=Kind.N, max_len=length)


def cup() -> Spec:
    fields = build_fields(CUP_FIELDS, bcd_policy(variable_pad=Pad.RIGHT))
    fields[55] = fields[55].with_(composite=BerTlv())
    fields[60] = fields[60].with_(
        composite=Positional(
            (
                _n(2, "Transaction type code"),
                _n(6, "Batch number"),
                _n(3, "Network management information code"),
                _n(1, "Terminal read capability"),
                _n(1, "IC card condition code"),
                _n(1, "Partial approval support"),
                _n(3, "Account type"),
            )
        )
    )
    fields[61] = fields[61].with_(
        composite=Positional(
            (
                _n(6, "Original batch number"),
                _n(6, "Original STAN"),
                _n(4, "Original transaction date (MMDD)"),
                _n(2, "Original authorization method"),
                _n(11, "Original authorizing institution"),
            )
        )
    )
    return Spec(
        name="cup",
        description="China UnionPay-style terminal dialect: 2-byte length, TPDU, 6-byte header, "
        "BCD MTI, binary bitmap, composite fields 60-61",
        fields=fields,
        mti_encoding=Encoding.BCD,
        bitmap_encoding=BitmapEncoding.BINARY,
        framing=FrameFormat(
            length_header=LengthHeader.BINARY2, tpdu=True, header_length=len(CUP_HEADER)
        ),
    )
