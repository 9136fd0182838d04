"""Dialects defined in a TOML or JSON file, so a new acquirer link needs no Python code.

A file either describes a whole dialect or ``extends`` a built-in dialect (or another file,
relative to this one) and overrides what differs. Every key is checked: a typo is an error
with a "did you mean" hint, never silently ignored, and every error is a :class:`SpecError`
whose ``where`` names the file and the dotted key (``acme.toml: fields.35.type``) or, for
malformed TOML/JSON, the line and column. :func:`spec_to_dict` and :func:`spec_to_toml` export
any spec (e.g. a built-in) as a starting point; loading the export gives an equal spec.

A complete example (TOML; JSON files hold the same structure)::

    name = "acme"                         # required
    description = "ACME acquirer link"    # default: inherited, or ""
    extends = "iso87ascii"                # built-in name, or "base.toml" / "base.json"
    mti = "ascii"                         # ascii | bcd | ebcdic
    bitmap = "hex"                        # hex | binary | ebcdic-hex
    tertiary_bitmap = false               # true: field 65 is the bitmap of fields 129-192
    codepage = "cp500"                    # EBCDIC code page; also the fields' default

    [framing]                             # merged over the inherited framing; false: none
    length_header = "ascii4"              # binary2 | ascii4 | bcd2 | none
    includes_itself = false
    tpdu = true
    header_length = 0
    max_length = 4096

    [fields]
    127 = false                           # false removes an inherited field

    [fields.48]                           # no `type`: change only the listed keys
    composite = { kind = "tlv", tag_size = 2, length_size = 3, encoding = "ascii" }

    [fields.62]                           # with `type`: a new definition, defaults below
    name = "Terminal data"
    type = "ans"                          # n | a | an | ans | b | z | x+n
    length = 60                           # exact length if fixed, else the maximum
    prefix = "LLL"                        # "fixed" (0) | "LL" (2) | "LLL" (3) | "LLLL" (4)
    encoding = "ascii"                    # ascii | ebcdic | bcd | binary | hex
    prefix_encoding = "ascii"             # ascii | ebcdic | bcd | binary
    pad = "left"                          # left | right: nibble place of odd-length BCD
    pad_nibble = "0"
    length_unit = "value"                 # value | wire (hex binary: count hex characters)
    codepage = "cp500"
    mask = "none"                         # none | pan | track | secret | emv

    [fields.62.composite]                 # or {kind = "ber-tlv"}, or false to remove one
    kind = "positional"

    [[fields.62.composite.subfields]]     # subfields "1", "2", ... take the field keys
    name = "Batch number"
    type = "n"
    length = 6

Defaults of a field defined with ``type``: ``prefix`` fixed; ``encoding`` binary for ``b``,
else ascii; ``prefix_encoding`` follows ``encoding`` (ascii and hex: ascii, ebcdic: ebcdic,
bcd and binary: bcd); ``pad`` left; ``pad_nibble`` "0"; ``length_unit`` value; ``codepage``
the dialect's; ``mask`` the standard one for the field number (PAN, tracks, PIN, chip data),
none for subfields; ``name`` the inherited name or "Field N". A field table without ``type``
changes only the keys it lists on the inherited field. Paths in errors count array items
from 0: ``fields.62.composite.subfields[0].type``.
"""

from __future__ import annotations

import codecs
import difflib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from iso8583.dialects import get_spec, spec_names
from iso8583.dialects._table import DEFAULT_MASKS
from iso8583.errors import SpecError
from iso8583.framing import FrameFormat, LengthHeader
from iso8583.spec import (
    BerTlv,
    BitmapEncoding,
    Composite,
    Encoding,
    FieldSpec,
    Kind,
    LengthUnit,
    Mask,
    Pad,
    Positional,
    Spec,
)
from iso8583.tlv import TlvEncoding, TlvFormat

__all__ = [
    "default_encoding",
    "default_prefix_encoding",
    "load_spec",
    "spec_from_dict",
    "spec_to_dict",
    "spec_to_toml",
]

E = TypeVar("E", bound=Enum)

_TOP_KEYS = (
    "name",
    "description",
    "extends",
    "mti",
    "bitmap",
    "tertiary_bitmap",
    "codepage",
    "framing",
    "fields",
)
_FRAMING_KEYS = ("length_header", "includes_itself", "tpdu", "header_length", "max_length")
_FIELD_KEYS = (
    "name",
    "type",
    "length",
    "prefix",
    "encoding",
    "prefix_encoding",
    "pad",
    "pad_nibble",
    "length_unit",
    "codepage",
    "mask",
    "composite",
)
_COMPOSITE_KEYS = {
    "positional": ("kind", "subfields"),
    "ber-tlv": ("kind",),
    "tlv": ("kind", "tag_size", "length_size", "encoding"),
}
_MTI_ENCODINGS = (Encoding.ASCII, Encoding.BCD, Encoding.EBCDIC)
_PREFIX_ENCODINGS = (Encoding.ASCII, Encoding.EBCDIC, Encoding.BCD, Encoding.BINARY)
_MAX_PREFIX = 6  # length digits the field codec supports
_FILE_SUFFIXES = (".toml", ".json")
_DEFAULT_CODEPAGE = "cp500"


# --------------------------------------------------------------------------- defaults


def default_encoding(kind: Kind) -> Encoding:
    """Data encoding of a freshly defined field: raw bytes for ``b``, ASCII text otherwise."""
    return Encoding.BINARY if kind is Kind.B else Encoding.ASCII


def default_prefix_encoding(encoding: Encoding) -> Encoding:
    """Length prefixes are usually written like the data (BCD next to BCD or raw bytes)."""
    return {
        Encoding.ASCII: Encoding.ASCII,
        Encoding.HEX: Encoding.ASCII,
        Encoding.EBCDIC: Encoding.EBCDIC,
        Encoding.BCD: Encoding.BCD,
        Encoding.BINARY: Encoding.BCD,
    }[encoding]


def _default_mask(number: int | None) -> Mask:
    return DEFAULT_MASKS.get(number, Mask.NONE) if number is not None else Mask.NONE


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True, slots=True)
class _At:
    """Where a value sits: the file label plus its dotted key path, for error messages."""

    file: str
    path: tuple[str, ...] = ()

    def __truediv__(self, key: object) -> _At:
        return _At(self.file, (*self.path, str(key)))

    def item(self, index: int) -> _At:
        *head, last = self.path
        return _At(self.file, (*head, f"{last}[{index}]"))

    def __str__(self) -> str:
        return f"{self.file}: {'.'.join(self.path)}" if self.path else self.file

    def error(self, reason: str) -> SpecError:
        return SpecError(reason, where=str(self))


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- scalar readers


def _table(value: object, at: _At, what: str = "a table") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise at.error(f"expected {what}, got {_type_name(value)}")
    return value


def _check_keys(table: Mapping[str, Any], allowed: Iterable[str], at: _At) -> None:
    allowed = tuple(allowed)
    for key in table:
        if key not in allowed:
            raise (at / key).error(f"unknown key {key!r}{_suggest(str(key), allowed)}")


def _str(value: object, at: _At) -> str:
    if not isinstance(value, str):
        raise at.error(f"expected a string, got {_type_name(value)}")
    return value


def _bool(value: object, at: _At) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"expected true or false, got {_type_name(value)}")
    return value


def _int(value: object, at: _At, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise at.error(f"expected an integer, got {_type_name(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise at.error(f"{value} is out of range ({bounds})")
    return value


def _choice(value: object, enum: type[E], at: _At, allowed: Iterable[E] | None = None) -> E:
    options = [member.value for member in (allowed if allowed is not None else enum)]
    text = _str(value, at)
    if text not in options:
        raise at.error(f"{text!r} is not one of {', '.join(options)}{_suggest(text, options)}")
    return enum(text)


def _codepage(value: object, at: _At) -> str:
    name = _str(value, at)
    try:
        codecs.lookup(name)
    except LookupError:
        raise at.error(f"unknown code page {name!r}") from None
    return name


def _prefix(value: object, at: _At) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_PREFIX:
        return value
    if isinstance(value, str):
        if value == "fixed":
            return 0
        if re.fullmatch(f"L{{1,{_MAX_PREFIX}}}", value):
            return len(value)
    raise at.error(
        f'prefix must be "fixed", "LL", "LLL", "LLLL" or a digit count '
        f"0..{_MAX_PREFIX}, got {value!r}"
    )


def _pad_nibble(value: object, at: _At) -> str:
    text = _str(value, at)
    if len(text) != 1 or text not in "0123456789ABCDEFabcdef":
        raise at.error(f"pad_nibble must be one hex digit, got {text!r}")
    return text


# --------------------------------------------------------------------------- dict -> Spec


def spec_from_dict(
    data: Mapping[str, Any], *, where: str, base_dir: str | Path | None = None
) -> Spec:
    """Build and validate a spec from parsed TOML/JSON data.

    ``where`` names the source in errors; a file ``extends`` is resolved against ``base_dir``
    (default: the current directory).
    """
    return _build(data, _At(where), Path(base_dir) if base_dir is not None else Path(), ())


def _build(data: object, at: _At, base_dir: Path, chain: tuple[Path, ...]) -> Spec:
    table = _table(data, at, "a table at the top level")
    _check_keys(table, _TOP_KEYS, at)
    base = _base(table["extends"], at / "extends", base_dir, chain) if "extends" in table else None
    if "name" not in table:
        raise (at / "name").error("a dialect needs a name")
    name = _str(table["name"], at / "name")
    description = _str(
        table.get("description", base.description if base else ""), at / "description"
    )
    mti = _choice(
        table.get("mti", base.mti_encoding.value if base else "ascii"),
        Encoding,
        at / "mti",
        _MTI_ENCODINGS,
    )
    bitmap = _choice(
        table.get("bitmap", base.bitmap_encoding.value if base else "hex"),
        BitmapEncoding,
        at / "bitmap",
    )
    tertiary = _bool(
        table.get("tertiary_bitmap", base.tertiary_bitmap if base else False),
        at / "tertiary_bitmap",
    )
    codepage = _codepage(
        table.get("codepage", base.codepage if base else _DEFAULT_CODEPAGE), at / "codepage"
    )
    framing = base.framing if base else None
    if "framing" in table:
        framing = _framing(table["framing"], at / "framing", framing)
    fields = dict(base.fields) if base else {}
    fat = at / "fields"
    for key, value in _table(table.get("fields", {}), fat).items():
        number = _field_number(key, fat / key, 192 if tertiary else 128)
        if value is False:
            if number not in fields:
                raise (fat / key).error(f"there is no inherited field {number} to remove")
            del fields[number]
        else:
            fields[number] = _field(
                value, fat / key, number, fields.get(number), codepage, f"Field {number}"
            )
    if tertiary and 65 in fields:
        raise (fat / "65").error(
            "field 65 is the tertiary bitmap in this dialect; remove it (65 = false)"
        )
    spec = Spec(
        name=name,
        description=description,
        fields=dict(sorted(fields.items())),
        mti_encoding=mti,
        bitmap_encoding=bitmap,
        tertiary_bitmap=tertiary,
        codepage=codepage,
        framing=framing,
    )
    try:
        return spec.validate()
    except SpecError as exc:
        raise _relocate(exc, at) from None


def _relocate(exc: SpecError, at: _At) -> SpecError:
    """Turn validate's ``field 62.3`` locations into this file's dotted key path."""
    match = re.fullmatch(r"field (\d+)((?:\.\d+)*)", exc.where or "")
    if not match:
        return SpecError(exc.reason, where=f"{at} ({exc.where})" if exc.where else str(at))
    loc = at / "fields" / match.group(1)
    for part in filter(None, match.group(2).split(".")):
        loc = (loc / "composite" / "subfields").item(int(part) - 1)
    return loc.error(exc.reason)


def _base(value: object, at: _At, base_dir: Path, chain: tuple[Path, ...]) -> Spec:
    name = _str(value, at)
    if name in spec_names():
        return get_spec(name)
    if name.lower().endswith(_FILE_SUFFIXES):
        path = (base_dir / name).resolve()
        if path in chain:
            cycle = " -> ".join(p.name for p in (*chain, path))
            raise at.error(f"circular extends: {cycle}")
        return _load(base_dir / name, (*chain, path))
    raise at.error(
        f"unknown dialect {name!r} (built-in: {', '.join(spec_names())}; "
        f"or a .toml/.json file){_suggest(name, spec_names())}"
    )


def _field_number(key: object, at: _At, top: int) -> int:
    text = str(key)
    if not text.isascii() or not text.isdigit():
        raise at.error(f"field keys are field numbers, got {text!r}")
    number = int(text)
    if number == 0:
        raise at.error("field 0 is the MTI: set `mti` at the top level instead")
    if number == 1:
        raise at.error("field 1 is the bitmap: set `bitmap` at the top level instead")
    if number > top:
        raise at.error(f"field number {number} is outside 2..{top}")
    return number


def _framing(value: object, at: _At, inherited: FrameFormat | None) -> FrameFormat | None:
    if value is False:
        return None
    table = _table(value, at, "a table (or false for no framing)")
    _check_keys(table, _FRAMING_KEYS, at)
    changes: dict[str, Any] = {}
    if "length_header" in table:
        changes["length_header"] = _choice(
            table["length_header"], LengthHeader, at / "length_header"
        )
    for key in ("includes_itself", "tpdu"):
        if key in table:
            changes[key] = _bool(table[key], at / key)
    for key in ("header_length", "max_length"):
        if key in table:
            changes[key] = _int(table[key], at / key, 0)
    try:
        return replace(inherited or FrameFormat(), **changes)
    except SpecError as exc:
        raise at.error(exc.reason) from None


def _field(
    value: object,
    at: _At,
    number: int | None,
    inherited: FieldSpec | None,
    codepage: str,
    default_name: str,
) -> FieldSpec:
    table = _table(value, at, "a table (or false to remove the field)")
    _check_keys(table, _FIELD_KEYS, at)
    if "type" in table or inherited is None:
        if "type" not in table:
            raise (at / "type").error("`type` is required for a new field")
        kind = _choice(table["type"], Kind, at / "type")
        if "length" not in table:
            what = "a new field" if inherited is None else "a field that sets `type`"
            raise (at / "length").error(f"`length` is required for {what}")
        encoding = (
            _choice(table["encoding"], Encoding, at / "encoding")
            if "encoding" in table
            else default_encoding(kind)
        )
        start = FieldSpec(
            name=inherited.name if inherited else default_name,
            kind=kind,
            max_len=0,
            encoding=encoding,
            prefix_encoding=default_prefix_encoding(encoding),
            codepage=codepage,
            mask=_default_mask(number),
        )
    else:
        start = inherited
    changes: dict[str, Any] = {}
    readers: dict[str, Any] = {
        "name": lambda v, a: ("name", _str(v, a)),
        "type": lambda v, a: ("kind", _choice(v, Kind, a)),
        "length": lambda v, a: ("max_len", _int(v, a, 0)),
        "prefix": lambda v, a: ("prefix", _prefix(v, a)),
        "encoding": lambda v, a: ("encoding", _choice(v, Encoding, a)),
        "prefix_encoding": lambda v, a: (
            "prefix_encoding",
            _choice(v, Encoding, a, _PREFIX_ENCODINGS),
        ),
        "pad": lambda v, a: ("pad", _choice(v, Pad, a)),
        "pad_nibble": lambda v, a: ("pad_nibble", _pad_nibble(v, a)),
        "length_unit": lambda v, a: ("length_unit", _choice(v, LengthUnit, a)),
        "codepage": lambda v, a: ("codepage", _codepage(v, a)),
        "mask": lambda v, a: ("mask", _choice(v, Mask, a)),
        "composite": lambda v, a: ("composite", _composite(v, a, codepage)),
    }
    for key, raw in table.items():
        attr, parsed = readers[key](raw, at / key)
        changes[attr] = parsed
    return replace(start, **changes)


def _composite(value: object, at: _At, codepage: str) -> Composite | None:
    if value is False:
        return None
    table = _table(value, at, "a table (or false for none)")
    if "kind" not in table:
        raise (at / "kind").error(f"a composite needs a kind: {', '.join(_COMPOSITE_KEYS)}")
    kind = _str(table["kind"], at / "kind")
    if kind not in _COMPOSITE_KEYS:
        raise (at / "kind").error(
            f"{kind!r} is not one of {', '.join(_COMPOSITE_KEYS)}{_suggest(kind, _COMPOSITE_KEYS)}"
        )
    _check_keys(table, _COMPOSITE_KEYS[kind], at)
    if kind == "ber-tlv":
        return BerTlv()
    if kind == "tlv":
        defaults = TlvFormat()
        return TlvFormat(
            encoding=_choice(
                table.get("encoding", defaults.encoding.value), TlvEncoding, at / "encoding"
            ),
            tag_size=_int(table.get("tag_size", defaults.tag_size), at / "tag_size", 1, 8),
            length_size=_int(
                table.get("length_size", defaults.length_size), at / "length_size", 1, 8
            ),
        )
    sat = at / "subfields"
    subfields = table.get("subfields")
    if not isinstance(subfields, list) or not subfields:
        raise sat.error("a positional composite needs a non-empty array of subfields")
    return Positional(
        tuple(
            _field(sub, sat.item(i), None, None, codepage, f"Subfield {i + 1}")
            for i, sub in enumerate(subfields)
        )
    )


# --------------------------------------------------------------------------- files


def load_spec(path: str | Path) -> Spec:
    """Load a dialect from a ``.toml`` or ``.json`` file (see the module docs for the schema)."""
    path = Path(path)
    return _load(path, (path.resolve(),))


def _load(path: Path, chain: tuple[Path, ...]) -> Spec:
    label = str(path)
    suffix = path.suffix.lower()
    if suffix not in _FILE_SUFFIXES:
        raise SpecError(
            f"a dialect file must end in .toml or .json, not {suffix or 'nothing'!r}", where=label
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", where=label) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 (byte {exc.start})", where=label) from None
    data = _parse_toml(text, label) if suffix == ".toml" else _parse_json(text, label)
    return _build(data, _At(label), path.parent, chain)


_TOML_POSITION = re.compile(r"(.*) \(at line (\d+), column (\d+)\)", re.DOTALL)


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.fullmatch(message)
        if match:
            raise SpecError(
                f"malformed TOML: {match.group(1)}",
                where=f"{label}: line {match.group(2)}, column {match.group(3)}",
            ) from None
        raise SpecError(f"malformed TOML: {message}", where=label) from None
    except RecursionError:
        raise SpecError("malformed TOML: nested too deeply", where=label) from None


def _parse_json(text: str, label: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise SpecError(f"duplicate key {key!r} in a JSON object", where=label)
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise SpecError(f"{name} is not valid JSON", where=label)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"malformed JSON: {exc.msg}", where=f"{label}: line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise SpecError("malformed JSON: nested too deeply", where=label) from None


# --------------------------------------------------------------------------- Spec -> dict


def spec_to_dict(spec: Spec) -> dict[str, Any]:
    """A complete, self-contained description (no ``extends``) that loads back equal.

    Only values that differ from the loader's defaults are written, so the result stays
    readable; field keys are strings, as TOML and JSON need.
    """
    out: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "mti": spec.mti_encoding.value,
        "bitmap": spec.bitmap_encoding.value,
    }
    if spec.tertiary_bitmap:
        out["tertiary_bitmap"] = True
    if spec.codepage != _DEFAULT_CODEPAGE:
        out["codepage"] = spec.codepage
    if spec.framing is not None:
        fr = spec.framing
        out["framing"] = {
            "length_header": fr.length_header.value,
            "includes_itself": fr.includes_itself,
            "tpdu": fr.tpdu,
            "header_length": fr.header_length,
            "max_length": fr.max_length,
        }
    out["fields"] = {
        str(number): _field_to_dict(spec.fields[number], number, spec.codepage)
        for number in sorted(spec.fields)
    }
    return out


def _field_to_dict(fs: FieldSpec, number: int | None, codepage: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": fs.name, "type": fs.kind.value, "length": fs.max_len}
    if fs.prefix:
        out["prefix"] = "L" * fs.prefix
    optional: list[tuple[str, object, object]] = [
        ("encoding", fs.encoding, default_encoding(fs.kind)),
        ("prefix_encoding", fs.prefix_encoding, default_prefix_encoding(fs.encoding)),
        ("pad", fs.pad, Pad.LEFT),
        ("pad_nibble", fs.pad_nibble, "0"),
        ("length_unit", fs.length_unit, LengthUnit.VALUE),
        ("codepage", fs.codepage, codepage),
        ("mask", fs.mask, _default_mask(number)),
    ]
    for key, value, default in optional:
        if value != default:
            out[key] = value.value if isinstance(value, Enum) else value
    if fs.composite is not None:
        out["composite"] = _composite_to_dict(fs.composite, codepage)
    return out


def _composite_to_dict(comp: Composite, codepage: str) -> dict[str, Any]:
    if isinstance(comp, BerTlv):
        return {"kind": "ber-tlv"}
    if isinstance(comp, Positional):
        return {
            "kind": "positional",
            "subfields": [_field_to_dict(sub, None, codepage) for sub in comp.subfields],
        }
    return {
        "kind": "tlv",
        "tag_size": comp.tag_size,
        "length_size": comp.length_size,
        "encoding": comp.encoding.value,
    }


# --------------------------------------------------------------------------- dict -> TOML

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def spec_to_toml(spec: Spec) -> str:
    """:func:`spec_to_dict` written as TOML (``tomllib`` reads; the stdlib cannot write)."""
    lines: list[str] = []
    _emit_table(spec_to_dict(spec), (), lines, header=None)
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes; TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")  # pragma: no cover


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit_table(
    table: Mapping[str, Any], path: tuple[str, ...], lines: list[str], header: str | None
) -> None:
    """Write scalars under ``header``, then sub-tables and arrays of tables, depth first."""
    scalars = [
        (k, v) for k, v in table.items() if not isinstance(v, dict) and not _is_table_array(v)
    ]
    if header is not None and (scalars or not table):
        lines.extend(["", header])
    lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars)
    for key, value in table.items():
        sub = (*path, _toml_key(key))
        if isinstance(value, dict):
            _emit_table(value, sub, lines, f"[{'.'.join(sub)}]")
        elif _is_table_array(value):
            for item in value:
                lines.extend(["", f"[[{'.'.join(sub)}]]"])
                _emit_table(item, sub, lines, header=None)
