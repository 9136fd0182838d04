"""jPOS GenericPackager import: class mapping, byte equality with built-ins, exact errors.

Every packager file here is written for these tests (a subset of fields, in the documented
GenericPackager format); none is copied from jPOS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iso8583 import Message, get_spec, pack, unpack
from iso8583.errors import SpecError
from iso8583.framing import FrameFormat
from iso8583.jpos import load_jpos_packager, spec_from_jpos_xml
from iso8583.spec import (
    BitmapEncoding,
    Encoding,
    FieldSpec,
    Kind,
    LengthUnit,
    Mask,
    Pad,
    Positional,
    Spec,
)
from iso8583.specfile import spec_from_dict, spec_to_dict

PROLOG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE isopackager SYSTEM "genericpackager.dtd">
"""


def packager(body: str, attrs: str = "") -> str:
    return f"{PROLOG}<isopackager{attrs}>\n{body}</isopackager>\n"


def isofield(number: int, length: int, cls: str, name: str = "", extra: str = "") -> str:
    name = name or f"Field {number}"
    return (
        f'  <isofield id="{number}" length="{length}" name="{name}" '
        f'class="org.jpos.iso.{cls}"{extra}/>\n'
    )


# An ISO 8583:1987 ASCII packager (a subset of fields), in the shape of jPOS's ISO87A.
ISO87A = packager(
    isofield(0, 4, "IFA_NUMERIC", "Message type indicator")
    + isofield(1, 16, "IFA_BITMAP", "Bitmap")
    + isofield(2, 19, "IFA_LLNUM", "Primary account number")
    + isofield(3, 6, "IFA_NUMERIC", "Processing code")
    + isofield(4, 12, "IFA_NUMERIC", "Amount, transaction")
    + isofield(7, 10, "IFA_NUMERIC", "Transmission date and time")
    + isofield(11, 6, "IFA_NUMERIC", "STAN")
    + isofield(14, 4, "IFA_NUMERIC", "Expiration date")
    + isofield(22, 3, "IFA_NUMERIC", "POS entry mode")
    + isofield(28, 9, "IFA_AMOUNT", "Amount, transaction fee")
    + isofield(35, 37, "IFA_LLNUM", "Track 2 data")
    + isofield(37, 12, "IF_CHAR", "Retrieval reference number")
    + isofield(38, 6, "IF_CHAR", "Approval code")
    + isofield(39, 2, "IF_CHAR", "Response code")
    + isofield(41, 8, "IF_CHAR", "Terminal id")
    + isofield(42, 15, "IF_CHAR", "Merchant id")
    + isofield(43, 40, "IF_CHAR", "Merchant name and location")
    + isofield(48, 999, "IFA_LLLCHAR", "Additional data, private")
    + isofield(49, 3, "IF_CHAR", "Currency code")
    + isofield(52, 8, "IFA_BINARY", "PIN block")
    + isofield(55, 999, "IFA_LLLBINARY", "ICC data")
    + isofield(64, 8, "IFA_BINARY", "MAC")
    + isofield(70, 3, "IFA_NUMERIC", "Network management code")
    + isofield(90, 42, "IFA_NUMERIC", "Original data elements")
    + isofield(102, 28, "IFA_LLCHAR", "Account identification 1")
    + isofield(126, 0, "IF_NOP", "Unused")
    + isofield(128, 8, "IFA_BINARY", "MAC 2")
)

# The binary variant (BCD numbers and lengths, binary bitmap), in the shape of jPOS's ISO87B.
ISO87B = packager(
    isofield(0, 4, "IFB_NUMERIC", "MTI", ' pad="true"')
    + isofield(1, 16, "IFB_BITMAP", "Bitmap")
    + isofield(2, 19, "IFB_LLNUM", "PAN", ' pad="true"')
    + isofield(3, 6, "IFB_NUMERIC", "Processing code", ' pad="true"')
    + isofield(4, 12, "IFB_NUMERIC", "Amount", ' pad="true"')
    + isofield(11, 6, "IFB_NUMERIC", "STAN", ' pad="true"')
    + isofield(14, 4, "IFB_NUMERIC", "Expiration date", ' pad="true"')
    + isofield(22, 3, "IFB_NUMERIC", "POS entry mode", ' pad="true"')
    + isofield(25, 2, "IFB_NUMERIC", "POS condition code", ' pad="true"')
    + isofield(28, 9, "IFB_AMOUNT", "Amount, transaction fee", ' pad="true"')
    + isofield(32, 11, "IFB_LLNUM", "Acquirer id", ' pad="true"')
    + isofield(37, 12, "IF_CHAR", "RRN")
    + isofield(39, 2, "IF_CHAR", "Response code")
    + isofield(41, 8, "IF_CHAR", "Terminal id")
    + isofield(44, 25, "IFB_LLCHAR", "Additional response data")
    + isofield(48, 999, "IFB_LLLCHAR", "Additional data, private")
    + isofield(52, 8, "IFB_BINARY", "PIN block")
    + isofield(55, 255, "IFB_LLLBINARY", "ICC data")
    + isofield(64, 8, "IFB_BINARY", "MAC")
    + isofield(70, 3, "IFB_NUMERIC", "Network management code", ' pad="true"')
)

# A terminal packager with two subfield packagers.
SUBFIELDS = packager(
    isofield(0, 4, "IFB_NUMERIC", "MTI")
    + isofield(1, 16, "IFB_BITMAP", "Bitmap")
    + isofield(3, 6, "IFB_NUMERIC", "Processing code")
    + isofield(11, 6, "IFB_NUMERIC", "STAN")
    + """\
  <isofieldpackager id="62" length="999" name="Terminal data"
      class="org.jpos.iso.IFB_LLLCHAR"
      packager="org.jpos.iso.packager.GenericSubFieldPackager" emitBitmap="false">
    <isofield id="1" length="6" name="Batch number" class="org.jpos.iso.IFA_NUMERIC"/>
    <isofield id="2" length="2" name="Terminal type" class="org.jpos.iso.IF_CHAR"/>
    <isofield id="3" length="20" name="Serial number" class="org.jpos.iso.IFA_LLCHAR"/>
  </isofieldpackager>
  <isofieldpackager id="63" length="99" name="Key block"
      class="org.jpos.iso.IFB_LLLBINARY"
      packager="org.jpos.iso.packager.GenericSubFieldPackager" emitBitmap="false">
    <isofield id="1" length="2" name="Key index" class="org.jpos.iso.IF_CHAR"/>
    <isofield id="2" length="16" name="Key" class="org.jpos.iso.IFB_LLHBINARY"/>
    <isofield id="3" length="4" name="Check value" class="org.jpos.iso.IFB_BINARY"/>
  </isofieldpackager>
"""
)


def load(text: str, name: str = "test") -> Spec:
    return spec_from_jpos_xml(text, name=name, where="test.xml")


def same(a: Spec, b: Spec) -> bool:
    return a == b and a.framing == b.framing


# --------------------------------------------------------------------------- mapping


def test_iso87a_mapping() -> None:
    spec = load(ISO87A, "iso87a")
    assert spec.name == "iso87a"
    assert spec.mti_encoding is Encoding.ASCII
    assert spec.bitmap_encoding is BitmapEncoding.HEX
    assert not spec.tertiary_bitmap
    assert spec.framing is None
    f = spec.fields
    assert f[2] == FieldSpec("Primary account number", Kind.N, 19, prefix=2, mask=Mask.PAN)
    assert f[3] == FieldSpec("Processing code", Kind.N, 6)
    assert f[28] == FieldSpec("Amount, transaction fee", Kind.XN, 8)
    assert f[35] == FieldSpec("Track 2 data", Kind.Z, 37, prefix=2, mask=Mask.TRACK)
    assert f[37] == FieldSpec("Retrieval reference number", Kind.ANS, 12)
    assert f[48] == FieldSpec("Additional data, private", Kind.ANS, 999, prefix=3)
    assert f[52] == FieldSpec("PIN block", Kind.B, 8, encoding=Encoding.HEX, mask=Mask.SECRET)
    # jPOS's IFA_LLLBINARY carries raw bytes after an ASCII length (not hex-ASCII).
    assert f[55] == FieldSpec(
        "ICC data",
        Kind.B,
        999,
        prefix=3,
        encoding=Encoding.BINARY,
        prefix_encoding=Encoding.ASCII,
        mask=Mask.EMV,
    )
    assert 126 not in f  # IF_NOP
    numbers = "2 3 4 7 11 14 22 28 35 37 38 39 41 42 43 48 49 52 55 64 70 90 102 128"
    assert sorted(f) == [int(n) for n in numbers.split()]


def test_iso87b_mapping() -> None:
    spec = load(ISO87B)
    assert spec.mti_encoding is Encoding.BCD
    assert spec.bitmap_encoding is BitmapEncoding.BINARY
    f = spec.fields
    bcd = {"encoding": Encoding.BCD, "prefix_encoding": Encoding.BCD}
    assert f[2] == FieldSpec("PAN", Kind.N, 19, prefix=2, mask=Mask.PAN, **bcd)
    assert f[22] == FieldSpec("POS entry mode", Kind.N, 3, **bcd)
    assert f[28] == FieldSpec("Amount, transaction fee", Kind.XN, 8, **bcd)
    assert f[44] == FieldSpec(
        "Additional response data", Kind.ANS, 25, prefix=2, prefix_encoding=Encoding.BCD
    )
    assert f[55] == FieldSpec(
        "ICC data",
        Kind.B,
        255,
        prefix=3,
        encoding=Encoding.BINARY,
        prefix_encoding=Encoding.BCD,
        mask=Mask.EMV,
    )


@pytest.mark.parametrize(
    ("cls", "extra", "expected"),
    [
        ("IFB_LLNUM", "", FieldSpec("x", Kind.N, 19, 2, Encoding.BCD, Encoding.BCD, Pad.RIGHT)),
        ("IFB_LLNUM", ' pad="true"', FieldSpec("x", Kind.N, 19, 2, Encoding.BCD, Encoding.BCD)),
        (
            "IFB_NUMERIC",
            ' pad="false"',
            FieldSpec("x", Kind.N, 19, 0, Encoding.BCD, Encoding.BCD, Pad.RIGHT),
        ),
        ("IFB_LLHNUM", ' pad="TRUE"', FieldSpec("x", Kind.N, 19, 2, Encoding.BCD, Encoding.BINARY)),
        ("IFA_LLNUM", ' pad="false"', FieldSpec("x", Kind.N, 19, 2)),  # ASCII: pad ignored
        ("IFB_LLHCHAR", "", FieldSpec("x", Kind.ANS, 19, 2, prefix_encoding=Encoding.BINARY)),
        ("IFB_LLLHECHAR", "", FieldSpec("x", Kind.ANS, 19, 3, Encoding.EBCDIC, Encoding.BINARY)),
        ("IFB_LLHBINARY", "", FieldSpec("x", Kind.B, 19, 2, Encoding.BINARY, Encoding.BINARY)),
        ("IFB_LLLLBINARY", "", FieldSpec("x", Kind.B, 19, 4, Encoding.BINARY, Encoding.BCD)),
        ("IFA_LLABINARY", "", FieldSpec("x", Kind.B, 19, 2, Encoding.HEX, Encoding.ASCII)),
        ("IFA_LLLLLLCHAR", "", FieldSpec("x", Kind.ANS, 19, 6)),
        ("IFE_LLNUM", "", FieldSpec("x", Kind.N, 19, 2, Encoding.EBCDIC, Encoding.EBCDIC)),
        ("IFE_CHAR", "", FieldSpec("x", Kind.ANS, 19, 0, Encoding.EBCDIC, Encoding.EBCDIC)),
        ("IF_ECHAR", "", FieldSpec("x", Kind.ANS, 19, 0, Encoding.EBCDIC, Encoding.EBCDIC)),
        ("IFE_AMOUNT", "", FieldSpec("x", Kind.XN, 18, 0, Encoding.EBCDIC, Encoding.EBCDIC)),
        ("IFE_LLLBINARY", "", FieldSpec("x", Kind.B, 19, 3, Encoding.BINARY, Encoding.EBCDIC)),
    ],
)
def test_class_mapping(cls: str, extra: str, expected: FieldSpec) -> None:
    body = isofield(0, 4, "IFA_NUMERIC") + isofield(1, 16, "IFA_BITMAP")
    spec = load(packager(body + isofield(60, 19, cls, "x", extra)))
    assert spec.fields[60] == expected
    assert expected.length_unit is LengthUnit.VALUE


@pytest.mark.parametrize(
    ("mti_class", "bitmap_class", "mti", "bitmap"),
    [
        ("IF_CHAR", "IFA_BITMAP", Encoding.ASCII, BitmapEncoding.HEX),
        ("IFE_NUMERIC", "IFE_BITMAP", Encoding.EBCDIC, BitmapEncoding.EBCDIC_HEX),
        ("IFB_NUMERIC", "IFB_BITMAP", Encoding.BCD, BitmapEncoding.BINARY),
    ],
)
def test_mti_and_bitmap(
    mti_class: str, bitmap_class: str, mti: Encoding, bitmap: BitmapEncoding
) -> None:
    spec = load(packager(isofield(0, 4, mti_class) + isofield(1, 16, bitmap_class)))
    assert (spec.mti_encoding, spec.bitmap_encoding) == (mti, bitmap)
    assert spec.fields == {}


def test_tertiary_bitmap_and_header() -> None:
    spec = load(
        packager(
            isofield(0, 4, "IFB_NUMERIC")
            + isofield(1, 16, "IFB_BITMAP")
            + isofield(3, 6, "IFB_NUMERIC")
            + isofield(65, 8, "IFB_BITMAP")
            + isofield(150, 10, "IF_CHAR"),
            ' headerLength="5"',
        )
    )
    assert spec.tertiary_bitmap
    assert 65 not in spec.fields
    assert spec.fields[150] == FieldSpec("Field 150", Kind.ANS, 10)
    assert spec.framing == FrameFormat(header_length=5)
    message = Message("0200", {3: "000000", 150: "ABCDEFGHIJ"})
    assert unpack(pack(message, spec), spec) == message


def test_subfield_packagers_become_positional() -> None:
    spec = load(SUBFIELDS)
    assert spec.fields[62] == FieldSpec(
        "Terminal data",
        Kind.ANS,
        999,
        prefix=3,
        prefix_encoding=Encoding.BCD,
        composite=Positional(
            (
                FieldSpec("Batch number", Kind.N, 6),
                FieldSpec("Terminal type", Kind.ANS, 2),
                FieldSpec("Serial number", Kind.ANS, 20, prefix=2),
            )
        ),
    )
    assert spec.fields[63] == FieldSpec(
        "Key block",
        Kind.B,
        99,
        prefix=3,
        encoding=Encoding.BINARY,
        prefix_encoding=Encoding.BCD,
        composite=Positional(
            (
                FieldSpec("Key index", Kind.ANS, 2),
                FieldSpec(
                    "Key",
                    Kind.B,
                    16,
                    prefix=2,
                    encoding=Encoding.BINARY,
                    prefix_encoding=Encoding.BINARY,
                ),
                FieldSpec(
                    "Check value", Kind.B, 4, encoding=Encoding.BINARY, prefix_encoding=Encoding.BCD
                ),
            )
        ),
    )
    key = bytes(range(16))
    message = Message(
        "0800",
        {
            3: "990000",
            11: "000123",
            62: {"1": "000001", "2": "P1", "3": "SN42"},
            63: {"1": "03", "2": key, "3": b"\xca\xfe\xba\xbe"},
        },
    )
    raw = pack(message, spec)
    assert raw == (
        bytes.fromhex("08002020000000000006990000000123")
        + bytes.fromhex("0014")
        + b"000001"
        + b"P1"
        + b"04SN42"
        + bytes.fromhex("0023")
        + b"03"
        + b"\x10"
        + key
        + b"\xca\xfe\xba\xbe"
    )
    assert unpack(raw, spec) == message


def test_first_field_renumbers_subfields() -> None:
    spec = load(
        packager(
            isofield(0, 4, "IFA_NUMERIC")
            + isofield(1, 16, "IFA_BITMAP")
            + sub_packager(
                ' emitBitmap="false" firstField="0"',
                isofield(0, 2, "IF_CHAR", "Usage") + isofield(1, 4, "IFA_NUMERIC", "Code"),
                cls="IFA_LLCHAR",
                length=99,
            )
        )
    )
    assert spec.fields[62].composite == Positional(
        (FieldSpec("Usage", Kind.ANS, 2), FieldSpec("Code", Kind.N, 4))
    )


# --------------------------------------------------------------------------- byte equality

ISO87A_MESSAGE = Message(
    "0200",
    {
        2: "4761739001010010",
        3: "000000",
        4: "000000001000",
        7: "0115103000",
        11: "000123",
        14: "2712",
        22: "051",
        28: "D00000050",
        35: "4761739001010010=27122011758928889",
        37: "401510000123",
        38: "AB12CD",
        39: "00",
        41: "TERM0001",
        42: "MERCHANT0000001",
        43: "ACME STORE            SPRINGFIELD     US",
        48: "ADDITIONAL DATA",
        49: "840",
        52: bytes.fromhex("0123456789ABCDEF"),
        64: bytes.fromhex("1122334455667788"),
        70: "301",
        90: "020000012301151030000000001234500000006789",
        102: "1234567890",
        128: bytes.fromhex("8877665544332211"),
    },
)

ISO87B_MESSAGE = Message(
    "0200",
    {
        2: "476173900101001",  # odd length: left-padded BCD in both
        3: "000000",
        4: "000000001000",
        11: "000123",
        14: "2712",
        22: "051",
        25: "00",
        28: "C00000050",
        32: "12345678901",
        37: "401510000123",
        39: "00",
        41: "TERM0001",
        44: "RESPONSE DATA",
        48: "ADDITIONAL DATA",
        52: bytes.fromhex("0123456789ABCDEF"),
        55: bytes.fromhex("9F2608C1D2E3F4A5B6C7D89F270180"),
        64: bytes.fromhex("1122334455667788"),
        70: "301",
    },
)


def test_iso87a_packs_like_builtin_iso87ascii() -> None:
    imported, builtin = load(ISO87A), get_spec("iso87ascii")
    assert len(ISO87A_MESSAGE.fields[43]) == 40
    assert len(ISO87A_MESSAGE.fields[90]) == 42
    raw = pack(ISO87A_MESSAGE, imported)
    assert raw == pack(ISO87A_MESSAGE, builtin)
    assert unpack(raw, imported) == ISO87A_MESSAGE
    assert unpack(raw, builtin) == ISO87A_MESSAGE


def test_iso87a_field_55_differs_from_iso87ascii() -> None:
    # Documented difference: iso87ascii (pyiso8583) hex-encodes ICC data, jPOS does not.
    imported, builtin = load(ISO87A), get_spec("iso87ascii")
    message = Message("0100", {55: b"\x9f\x27\x01\x80"})
    assert pack(message, imported).endswith(b"004\x9f\x27\x01\x80")
    assert pack(message, builtin).endswith(b"0089F270180")


def test_iso87b_packs_like_builtin_iso87binary() -> None:
    imported, builtin = load(ISO87B), get_spec("iso87binary")
    raw = pack(ISO87B_MESSAGE, imported)
    assert raw == pack(ISO87B_MESSAGE, builtin)
    assert unpack(raw, imported) == ISO87B_MESSAGE
    for number in ISO87B_MESSAGE.fields:
        assert wire(imported.fields[number]) == wire(builtin.fields[number]), number


def wire(fs: FieldSpec) -> tuple[object, ...]:
    """The attributes that shape the bytes of a field (not its name, kind or unused parts)."""
    bcd = fs.encoding is Encoding.BCD
    return (
        fs.max_len,
        fs.prefix,
        fs.encoding,
        fs.prefix_encoding if fs.prefix else None,
        (fs.pad, fs.pad_nibble) if bcd else None,
        fs.length_unit,
    )


def test_imported_spec_exports_to_a_dialect_file() -> None:
    for text in (ISO87A, ISO87B, SUBFIELDS):
        spec = load(text)
        assert same(spec_from_dict(spec_to_dict(spec), where="export"), spec)


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "acme87b.xml"
    path.write_text(ISO87B.replace("UTF-8", "ISO-8859-1"), encoding="latin-1")
    spec = load_jpos_packager(path)
    assert spec.name == "acme87b"
    assert spec.description == "Imported from jPOS GenericPackager acme87b.xml"
    assert spec.fields == load(ISO87B).fields
    assert load_jpos_packager(str(path), name="other").name == "other"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_jpos_packager(tmp_path / "none.xml")
    assert info.value.where == str(tmp_path / "none.xml")
    assert info.value.reason == "cannot read the file: No such file or directory"


# --------------------------------------------------------------------------- errors

HEAD = isofield(0, 4, "IFA_NUMERIC") + isofield(1, 16, "IFA_BITMAP")  # lines 4 and 5


def sub_packager(attrs: str, body: str, cls: str = "IFA_LLLCHAR", length: int = 999) -> str:
    return (
        f'  <isofieldpackager id="62" length="{length}" name="Sub" class="org.jpos.iso.{cls}"'
        f' packager="org.jpos.iso.packager.GenericSubFieldPackager"{attrs}>\n'
        f"{body}  </isofieldpackager>\n"
    )


ERRORS = [
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUMBER")),
        "test.xml: line 6",
        "unknown jPOS field packager class org.jpos.iso.IFA_LLNUMBER; "
        "did you mean org.jpos.iso.IFA_LLNUM?",
        id="unknown-class",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFEB_LLNUM")),
        "test.xml: line 6",
        "class org.jpos.iso.IFEB_LLNUM is not supported: "
        "its length prefix counts packed bytes, not digits",
        id="unsupported-class",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM").replace("length", "lenght")),
        "test.xml: line 6",
        "unknown attribute 'lenght' on <isofield>; did you mean 'length'?",
        id="unknown-attribute",
    ),
    pytest.param(
        packager(
            HEAD + isofield(2, 19, "IFA_LLNUM").replace(' class="org.jpos.iso.IFA_LLNUM"', "")
        ),
        "test.xml: line 6",
        "<isofield> needs the 'class' attribute",
        id="missing-attribute",
    ),
    pytest.param(
        packager(HEAD + isofield(48, 99, "IFA_LLCHAR", extra=' token="XX"')),
        "test.xml: line 6",
        "attribute 'token' (tagged fields) is not supported",
        id="refused-attribute",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM") + isofield(2, 19, "IFA_LLNUM")),
        "test.xml: line 7",
        "field 2 is defined twice (first on line 6)",
        id="duplicate-id",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM", extra=' pad="yes"')),
        "test.xml: line 6",
        "pad='yes' is not true or false",
        id="bad-pad",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM").replace('"19"', '"x"')),
        "test.xml: line 6",
        "length='x' is not a non-negative integer",
        id="bad-length",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 100, "IFA_LLNUM")),
        "test.xml: line 6",
        "field 2 (IFA_LLNUM): max_len 100 does not fit 2 length digits",
        id="length-too-big",
    ),
    pytest.param(
        packager(isofield(0, 4, "IFA_NUMERIC") + isofield(2, 19, "IFA_LLNUM")),
        "test.xml: line 3",
        "field 1 (the bitmap) is not defined",
        id="no-bitmap",
    ),
    pytest.param(
        packager(isofield(0, 2, "IFA_NUMERIC") + isofield(1, 16, "IFA_BITMAP")),
        "test.xml: line 4",
        "the MTI (field 0) must have length 4",
        id="mti-length",
    ),
    pytest.param(
        packager(isofield(0, 4, "IFA_LLCHAR") + isofield(1, 16, "IFA_BITMAP")),
        "test.xml: line 4",
        "IFA_LLCHAR cannot carry the MTI (IFA_NUMERIC, IF_CHAR, IFB_NUMERIC, IFE_NUMERIC, "
        "IFE_CHAR, IF_ECHAR)",
        id="mti-class",
    ),
    pytest.param(
        packager(isofield(0, 4, "IFA_NUMERIC") + isofield(1, 16, "IFA_BINARY")),
        "test.xml: line 5",
        "IFA_BINARY is not a bitmap class (IFA_BITMAP, IFB_BITMAP, IFE_BITMAP)",
        id="bitmap-class",
    ),
    pytest.param(
        packager(HEAD + isofield(7, 16, "IFB_BITMAP")),
        "test.xml: line 6",
        "IFB_BITMAP is only valid for field 1 (or 65)",
        id="bitmap-elsewhere",
    ),
    pytest.param(
        packager(HEAD + isofield(65, 16, "IFB_BITMAP")),
        "test.xml: line 3",
        "the tertiary bitmap must be encoded like field 1",
        id="tertiary-encoding",
    ),
    pytest.param(
        packager(HEAD + isofield(130, 10, "IF_CHAR")),
        "test.xml: line 6",
        "field 130 needs a tertiary bitmap (a bitmap class on 65)",
        id="field-over-128",
    ),
    pytest.param(
        packager(HEAD, ' emitBitmap="false"'),
        "test.xml: line 3",
        "packagers without a bitmap are not supported",
        id="no-bitmap-packager",
    ),
    pytest.param(
        packager(HEAD + sub_packager("", isofield(1, 6, "IFA_NUMERIC"))),
        "test.xml: line 6",
        "a sub-packager that emits a bitmap cannot be represented "
        '(only emitBitmap="false" subfields, read one after another)',
        id="subfield-bitmap-default",
    ),
    pytest.param(
        packager(HEAD + sub_packager(' emitBitmap="true"', isofield(1, 6, "IFA_NUMERIC"))),
        "test.xml: line 6",
        "a sub-packager that emits a bitmap cannot be represented "
        '(only emitBitmap="false" subfields, read one after another)',
        id="subfield-bitmap",
    ),
    pytest.param(
        packager(
            HEAD
            + sub_packager(
                ' emitBitmap="false"',
                isofield(1, 6, "IFA_NUMERIC")
                + isofield(2, 2, "IF_CHAR")
                + isofield(4, 2, "IF_CHAR"),
            )
        ),
        "test.xml: line 9",
        "subfield 4 follows 2: positional subfields must be numbered without gaps "
        "(subfield 3 is missing)",
        id="subfield-gap",
    ),
    pytest.param(
        packager(HEAD + sub_packager(' emitBitmap="false"', isofield(1, 6, "IFB_NUMERIC"))),
        "test.xml: line 7",
        "org.jpos.iso.IFB_NUMERIC cannot be a positional subfield: subfields are read from the "
        "field's value as ASCII text (IFA_*, IF_CHAR) or raw bytes with a binary length "
        "(IFB_BINARY, IFB_LLHBINARY)",
        id="subfield-bcd",
    ),
    pytest.param(
        packager(HEAD + sub_packager(' emitBitmap="false"', "")),
        "test.xml: line 6",
        "a sub-packager needs at least one isofield",
        id="subfield-empty",
    ),
    pytest.param(
        packager(
            HEAD
            + sub_packager(' emitBitmap="false"', isofield(1, 6, "IFA_NUMERIC")).replace(
                "GenericSubFieldPackager", "Base1SubFieldPackager"
            )
        ),
        "test.xml: line 6",
        "sub-packager org.jpos.iso.packager.Base1SubFieldPackager is not supported "
        "(GenericSubFieldPackager)",
        id="other-sub-packager",
    ),
    pytest.param(
        PROLOG + "<packager>\n</packager>\n",
        "test.xml: line 3",
        "the root element must be <isopackager>, not <packager>",
        id="root",
    ),
    pytest.param(
        packager(HEAD + "  <field id='2'/>\n"),
        "test.xml: line 6",
        "unexpected element <field> (isofield or isofieldpackager)",
        id="unknown-element",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM")).replace("/>\n</isopackager>", ">\n"),
        "test.xml: line 8, column 1",
        "malformed XML: no element found",
        id="truncated-xml",
    ),
    pytest.param(
        packager(HEAD + '  <isofield id="2" length="19" name="PAN" class="IFA_LLNUM"\n'),
        "test.xml: line 7, column 1",
        "malformed XML: not well-formed (invalid token)",
        id="malformed-xml",
    ),
    pytest.param(
        '<?xml version="1.0"?>\n<!DOCTYPE isopackager [\n  <!ENTITY lol "lol">\n]>\n'
        "<isopackager/>\n",
        "test.xml: line 2",
        "a DOCTYPE with an internal subset is refused (entity declarations)",
        id="internal-subset",
    ),
    pytest.param(
        packager(HEAD + isofield(2, 19, "IFA_LLNUM", "&xxe;")),
        "test.xml: line 6, column 3",
        "malformed XML: undefined entity",
        id="undeclared-entity",
    ),
]


@pytest.mark.parametrize(("text", "where", "reason"), ERRORS)
def test_error(text: str, where: str, reason: str) -> None:
    with pytest.raises(SpecError) as info:
        load(text)
    assert (info.value.where, info.value.reason) == (where, reason)
    assert str(info.value) == f"{where}: {reason}"


def test_billion_laughs_is_refused_before_expansion() -> None:
    lol = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(
            f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">\n' for i in range(9)
        )
        + ']>\n<isopackager name="&lol8;"/>\n'
    )
    with pytest.raises(SpecError, match="internal subset is refused"):
        load(lol)


def test_llh_binary_length_prefix_holds_up_to_255() -> None:
    """One binary length byte counts to 255, so IFB_LLHBINARY 255 (common in jPOS) loads."""
    spec = spec_from_jpos_xml(packager(HEAD + isofield(62, 255, "IFB_LLHBINARY")),
                              name="t", where="test.xml")
    raw = pack(Message("0800", {62: bytes(255)}), spec)
    assert raw.endswith(b"\xff" + bytes(255))
    assert unpack(raw, spec).fields[62] == bytes(255)
