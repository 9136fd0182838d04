"""Import a jPOS GenericPackager XML file as a :class:`Spec`.

Many acquirers hand out their message format as a jPOS packager file; importing it saves
re-typing 128 field definitions. Each ``isofield`` names a jPOS field packager class, which
fixes how the field travels; this module maps the classes onto :class:`FieldSpec` rows:

====================================  =====  ========  =========  ======  =====================
jPOS class (``org.jpos.iso.``)        kind   data      prefix     digits  notes
====================================  =====  ========  =========  ======  =====================
IF_CHAR                               ans    ascii     -          fixed   jPOS space-pads short
IF_ECHAR, IFE_CHAR                    ans    ebcdic    -          fixed   values; we need exact
IFA_NUMERIC / IFE_NUMERIC             n      ascii/eb  -          fixed
IFB_NUMERIC                           n      bcd       -          fixed   pad
IFA_AMOUNT / IFE_AMOUNT               x+n    ascii/eb  -          fixed   length - 1 digits
IFB_AMOUNT                            x+n    bcd       -          fixed   pad; ASCII sign byte
IFA_BINARY                            b      hex       -          fixed   length in bytes
IFB_BINARY                            b      binary    -          fixed
IFA_LLNUM, IFA_LLLNUM                 n      ascii     ascii      2, 3
IFA_LLCHAR .. IFA_LLLLLLCHAR          ans    ascii     ascii      2..6
IFA_LLBINARY .. IFA_LLLLLLBINARY      b      binary    ascii      2..6    raw bytes
IFA_LLABINARY, IFA_LLLABINARY         b      hex       ascii      2, 3    counts bytes
IFB_LLNUM, IFB_LLLNUM                 n      bcd       bcd        2, 3    pad
IFB_LLHNUM, IFB_LLLHNUM               n      bcd       binary     2, 3    pad
IFB_LLCHAR .. IFB_LLLLCHAR, ..LLLLLL  ans    ascii     bcd        2..4, 6
IFB_LLHCHAR, IFB_LLLHCHAR             ans    ascii     binary     2, 3
IFB_LLHECHAR, IFB_LLLHECHAR           ans    ebcdic    binary     2, 3
IFB_LLBINARY .. IFB_LLLLBINARY        b      binary    bcd        2..4
IFB_LLHBINARY, IFB_LLLHBINARY         b      binary    binary     2, 3    1 or 2 length bytes
IFE_LLNUM, IFE_LLLNUM                 n      ebcdic    ebcdic     2, 3
IFE_LLCHAR, IFE_LLLCHAR               ans    ebcdic    ebcdic     2, 3
IFE_LLLBINARY                         b      binary    ebcdic     3
IF_NOP                                -      -         -          -       field left out
====================================  =====  ========  =========  ======  =====================

Field 0 sets the MTI encoding (IFA_NUMERIC/IF_CHAR: ascii, IFB_NUMERIC: bcd, IFE_NUMERIC/
IFE_CHAR/IF_ECHAR: ebcdic); field 1 the bitmap (IFA_BITMAP: hex, IFB_BITMAP: binary,
IFE_BITMAP: ebcdic-hex); a bitmap class on field 65 (or ``thirdBitmapField="65"``) makes it a
tertiary bitmap. ``headerLength`` becomes the framing's fixed header length.

*pad*: for packed BCD classes jPOS's ``pad="true"`` selects a left-padded number (``0123``),
the default ``false`` a right-padded one (``1230``); it only matters for odd digit counts.
ASCII and EBCDIC classes ignore it. Numeric classes on fields 35 and 36 become kind ``z``
(track data with ``=``, packed as nibble D), which jPOS's numeric classes carry unchecked.

An ``isofieldpackager`` with ``emitBitmap="false"`` (a GenericSubFieldPackager) becomes a
:class:`Positional` composite: subfield ids must run without gaps from ``firstField`` (default
1) and are renumbered "1", "2", ...; as our composites read subfields out of the field's value,
each must be ASCII text (IFA_*, IF_CHAR) or raw bytes with a binary length (IFB_BINARY,
IFB_LL(L)HBINARY). A sub-packager that emits a bitmap cannot be represented.

Refused, with the line: unknown classes; classes whose wire format our codec cannot express
(IFEB_LLNUM/IFEB_LLLNUM count BCD bytes in the prefix, IFA_LLBNUM rounds it, IFE_BINARY is
EBCDIC hex, IFEP_LLCHAR embeds a tag, IFB_LLHFBINARY pads to a fixed size); attributes whose
effect cannot be honoured (``params``, ``token``, ``encoding``, ``tagMapper``); DOCTYPEs with
an internal subset and entity declarations (the usual ``<!DOCTYPE isopackager SYSTEM
"genericpackager.dtd">`` is accepted and never fetched). EBCDIC uses our code page cp500; jPOS
uses IBM1047, which differs from it in a few punctuation characters only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from iso8583.composite import field as field_construct
from iso8583.dialects._table import DEFAULT_MASKS
from iso8583.errors import SpecError
from iso8583.framing import FrameFormat
from iso8583.spec import (
    BitmapEncoding,
    Encoding,
    FieldSpec,
    Kind,
    Mask,
    Pad,
    Positional,
    Spec,
)
from iso8583.specfile import default_prefix_encoding

__all__ = ["load_jpos_packager", "spec_from_jpos_xml"]

_JPOS_PACKAGE = "org.jpos.iso."
_SUB_PACKAGERS = ("org.jpos.iso.packager.GenericSubFieldPackager", "GenericSubFieldPackager")
_MAX_DEPTH = 8  # nesting of sub-packagers; real files use 1 or 2
_TRACK_FIELDS = (35, 36)


@dataclass(frozen=True, slots=True)
class _Class:
    """What one jPOS field packager class puts on the wire."""

    kind: Kind
    encoding: Encoding
    prefix: int = 0
    prefix_encoding: Encoding | None = None  # None: follows the data encoding
    bcd_pad: bool = False  # the pad attribute picks the side of the BCD pad nibble
    amount: bool = False  # length counts the sign character too


def _family(
    template: str, lengths: tuple[int, ...], make: Callable[[int], _Class]
) -> dict[str, _Class]:
    return {template.format("L" * n): make(n) for n in lengths}


_N, _ANS, _B, _XN = Kind.N, Kind.ANS, Kind.B, Kind.XN
_ASC, _EBC, _BCD, _BIN, _HEX = (
    Encoding.ASCII,
    Encoding.EBCDIC,
    Encoding.BCD,
    Encoding.BINARY,
    Encoding.HEX,
)

_CLASSES: dict[str, _Class] = {
    "IF_CHAR": _Class(_ANS, _ASC),
    "IF_ECHAR": _Class(_ANS, _EBC),
    "IFE_CHAR": _Class(_ANS, _EBC),
    "IFA_NUMERIC": _Class(_N, _ASC),
    "IFE_NUMERIC": _Class(_N, _EBC),
    "IFB_NUMERIC": _Class(_N, _BCD, bcd_pad=True),
    "IFA_AMOUNT": _Class(_XN, _ASC, amount=True),
    "IFE_AMOUNT": _Class(_XN, _EBC, amount=True),
    "IFB_AMOUNT": _Class(_XN, _BCD, bcd_pad=True, amount=True),
    "IFA_BINARY": _Class(_B, _HEX),
    "IFB_BINARY": _Class(_B, _BIN),
    "IFA_LLABINARY": _Class(_B, _HEX, 2, _ASC),
    "IFA_LLLABINARY": _Class(_B, _HEX, 3, _ASC),
    "IFE_LLLBINARY": _Class(_B, _BIN, 3, _EBC),
    **_family("IFA_{}NUM", (2, 3), lambda n: _Class(_N, _ASC, n, _ASC)),
    **_family("IFA_{}CHAR", (2, 3, 4, 5, 6), lambda n: _Class(_ANS, _ASC, n, _ASC)),
    **_family("IFA_{}BINARY", (2, 3, 4, 5, 6), lambda n: _Class(_B, _BIN, n, _ASC)),
    **_family("IFB_{}NUM", (2, 3), lambda n: _Class(_N, _BCD, n, _BCD, bcd_pad=True)),
    **_family("IFB_{}HNUM", (2, 3), lambda n: _Class(_N, _BCD, n, _BIN, bcd_pad=True)),
    **_family("IFB_{}CHAR", (2, 3, 4, 6), lambda n: _Class(_ANS, _ASC, n, _BCD)),
    **_family("IFB_{}HCHAR", (2, 3), lambda n: _Class(_ANS, _ASC, n, _BIN)),
    **_family("IFB_{}HECHAR", (2, 3), lambda n: _Class(_ANS, _EBC, n, _BIN)),
    **_family("IFB_{}BINARY", (2, 3, 4), lambda n: _Class(_B, _BIN, n, _BCD)),
    **_family("IFB_{}HBINARY", (2, 3), lambda n: _Class(_B, _BIN, n, _BIN)),
    **_family("IFE_{}NUM", (2, 3), lambda n: _Class(_N, _EBC, n, _EBC)),
    **_family("IFE_{}CHAR", (2, 3), lambda n: _Class(_ANS, _EBC, n, _EBC)),
}

_NOP = "IF_NOP"
_BITMAPS = {
    "IFA_BITMAP": BitmapEncoding.HEX,
    "IFB_BITMAP": BitmapEncoding.BINARY,
    "IFE_BITMAP": BitmapEncoding.EBCDIC_HEX,
}
_MTI_CLASSES = {
    "IFA_NUMERIC": Encoding.ASCII,
    "IF_CHAR": Encoding.ASCII,
    "IFB_NUMERIC": Encoding.BCD,
    "IFE_NUMERIC": Encoding.EBCDIC,
    "IFE_CHAR": Encoding.EBCDIC,
    "IF_ECHAR": Encoding.EBCDIC,
}
_UNSUPPORTED = {
    "IFEB_LLNUM": "its length prefix counts packed bytes, not digits",
    "IFEB_LLLNUM": "its length prefix counts packed bytes, not digits",
    "IFA_LLBNUM": "its length prefix rounds the digit count up to even",
    "IFE_BINARY": "it writes binary data as EBCDIC hex characters",
    "IFEP_LLCHAR": "it embeds the field number as a tag in the data",
    "IFB_LLHFBINARY": "it pads variable data to a fixed size",
}

_FIELD_ATTRS = ("id", "length", "name", "class", "pad", "trim")
_SUBPACKAGER_ATTRS = (
    "id",
    "length",
    "name",
    "class",
    "pad",
    "packager",
    "emitBitmap",
    "maxValidField",
    "bitmapField",
    "firstField",
    "headerLength",
)
_PACKAGER_ATTRS = (
    "maxValidField",
    "bitmapField",
    "thirdBitmapField",
    "firstField",
    "emitBitmap",
    "headerLength",
)
_REFUSED_ATTRS = {
    "params": "constructor parameters of custom classes",
    "token": "tagged fields",
    "encoding": "per-field character sets",
    "tagMapper": "tag mappers",
}


# --------------------------------------------------------------------------- XML


@dataclass(slots=True)
class _Element:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Element] = field(default_factory=list)


# An external-only DOCTYPE, as every jPOS packager file starts with one.
_EXTERNAL_ID = r"""(?:SYSTEM\s+{q}|PUBLIC\s+{q}\s+{q})""".format(q=r"""(?:"[^"]*"|'[^']*')""")
_DOCTYPE = re.compile(rf"<!DOCTYPE\s+[^\s\[>]+\s+{_EXTERNAL_ID}\s*>")
_DOCTYPE_BYTES = re.compile(_DOCTYPE.pattern.encode())


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def _blank_bytes(match: re.Match[bytes]) -> bytes:
    return re.sub(rb"[^\n]", b" ", match.group())


def _without_external_doctype(data: str | bytes) -> str | bytes:
    """Blank out an external DOCTYPE, keeping lines and columns.

    The DTD is never fetched anyway; without it expat treats a reference to an undeclared
    entity as the error it is, instead of silently dropping it from attribute values.
    """
    if isinstance(data, str):
        return _DOCTYPE.sub(_blank, data, count=1)
    return _DOCTYPE_BYTES.sub(_blank_bytes, data, count=1)


def _parse_xml(data: str | bytes, where: str) -> _Element:
    """Parse with expat, keeping each element's line; refuse entity tricks."""
    data = _without_external_doctype(data)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []

    def here() -> str:
        return f"{where}: line {parser.CurrentLineNumber}"

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, attrs, parser.CurrentLineNumber)
        if len(stack) > _MAX_DEPTH:
            raise SpecError(f"elements nested deeper than {_MAX_DEPTH}", where=here())
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def doctype(name: str, sysid: str | None, pubid: str | None, internal: int) -> None:
        if internal:
            raise SpecError(
                "a DOCTYPE with an internal subset is refused (entity declarations)",
                where=here(),
            )

    def entity(*args: object) -> None:
        raise SpecError("entity declarations are refused", where=here())

    def skipped(name: str, is_parameter: int) -> None:
        raise SpecError(f"reference to the undeclared entity &{name};", where=here())

    def external(*args: object) -> int:
        raise SpecError("external entities are refused", where=here())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.SkippedEntityHandler = skipped
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise SpecError(
            f"malformed XML: {expat.ErrorString(exc.code)}",
            where=f"{where}: line {exc.lineno}, column {exc.offset + 1}",
        ) from None
    return roots[0]


# --------------------------------------------------------------------------- elements


class _Reader:
    """Converts the element tree, naming the file and line in every error."""

    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, element: _Element, reason: str) -> SpecError:
        return SpecError(reason, where=f"{self.where}: line {element.line}")

    def check_attrs(self, element: _Element, allowed: tuple[str, ...]) -> None:
        for attr in element.attrs:
            if attr in _REFUSED_ATTRS:
                raise self.error(
                    element, f"attribute {attr!r} ({_REFUSED_ATTRS[attr]}) is not supported"
                )
            if attr not in allowed:
                close = difflib.get_close_matches(attr, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(element, f"unknown attribute {attr!r} on <{element.tag}>{hint}")

    def required(self, element: _Element, attr: str) -> str:
        if attr not in element.attrs:
            raise self.error(element, f"<{element.tag}> needs the {attr!r} attribute")
        return element.attrs[attr]

    def integer(self, element: _Element, attr: str, default: int | None = None) -> int:
        if default is not None and attr not in element.attrs:
            return default
        text = self.required(element, attr).strip()
        if not text.isascii() or not text.isdigit():
            raise self.error(element, f"{attr}={text!r} is not a non-negative integer")
        return int(text)

    def boolean(self, element: _Element, attr: str, default: bool) -> bool:
        text = element.attrs.get(attr)
        if text is None:
            return default
        if text.strip().lower() not in ("true", "false"):
            raise self.error(element, f"{attr}={text!r} is not true or false")
        return text.strip().lower() == "true"

    def class_name(self, element: _Element) -> str:
        """The short jPOS class name, e.g. ``IFA_NUMERIC``."""
        full = self.required(element, "class").strip()
        short = full.removeprefix(_JPOS_PACKAGE)
        if short in _CLASSES or short in _BITMAPS or short == _NOP:
            return short
        if short in _UNSUPPORTED:
            raise self.error(element, f"class {full} is not supported: {_UNSUPPORTED[short]}")
        known = [*_CLASSES, *_BITMAPS, _NOP]
        close = difflib.get_close_matches(short, known, n=1)
        hint = f"; did you mean {_JPOS_PACKAGE}{close[0]}?" if close else ""
        raise self.error(element, f"unknown jPOS field packager class {full}{hint}")

    def children_by_id(self, parent: _Element) -> dict[int, _Element]:
        seen: dict[int, _Element] = {}
        for child in parent.children:
            if child.tag not in ("isofield", "isofieldpackager"):
                raise self.error(
                    child, f"unexpected element <{child.tag}> (isofield or isofieldpackager)"
                )
            number = self.integer(child, "id")
            if number in seen:
                raise self.error(
                    child, f"field {number} is defined twice (first on line {seen[number].line})"
                )
            seen[number] = child
        return seen

    # fields ------------------------------------------------------------------------------------
    def field(self, element: _Element, number: int, *, top: bool) -> FieldSpec | None:
        """One data field (``top``) or subfield; None for IF_NOP."""
        is_packager = element.tag == "isofieldpackager"
        self.check_attrs(element, _SUBPACKAGER_ATTRS if is_packager else _FIELD_ATTRS)
        name = self.required(element, "name")
        length = self.integer(element, "length")
        short = self.class_name(element)
        if short == _NOP:
            if is_packager or not top:
                raise self.error(element, "IF_NOP cannot carry subfields or be a subfield")
            return None
        if short in _BITMAPS:
            raise self.error(element, f"{short} is only valid for field 1 (or 65)")
        cls = _CLASSES[short]
        kind = cls.kind
        if top and number in _TRACK_FIELDS and kind is Kind.N:
            kind = Kind.Z
        max_len = length
        if cls.amount:
            if length < 2:
                raise self.error(element, f"{short} length {length} leaves no digits")
            max_len = length - 1
        left_padded = self.boolean(element, "pad", False)
        pad = Pad.RIGHT if cls.bcd_pad and not left_padded else Pad.LEFT
        self.boolean(element, "trim", False)  # trimming is a jPOS unpack nicety; no wire effect
        fs = FieldSpec(
            name=name,
            kind=kind,
            max_len=max_len,
            prefix=cls.prefix,
            encoding=cls.encoding,
            prefix_encoding=cls.prefix_encoding or default_prefix_encoding(cls.encoding),
            pad=pad,
            mask=DEFAULT_MASKS.get(number, Mask.NONE) if top else Mask.NONE,
        )
        self.compile(element, number, fs, short)
        if is_packager:
            fs = fs.with_(composite=self.positional(element))
            self.compile(element, number, fs, short)
        return fs

    def compile(self, element: _Element, number: int, fs: FieldSpec, short: str) -> None:
        try:
            field_construct(str(number), fs)
        except SpecError as exc:
            raise self.error(element, f"field {number} ({short}): {exc.reason}") from None

    def positional(self, element: _Element) -> Positional:
        packager = self.required(element, "packager").strip()
        if packager not in _SUB_PACKAGERS:
            raise self.error(
                element, f"sub-packager {packager} is not supported (GenericSubFieldPackager)"
            )
        if self.boolean(element, "emitBitmap", True):
            raise self.error(
                element,
                "a sub-packager that emits a bitmap cannot be represented "
                '(only emitBitmap="false" subfields, read one after another)',
            )
        if self.integer(element, "headerLength", 0):
            raise self.error(element, "a sub-packager header cannot be represented")
        self.integer(element, "maxValidField", 0)
        self.integer(element, "bitmapField", 0)
        first = self.integer(element, "firstField", 1)
        children = self.children_by_id(element)
        if not children:
            raise self.error(element, "a sub-packager needs at least one isofield")
        subfields: list[FieldSpec] = []
        expected = first
        for number in sorted(children):
            child = children[number]
            if number < first:
                raise self.error(child, f"subfield {number} comes before firstField {first}")
            if number != expected:
                raise self.error(
                    child,
                    f"subfield {number} follows {expected - 1}: positional subfields must be "
                    f"numbered without gaps (subfield {expected} is missing)",
                )
            expected += 1
            sub = self.field(child, number, top=False)
            assert sub is not None  # IF_NOP subfields are refused above
            self.check_subfield(child, sub)
            subfields.append(sub)
        return Positional(tuple(subfields))

    def check_subfield(self, element: _Element, sub: FieldSpec) -> None:
        want = Encoding.BINARY if sub.kind is Kind.B else Encoding.ASCII
        if sub.encoding is not want or (sub.prefix and sub.prefix_encoding is not want):
            raise self.error(
                element,
                f"{element.attrs['class']} cannot be a positional subfield: subfields are read "
                "from the field's value as ASCII text (IFA_*, IF_CHAR) or raw bytes with a "
                "binary length (IFB_BINARY, IFB_LLHBINARY)",
            )

    # the packager -------------------------------------------------------------------------------
    def spec(self, root: _Element, name: str) -> Spec:
        if root.tag != "isopackager":
            raise self.error(root, f"the root element must be <isopackager>, not <{root.tag}>")
        self.check_attrs(root, _PACKAGER_ATTRS)
        if not self.boolean(root, "emitBitmap", True):
            raise self.error(root, "packagers without a bitmap are not supported")
        if self.integer(root, "bitmapField", 1) != 1:
            raise self.error(root, "the bitmap must be field 1")
        third = self.integer(root, "thirdBitmapField", 0)
        if third not in (0, 65):
            raise self.error(root, f"thirdBitmapField={third}: only 65 is supported")
        self.integer(root, "maxValidField", 0)
        self.integer(root, "firstField", 0)
        header_length = self.integer(root, "headerLength", 0)
        children = self.children_by_id(root)
        for number in (0, 1):
            if number not in children:
                what = "the MTI" if number == 0 else "the bitmap"
                raise self.error(root, f"field {number} ({what}) is not defined")
        mti = self.mti(children.pop(0))
        bitmap = self.bitmap(children.pop(1))
        tertiary = third == 65
        if 65 in children and self.class_name(children[65]) in _BITMAPS:
            if self.bitmap(children.pop(65)) is not bitmap:
                raise self.error(root, "the tertiary bitmap must be encoded like field 1")
            tertiary = True
        elif tertiary:
            raise self.error(root, "thirdBitmapField=65 needs a bitmap class on field 65")
        top = 192 if tertiary else 128
        fields: dict[int, FieldSpec] = {}
        for number, element in sorted(children.items()):
            if number > top:
                raise self.error(
                    element, f"field {number} needs a tertiary bitmap (a bitmap class on 65)"
                )
            fs = self.field(element, number, top=True)
            if fs is not None:
                fields[number] = fs
        framing = FrameFormat(header_length=header_length) if header_length else None
        spec = Spec(
            name=name,
            description=f"Imported from jPOS GenericPackager {Path(self.where).name}",
            fields=fields,
            mti_encoding=mti,
            bitmap_encoding=bitmap,
            tertiary_bitmap=tertiary,
            framing=framing,
        )
        try:
            return spec.validate()
        except SpecError as exc:  # pragma: no cover - every field was compiled above
            raise SpecError(exc.reason, where=f"{self.where} ({exc.where})") from None

    def mti(self, element: _Element) -> Encoding:
        self.check_attrs(element, _FIELD_ATTRS)
        short = self.class_name(element)
        if short not in _MTI_CLASSES or element.tag != "isofield":
            raise self.error(element, f"{short} cannot carry the MTI ({', '.join(_MTI_CLASSES)})")
        if self.integer(element, "length") != 4:
            raise self.error(element, "the MTI (field 0) must have length 4")
        return _MTI_CLASSES[short]

    def bitmap(self, element: _Element) -> BitmapEncoding:
        self.check_attrs(element, _FIELD_ATTRS)
        short = self.class_name(element)
        if short not in _BITMAPS or element.tag != "isofield":
            raise self.error(element, f"{short} is not a bitmap class ({', '.join(_BITMAPS)})")
        self.integer(element, "length")
        return _BITMAPS[short]


# --------------------------------------------------------------------------- public API


def spec_from_jpos_xml(text: str | bytes, *, name: str, where: str) -> Spec:
    """Convert GenericPackager XML; ``where`` names the source in errors (with the line)."""
    reader = _Reader(where)
    return reader.spec(_parse_xml(text, where), name)


def load_jpos_packager(path: str | Path, *, name: str | None = None) -> Spec:
    """Import a GenericPackager XML file; the spec is named after the file unless told."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", where=str(path)) from None
    return spec_from_jpos_xml(data, name=name or path.stem, where=str(path))
