"""Dialect files (TOML/JSON): golden loads, round trips, and the exact error of each mistake."""

from __future__ import annotations

import dataclasses
import json
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iso8583 import Message, get_spec, pack, spec_names, specfile, unpack
from iso8583.errors import SpecError
from iso8583.framing import FrameFormat, LengthHeader
from iso8583.spec import (
    BerTlv,
    BitmapEncoding,
    Encoding,
    FieldSpec,
    Kind,
    Mask,
    Pad,
    Positional,
    Spec,
)
from iso8583.specfile import load_spec, spec_from_dict, spec_to_dict, spec_to_toml
from iso8583.tlv import TlvEncoding, TlvFormat

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dialects"


def same(a: Spec, b: Spec) -> bool:
    """Spec equality including the framing, which Spec.__eq__ leaves out."""
    return a == b and a.framing == b.framing


# --------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("name", ["example.toml", "example.json"])
def test_example_dialect_loads(name: str) -> None:
    spec = load_spec(DOCS / name)
    base = get_spec("iso87ascii")
    assert spec.name == "acme-acquirer"
    assert spec.mti_encoding is Encoding.ASCII
    assert spec.bitmap_encoding is BitmapEncoding.HEX
    assert spec.framing == FrameFormat(
        length_header=LengthHeader.ASCII4, tpdu=True, max_length=4096
    )
    assert 126 not in spec.fields
    assert 127 not in spec.fields
    assert spec.fields[48] == base.fields[48].with_(composite=TlvFormat(TlvEncoding.ASCII, 2, 3))
    assert spec.fields[61] == base.fields[61].with_(mask=Mask.SECRET)
    assert spec.fields[62] == FieldSpec(
        name="Terminal data",
        kind=Kind.ANS,
        max_len=60,
        prefix=3,
        composite=Positional(
            (
                FieldSpec("Batch number", Kind.N, 6),
                FieldSpec("Invoice number", Kind.N, 6),
                FieldSpec("Terminal serial number", Kind.ANS, 20, prefix=2),
                FieldSpec("Application version", Kind.ANS, 8),
            )
        ),
    )
    untouched = set(base.fields) - {48, 61, 62, 126, 127}
    assert all(spec.fields[n] == base.fields[n] for n in untouched)


def test_module_docstring_example_loads() -> None:
    assert specfile.__doc__ is not None
    block = specfile.__doc__.split("::", 1)[1].split("Defaults of")[0]
    spec = spec_from_dict(tomllib.loads(textwrap.dedent(block)), where="docstring")
    assert spec.name == "acme"
    assert 127 not in spec.fields
    assert isinstance(spec.fields[62].composite, Positional)


def test_example_toml_and_json_are_the_same_dialect() -> None:
    assert same(load_spec(DOCS / "example.toml"), load_spec(DOCS / "example.json"))


def test_example_dialect_packs_golden_bytes() -> None:
    spec = load_spec(DOCS / "example.toml")
    message = Message(
        "0200",
        {
            3: "000000",
            48: {"01": "ABC", "02": "X"},
            62: {"1": "000001", "2": "000042", "3": "SN123"},
        },
    )
    raw = pack(message, spec)
    assert raw == b"".join(
        [
            b"0200",
            b"2000000000010004",  # fields 3, 48, 62
            b"000000",
            b"014" + b"01003ABC" + b"02001X",  # TLV: tag 01, length 003, value ...
            b"019" + b"000001" + b"000042" + b"05SN123",  # trailing subfield 4 absent
        ]
    )
    assert unpack(raw, spec) == message


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", spec_names())
def test_builtin_round_trips_through_dict_json_and_toml(name: str) -> None:
    spec = get_spec(name)
    data = spec_to_dict(spec)
    assert same(spec_from_dict(data, where="export"), spec)
    assert json.loads(json.dumps(data)) == data
    assert tomllib.loads(spec_to_toml(spec)) == data


def test_export_is_compact() -> None:
    field = spec_to_dict(get_spec("iso87ascii"))["fields"]["2"]
    assert field == {
        "name": "Primary account number (PAN)",
        "type": "n",
        "length": 19,
        "prefix": "LL",
    }  # the PAN mask is the default for field 2


def test_every_fieldspec_attribute_has_a_file_key() -> None:
    # A new FieldSpec attribute must be taught to spec_from_dict and spec_to_dict.
    assert {f.name for f in dataclasses.fields(FieldSpec)} == {
        "name",
        "kind",
        "max_len",
        "prefix",
        "encoding",
        "prefix_encoding",
        "pad",
        "pad_nibble",
        "length_unit",
        "codepage",
        "composite",
        "mask",
    }


def test_load_files_through_disk(tmp_path: Path) -> None:
    spec = get_spec("cup")
    (tmp_path / "cup.toml").write_text(spec_to_toml(spec), encoding="utf-8")
    (tmp_path / "cup.json").write_text(json.dumps(spec_to_dict(spec)), encoding="utf-8")
    assert same(load_spec(tmp_path / "cup.toml"), spec)
    assert same(load_spec(str(tmp_path / "cup.json")), spec)


# --------------------------------------------------------------------------- semantics


def test_field_without_type_changes_only_listed_keys() -> None:
    spec = spec_from_dict(
        {"name": "x", "extends": "iso87binary", "fields": {"2": {"pad": "right"}}}, where="x"
    )
    assert spec.fields[2] == get_spec("iso87binary").fields[2].with_(pad=Pad.RIGHT)


def test_field_with_type_is_defined_afresh() -> None:
    spec = spec_from_dict(
        {"name": "x", "extends": "iso87binary", "fields": {"2": {"type": "n", "length": 19}}},
        where="x",
    )
    # Inherits only the name; BCD encoding is gone, the PAN mask is the standard default.
    assert spec.fields[2] == FieldSpec("Primary account number (PAN)", Kind.N, 19, mask=Mask.PAN)


def test_defaults_of_new_fields() -> None:
    spec = spec_from_dict(
        {
            "name": "x",
            "codepage": "cp037",
            "fields": {
                "3": {"type": "n", "length": 6, "encoding": "bcd"},
                "52": {"type": "b", "length": 8},
                "55": {"type": "b", "length": 255, "prefix": 3, "composite": {"kind": "ber-tlv"}},
                "60": {"type": "ans", "length": 99, "prefix": "LL", "encoding": "ebcdic"},
            },
        },
        where="x",
    )
    f = spec.fields
    assert f[3] == FieldSpec(
        "Field 3", Kind.N, 6, encoding=Encoding.BCD, prefix_encoding=Encoding.BCD, codepage="cp037"
    )
    assert f[52] == FieldSpec(
        "Field 52",
        Kind.B,
        8,
        encoding=Encoding.BINARY,
        prefix_encoding=Encoding.BCD,
        codepage="cp037",
        mask=Mask.SECRET,
    )
    assert f[55].composite == BerTlv()
    assert f[55].mask is Mask.EMV
    assert f[60].prefix_encoding is Encoding.EBCDIC
    assert spec.codepage == "cp037"


def test_composite_false_removes_an_inherited_composite() -> None:
    spec = spec_from_dict(
        {"name": "x", "extends": "iso87ascii", "fields": {"55": {"composite": False}}}, where="x"
    )
    assert spec.fields[55] == get_spec("iso87ascii").fields[55].with_(composite=None)


def test_framing_merges_and_false_removes() -> None:
    spec = spec_from_dict(
        {"name": "x", "extends": "cup", "framing": {"max_length": 2048}}, where="x"
    )
    assert spec.framing == dataclasses.replace(get_spec("cup").framing, max_length=2048)
    spec = spec_from_dict({"name": "x", "extends": "cup", "framing": False}, where="x")
    assert spec.framing is None


def test_extends_a_file_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "parent.toml").write_text(
        'name = "parent"\nextends = "../example.json"\n[fields.3]\nmask = "secret"\n'
    )
    (tmp_path / "example.json").write_text((DOCS / "example.json").read_text())
    (tmp_path / "child.toml").write_text(
        'name = "child"\nextends = "base/parent.toml"\n[fields]\n4 = false\n'
    )
    spec = load_spec(tmp_path / "child.toml")
    acme = load_spec(DOCS / "example.json")
    assert spec.name == "child"
    assert spec.description == acme.description
    assert spec.framing == acme.framing
    assert spec.fields[3].mask is Mask.SECRET
    assert 4 not in spec.fields
    assert spec.fields[62] == acme.fields[62]


def test_circular_extends(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('name = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('name = "b"\nextends = "a.toml"\n')
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "a.toml")
    assert info.value.where == f"{tmp_path / 'b.toml'}: extends"
    assert info.value.reason == "circular extends: a.toml -> b.toml -> a.toml"


def test_tertiary_bitmap_dialect() -> None:
    spec = spec_from_dict(
        {
            "name": "x",
            "extends": "iso87ascii",
            "tertiary_bitmap": True,
            "fields": {"65": False, "150": {"type": "ans", "length": 10}},
        },
        where="x",
    )
    assert spec.tertiary_bitmap
    assert spec.fields[150] == FieldSpec("Field 150", Kind.ANS, 10)


# --------------------------------------------------------------------------- errors

BASE: dict[str, Any] = {"name": "t", "extends": "iso87ascii"}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


ERRORS = [
    pytest.param(
        with_(fields={"2": {"type": "nn", "length": 19}}),
        "t.toml: fields.2.type",
        "'nn' is not one of n, a, an, ans, b, z, x+n; did you mean 'n'?",
        id="bad-type",
    ),
    pytest.param(
        with_(fields={"2": {"type": "n"}}),
        "t.toml: fields.2.length",
        "`length` is required for a field that sets `type`",
        id="type-without-length",
    ),
    pytest.param(
        with_(fields={"2": {"lenght": 19}}),
        "t.toml: fields.2.lenght",
        "unknown key 'lenght'; did you mean 'length'?",
        id="unknown-field-key",
    ),
    pytest.param(
        with_(bitmpa="hex"),
        "t.toml: bitmpa",
        "unknown key 'bitmpa'; did you mean 'bitmap'?",
        id="unknown-top-key",
    ),
    pytest.param(
        with_(framing={"tpud": True}),
        "t.toml: framing.tpud",
        "unknown key 'tpud'; did you mean 'tpdu'?",
        id="unknown-framing-key",
    ),
    pytest.param(
        with_(fields={"2": {"prefix": "LLX"}}),
        "t.toml: fields.2.prefix",
        'prefix must be "fixed", "LL", "LLL", "LLLL" or a digit count 0..6, got \'LLX\'',
        id="bad-prefix",
    ),
    pytest.param(
        with_(fields={"2": {"prefix": 7}}),
        "t.toml: fields.2.prefix",
        'prefix must be "fixed", "LL", "LLL", "LLLL" or a digit count 0..6, got 7',
        id="prefix-too-long",
    ),
    pytest.param(
        with_(fields={"1": {"type": "b", "length": 8}}),
        "t.toml: fields.1",
        "field 1 is the bitmap: set `bitmap` at the top level instead",
        id="field-1",
    ),
    pytest.param(
        with_(fields={"0": {"type": "n", "length": 4}}),
        "t.toml: fields.0",
        "field 0 is the MTI: set `mti` at the top level instead",
        id="field-0",
    ),
    pytest.param(
        with_(fields={"129": {"type": "n", "length": 4}}),
        "t.toml: fields.129",
        "field number 129 is outside 2..128",
        id="field-out-of-range",
    ),
    pytest.param(
        with_(fields={"PAN": {"type": "n", "length": 4}}),
        "t.toml: fields.PAN",
        "field keys are field numbers, got 'PAN'",
        id="field-key-not-a-number",
    ),
    pytest.param(
        {"name": "t", "fields": {"3": {"type": "n"}}},
        "t.toml: fields.3.length",
        "`length` is required for a new field",
        id="new-field-without-length",
    ),
    pytest.param(
        {"name": "t", "fields": {"3": {"length": 6}}},
        "t.toml: fields.3.type",
        "`type` is required for a new field",
        id="new-field-without-type",
    ),
    pytest.param(
        with_(fields={"2": {"length": True}}),
        "t.toml: fields.2.length",
        "expected an integer, got a boolean",
        id="bool-is-not-int",
    ),
    pytest.param(
        with_(fields={"2": {"length": 19.0}}),
        "t.toml: fields.2.length",
        "expected an integer, got a number",
        id="float-is-not-int",
    ),
    pytest.param(
        with_(fields={"2": "n..19"}),
        "t.toml: fields.2",
        "expected a table (or false to remove the field), got a string",
        id="field-not-a-table",
    ),
    pytest.param(
        {"name": "t", "fields": {"3": False}},
        "t.toml: fields.3",
        "there is no inherited field 3 to remove",
        id="remove-missing-field",
    ),
    pytest.param(
        with_(fields={"2": {"encoding": "bcd", "prefix_encoding": "hex"}}),
        "t.toml: fields.2.prefix_encoding",
        "'hex' is not one of ascii, ebcdic, bcd, binary",
        id="hex-prefix",
    ),
    pytest.param(
        with_(mti="binary"),
        "t.toml: mti",
        "'binary' is not one of ascii, bcd, ebcdic",
        id="bad-mti",
    ),
    pytest.param(
        with_(codepage="cp9999"),
        "t.toml: codepage",
        "unknown code page 'cp9999'",
        id="bad-codepage",
    ),
    pytest.param(
        with_(extends="iso87asci"),
        "t.toml: extends",
        "unknown dialect 'iso87asci' (built-in: iso87ascii, iso87binary, iso93ascii, cup; "
        "or a .toml/.json file); did you mean 'iso87ascii'?",
        id="unknown-base",
    ),
    pytest.param(
        {"extends": "iso87ascii"},
        "t.toml: name",
        "a dialect needs a name",
        id="no-name",
    ),
    pytest.param(
        with_(fields={"48": {"composite": {"kind": "postional"}}}),
        "t.toml: fields.48.composite.kind",
        "'postional' is not one of positional, ber-tlv, tlv; did you mean 'positional'?",
        id="bad-composite-kind",
    ),
    pytest.param(
        with_(fields={"48": {"composite": {"kind": "tlv", "tag_size": 9}}}),
        "t.toml: fields.48.composite.tag_size",
        "9 is out of range (1..8)",
        id="bad-tlv-size",
    ),
    pytest.param(
        with_(fields={"48": {"composite": {"kind": "ber-tlv", "tag_size": 2}}}),
        "t.toml: fields.48.composite.tag_size",
        "unknown key 'tag_size'",
        id="key-of-another-composite-kind",
    ),
    pytest.param(
        with_(fields={"48": {"composite": {"kind": "positional", "subfields": []}}}),
        "t.toml: fields.48.composite.subfields",
        "a positional composite needs a non-empty array of subfields",
        id="no-subfields",
    ),
    pytest.param(
        with_(
            fields={
                "48": {
                    "composite": {
                        "kind": "positional",
                        "subfields": [
                            {"type": "n", "length": 2},
                            {"type": "n", "length": 2, "pad_nibble": "G"},
                        ],
                    }
                }
            }
        ),
        "t.toml: fields.48.composite.subfields[1].pad_nibble",
        "pad_nibble must be one hex digit, got 'G'",
        id="bad-subfield-key",
    ),
    # Errors found by Spec.validate come back with the file and key path too.
    pytest.param(
        with_(fields={"52": {"encoding": "ascii"}}),
        "t.toml: fields.52",
        "binary data must use binary or hex encoding",
        id="validate-field",
    ),
    pytest.param(
        with_(
            fields={
                "48": {
                    "composite": {
                        "kind": "positional",
                        "subfields": [
                            {"type": "n", "length": 2},
                            {"type": "ans", "length": 100, "prefix": "LL"},
                        ],
                    }
                }
            }
        ),
        "t.toml: fields.48.composite.subfields[1]",
        "max_len 100 does not fit 2 length digits",
        id="validate-subfield",
    ),
    pytest.param(
        with_(fields={"48": {"composite": {"kind": "ber-tlv"}}}),
        "t.toml: fields.48",
        "BER-TLV needs a binary (b) field",
        id="validate-composite",
    ),
    pytest.param(
        with_(tertiary_bitmap=True),
        "t.toml: fields.65",
        "field 65 is the tertiary bitmap in this dialect; remove it (65 = false)",
        id="tertiary-with-field-65",
    ),
    pytest.param(
        with_(framing={"max_length": 10000, "length_header": "ascii4"}),
        "t.toml: framing",
        "max_length 10000 exceeds what a ascii4 length header can express (9999)",
        id="bad-framing",
    ),
    pytest.param(
        with_(framing={"length_header": "binary"}),
        "t.toml: framing.length_header",
        "'binary' is not one of none, binary2, ascii4, bcd2; did you mean 'binary2'?",
        id="bad-length-header",
    ),
]


@pytest.mark.parametrize(("data", "where", "reason"), ERRORS)
def test_error(data: dict[str, Any], where: str, reason: str) -> None:
    with pytest.raises(SpecError) as info:
        spec_from_dict(data, where="t.toml")
    assert (info.value.where, info.value.reason) == (where, reason)
    assert str(info.value) == f"{where}: {reason}"


FILE_ERRORS = [
    pytest.param(
        "bad.toml",
        'name = "t"\nextends = "iso87ascii"\n[fields.2\ntype = "n"\n',
        "bad.toml: line 3, column 10",
        "malformed TOML: Expected ']' at the end of a table declaration",
        id="toml-syntax",
    ),
    pytest.param(
        "bad.toml",
        'name = "t"\nname = "u"\n',
        "bad.toml: line 2, column 11",
        "malformed TOML: Cannot overwrite a value",
        id="toml-duplicate-key",
    ),
    pytest.param(
        "bad.json",
        '{\n  "name": "t",\n  "fields": {\n    "2": {"type": "n",}\n  }\n}\n',
        "bad.json: line 4, column 23",
        "malformed JSON: Expecting property name enclosed in double quotes",
        id="json-syntax",
    ),
    pytest.param(
        "bad.json",
        '{"name": "t", "name": "u"}',
        "bad.json",
        "duplicate key 'name' in a JSON object",
        id="json-duplicate-key",
    ),
    pytest.param(
        "bad.json",
        '{"name": "t", "fields": {"2": {"type": "n", "length": NaN}}}',
        "bad.json",
        "NaN is not valid JSON",
        id="json-nan",
    ),
    pytest.param(
        "bad.json",
        "[1, 2]",
        "bad.json",
        "expected a table at the top level, got an array",
        id="json-not-an-object",
    ),
    pytest.param(
        "bad.json",
        "[" * 100_000,
        "bad.json",
        "malformed JSON: nested too deeply",
        id="json-deep",
    ),
    pytest.param(
        "bad.toml",
        "a = " + "[" * 100_000,
        "bad.toml",
        "malformed TOML: nested too deeply",
        id="toml-deep",
    ),
    pytest.param(
        "bad.yaml",
        "name: t\n",
        "bad.yaml",
        "a dialect file must end in .toml or .json, not '.yaml'",
        id="suffix",
    ),
]


@pytest.mark.parametrize(("filename", "text", "where", "reason"), FILE_ERRORS)
def test_file_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    filename: str,
    text: str,
    where: str,
    reason: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(filename).write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(filename)
    assert (info.value.where, info.value.reason) == (where, reason)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "absent.toml")
    assert info.value.where == str(tmp_path / "absent.toml")
    assert info.value.reason == "cannot read the file: No such file or directory"


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_bytes(b'name = "\xff"\n')
    with pytest.raises(SpecError, match=r"not UTF-8 \(byte 8\)"):
        load_spec(tmp_path / "x.toml")


def test_errors_in_an_extended_file_name_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('name = "b"\n[fields.2]\ntype = "q"\nlength = 1\n')
    (tmp_path / "top.toml").write_text('name = "t"\nextends = "base.toml"\n')
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "top.toml")
    assert info.value.where == f"{tmp_path / 'base.toml'}: fields.2.type"


# --------------------------------------------------------------------------- property

KIND_ENCODINGS = {
    "n": ["ascii", "ebcdic", "bcd"],
    "z": ["ascii", "ebcdic", "bcd"],
    "x+n": ["ascii", "ebcdic", "bcd"],
    "a": ["ascii", "ebcdic"],
    "an": ["ascii", "ebcdic"],
    "ans": ["ascii", "ebcdic"],
    "b": ["binary", "hex"],
}
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def field_dicts(draw: st.DrawFn, *, subfield: bool = False) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(KIND_ENCODINGS)))
    # Positional subfields are read from the decoded value: ASCII text or raw bytes only.
    encodings = (
        (["binary", "hex"] if kind == "b" else ["ascii"]) if subfield else KIND_ENCODINGS[kind]
    )
    encoding = draw(st.sampled_from(encodings))
    prefix = draw(st.integers(0, 4))
    length = draw(st.integers(1, min(999, 10**prefix - 1) if prefix else 40))
    out: dict[str, Any] = {"name": draw(names), "type": kind, "length": length}
    if prefix or draw(st.booleans()):
        out["prefix"] = draw(st.sampled_from([prefix, "L" * prefix if prefix else "fixed"]))
    default = "binary" if kind == "b" else "ascii"
    if encoding != default or draw(st.booleans()):
        out["encoding"] = encoding
    optional = {
        "prefix_encoding": st.sampled_from(["ascii", "ebcdic", "bcd", "binary"]),
        "pad": st.sampled_from(["left", "right"]),
        "pad_nibble": st.sampled_from("0123456789ABCDEFf"),
        "length_unit": st.sampled_from(["value", "wire"] if encoding == "hex" else ["value"]),
        "codepage": st.sampled_from(["cp500", "cp037"]),
        "mask": st.sampled_from([m.value for m in Mask]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    if not subfield and draw(st.integers(0, 3)) == 0:
        if kind == "b":
            out["composite"] = {"kind": "ber-tlv"}
        elif draw(st.booleans()):
            out["composite"] = {
                "kind": "tlv",
                "tag_size": draw(st.integers(1, 8)),
                "length_size": draw(st.integers(1, 8)),
                "encoding": draw(st.sampled_from(["ascii", "binary"])),
            }
        else:
            subs = draw(st.lists(field_dicts(subfield=True), min_size=1, max_size=3))
            out["composite"] = {"kind": "positional", "subfields": subs}
    return out


@st.composite
def spec_dicts(draw: st.DrawFn) -> dict[str, Any]:
    tertiary = draw(st.booleans())
    numbers = st.integers(2, 192 if tertiary else 128).filter(lambda n: not tertiary or n != 65)
    fields = draw(st.dictionaries(numbers.map(str), field_dicts(), max_size=4))
    out: dict[str, Any] = {
        "name": draw(names),
        "mti": draw(st.sampled_from(["ascii", "bcd", "ebcdic"])),
        "bitmap": draw(st.sampled_from(["hex", "binary", "ebcdic-hex"])),
        "tertiary_bitmap": tertiary,
        "codepage": draw(st.sampled_from(["cp500", "cp037", "cp1140"])),
        "fields": fields,
    }
    if draw(st.booleans()):
        out["description"] = draw(names)
    if draw(st.booleans()):
        out["framing"] = {
            "length_header": draw(st.sampled_from(["binary2", "ascii4", "bcd2"])),
            "tpdu": draw(st.booleans()),
            "header_length": draw(st.integers(0, 10)),
            "max_length": draw(st.integers(100, 9000)),
        }
    return out


@settings(max_examples=150, deadline=None)
@given(spec_dicts())
def test_random_spec_dicts_round_trip(data: dict[str, Any]) -> None:
    spec = spec_from_dict(data, where="generated")
    exported = spec_to_dict(spec)
    again = spec_from_dict(exported, where="exported")
    assert same(again, spec)
    assert spec_to_dict(again) == exported
    assert tomllib.loads(spec_to_toml(spec)) == exported
    assert json.loads(json.dumps(exported)) == exported
