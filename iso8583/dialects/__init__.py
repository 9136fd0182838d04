"""Built-in dialects, listed by ``posemu iso8583 specs``.

Specs are built on first use and cached; each call of :func:`get_spec` returns the same object,
so its compiled codec is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from iso8583.dialects.cup import cup
from iso8583.dialects.iso87 import iso87ascii, iso87binary
from iso8583.dialects.iso93 import iso93ascii
from iso8583.errors import SpecError
from iso8583.spec import Spec

__all__ = ["get_spec", "spec_names"]

_BUILDERS: dict[str, Callable[[], Spec]] = {
    "iso87ascii": iso87ascii,
    "iso87binary": iso87binary,
    "iso93ascii": iso93ascii,
    "cup": cup,
}


def spec_names() -> list[str]:
    return list(_BUILDERS)


@cache
def get_spec(name: str) -> Spec:
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise SpecError(f"unknown dialect {name!r}; built-in: {', '.join(_BUILDERS)}") from None
    return builder().validate()
