"""ISO 8583:1987 dialects: ``iso87ascii`` and ``iso87binary``.

``iso87ascii`` matches pyiso8583's ``default_ascii`` spec field by field (lengths, length
prefixes, binary fields as hex-ASCII whose LLL length counts hex characters), so bytes
interoperate with it; the data types come from the standard. ``iso87binary`` is the common
binary variant (as jPOS's ISO87BPackager): BCD numbers and lengths, binary bitmap, raw PIN, ICC and
MAC bytes.
"""

from __future__ import annotations

from iso8583.dialects._table import Row, ascii_policy, bcd_policy, build_fields
from iso8583.spec import BerTlv, BitmapEncoding, Encoding, LengthUnit, Spec

__all__ = ["ISO87_FIELDS", "iso87ascii", "iso87binary"]

_RESERVED = [
    (
        n,
        "ans",
        999,
        3,
        f"Reserved for {'ISO' if n < 112 else 'national' if n < 120 else 'private'} use",
    )
    for n in range(105, 128)
]

ISO87_FIELDS: list[Row] = [
    (2, "n", 19, 2, "Primary account number (PAN)"),
    (3, "n", 6, 0, "Processing code"),
    (4, "n", 12, 0, "Amount, transaction"),
    (5, "n", 12, 0, "Amount, settlement"),
    (6, "n", 12, 0, "Amount, cardholder billing"),
    (7, "n", 10, 0, "Transmission date and time"),
    (8, "n", 8, 0, "Amount, cardholder billing fee"),
    (9, "n", 8, 0, "Conversion rate, settlement"),
    (10, "n", 8, 0, "Conversion rate, cardholder billing"),
    (11, "n", 6, 0, "System trace audit number (STAN)"),
    (12, "n", 6, 0, "Time, local transaction (hhmmss)"),
    (13, "n", 4, 0, "Date, local transaction (MMDD)"),
    (14, "n", 4, 0, "Date, expiration (YYMM)"),
    (15, "n", 4, 0, "Date, settlement"),
    (16, "n", 4, 0, "Date, conversion"),
    (17, "n", 4, 0, "Date, capture"),
    (18, "n", 4, 0, "Merchant type"),
    (19, "n", 3, 0, "Acquiring institution country code"),
    (20, "n", 3, 0, "PAN extended, country code"),
    (21, "n", 3, 0, "Forwarding institution country code"),
    (22, "n", 3, 0, "Point of service entry mode"),
    (23, "n", 3, 0, "Card sequence number"),
    (24, "n", 3, 0, "Network international identifier (NII)"),
    (25, "n", 2, 0, "Point of service condition code"),
    (26, "n", 2, 0, "Point of service capture code"),
    (27, "n", 1, 0, "Authorizing identification response length"),
    (28, "x+n", 8, 0, "Amount, transaction fee"),
    (29, "x+n", 8, 0, "Amount, settlement fee"),
    (30, "x+n", 8, 0, "Amount, transaction processing fee"),
    (31, "x+n", 8, 0, "Amount, settlement processing fee"),
    (32, "n", 11, 2, "Acquiring institution identification code"),
    (33, "n", 11, 2, "Forwarding institution identification code"),
    (34, "ans", 28, 2, "Primary account number, extended"),
    (35, "z", 37, 2, "Track 2 data"),
    (36, "z", 104, 3, "Track 3 data"),
    (37, "an", 12, 0, "Retrieval reference number (RRN)"),
    (38, "an", 6, 0, "Authorization identification response"),
    (39, "an", 2, 0, "Response code"),
    (40, "an", 3, 0, "Service restriction code"),
    (41, "ans", 8, 0, "Card acceptor terminal identification"),
    (42, "ans", 15, 0, "Card acceptor identification code"),
    (43, "ans", 40, 0, "Card acceptor name/location"),
    (44, "ans", 25, 2, "Additional response data"),
    (45, "ans", 76, 2, "Track 1 data"),
    (46, "ans", 999, 3, "Additional data - ISO"),
    (47, "ans", 999, 3, "Additional data - national"),
    (48, "ans", 999, 3, "Additional data - private"),
    (49, "an", 3, 0, "Currency code, transaction"),
    (50, "an", 3, 0, "Currency code, settlement"),
    (51, "an", 3, 0, "Currency code, cardholder billing"),
    (52, "b", 8, 0, "Personal identification number data (PIN block)"),
    (53, "n", 16, 0, "Security related control information"),
    (54, "ans", 240, 3, "Additional amounts"),
    (55, "b", 255, 3, "ICC data (EMV)"),
    (56, "ans", 999, 3, "Reserved ISO"),
    (57, "ans", 999, 3, "Reserved national"),
    (58, "ans", 999, 3, "Reserved national"),
    (59, "ans", 999, 3, "Reserved national"),
    (60, "ans", 999, 3, "Reserved national"),
    (61, "ans", 999, 3, "Reserved private"),
    (62, "ans", 999, 3, "Reserved private"),
    (63, "ans", 999, 3, "Reserved private"),
    (64, "b", 8, 0, "Message authentication code (MAC)"),
    (65, "b", 8, 0, "Bitmap, extended"),
    (66, "n", 1, 0, "Settlement code"),
    (67, "n", 2, 0, "Extended payment code"),
    (68, "n", 3, 0, "Receiving institution country code"),
    (69, "n", 3, 0, "Settlement institution country code"),
    (70, "n", 3, 0, "Network management information code"),
    (71, "n", 4, 0, "Message number"),
    (72, "n", 4, 0, "Message number, last"),
    (73, "n", 6, 0, "Date, action (YYMMDD)"),
    (74, "n", 10, 0, "Credits, number"),
    (75, "n", 10, 0, "Credits, reversal number"),
    (76, "n", 10, 0, "Debits, number"),
    (77, "n", 10, 0, "Debits, reversal number"),
    (78, "n", 10, 0, "Transfer, number"),
    (79, "n", 10, 0, "Transfer, reversal number"),
    (80, "n", 10, 0, "Inquiries, number"),
    (81, "n", 10, 0, "Authorizations, number"),
    (82, "n", 12, 0, "Credits, processing fee amount"),
    (83, "n", 12, 0, "Credits, transaction fee amount"),
    (84, "n", 12, 0, "Debits, processing fee amount"),
    (85, "n", 12, 0, "Debits, transaction fee amount"),
    (86, "n", 16, 0, "Credits, amount"),
    (87, "n", 16, 0, "Credits, reversal amount"),
    (88, "n", 16, 0, "Debits, amount"),
    (89, "n", 16, 0, "Debits, reversal amount"),
    (90, "n", 42, 0, "Original data elements"),
    (91, "an", 1, 0, "File update code"),
    (92, "an", 2, 0, "File security code"),
    (93, "an", 5, 0, "Response indicator"),
    (94, "an", 7, 0, "Service indicator"),
    (95, "an", 42, 0, "Replacement amounts"),
    (96, "b", 8, 0, "Message security code"),
    (97, "x+n", 16, 0, "Amount, net settlement"),
    (98, "ans", 25, 0, "Payee"),
    (99, "n", 11, 2, "Settlement institution identification code"),
    (100, "n", 11, 2, "Receiving institution identification code"),
    (101, "ans", 17, 2, "File name"),
    (102, "ans", 28, 2, "Account identification 1"),
    (103, "ans", 28, 2, "Account identification 2"),
    (104, "ans", 100, 3, "Transaction description"),
    *_RESERVED,
    (128, "b", 8, 0, "Message authentication code (MAC)"),
]


def iso87ascii() -> Spec:
    fields = build_fields(ISO87_FIELDS, ascii_policy(binary_units=LengthUnit.WIRE))
    # pyiso8583 counts hex characters here: 510 of them carry the standard's 255 bytes.
    fields[55] = fields[55].with_(max_len=510, composite=BerTlv())
    return Spec(
        name="iso87ascii",
        description="ISO 8583:1987, all ASCII, hex-ASCII bitmap (pyiso8583 default_ascii)",
        fields=fields,
        mti_encoding=Encoding.ASCII,
        bitmap_encoding=BitmapEncoding.HEX,
    )


def iso87binary() -> Spec:
    fields = build_fields(ISO87_FIELDS, bcd_policy())
    fields[55] = fields[55].with_(composite=BerTlv())
    return Spec(
        name="iso87binary",
        description="ISO 8583:1987, BCD numbers and lengths, binary bitmap, raw PIN/ICC/MAC",
        fields=fields,
        mti_encoding=Encoding.BCD,
        bitmap_encoding=BitmapEncoding.BINARY,
    )
