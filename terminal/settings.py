"""The terminal's settings: a TOML file in the data directory, environment, command line.

Why one module: the CLI, the TUI, the agent's remote ``params`` command and the firmware
installer all change the same settings, and each must validate them the same way and say
where a value came from. Precedence, strongest first: command-line option, environment
variable, ``settings.toml`` in the data directory, built-in default.

Keys are never shown in clear: :func:`describe` gives the TMK's key check value only.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from terminal.config import ConfigError, TerminalConfig
from terminal.core.errors import TerminalError

__all__ = [
    "ENV_DATA_DIR",
    "ENV_HOST",
    "ENV_SPEC",
    "SETTINGS",
    "SETTINGS_FILE",
    "Setting",
    "SettingsError",
    "describe",
    "load_settings",
    "normalise_host",
    "read_settings",
    "resolve_data_dir",
    "save_settings",
    "settings_path",
]

SETTINGS_FILE: Final = "settings.toml"
ENV_DATA_DIR: Final = "POSEMU_DATA_DIR"
ENV_HOST: Final = "POSEMU_HOST"
ENV_SPEC: Final = "POSEMU_SPEC"

#: Source labels (``sources`` values) for values nobody set.
DEFAULT: Final = "default"


class SettingsError(TerminalError, ValueError):
    """A setting that cannot be used, in the user's terms: where it came from, and why."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One user-facing setting: its name in settings.toml and the config field it sets."""

    name: str
    field: str
    kind: type
    help: str
    secret: bool = False


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        "host",
        "host",
        str,
        "acquirer host: HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT "
        "(unset: the embedded host simulator)",
    ),
    Setting("spec", "spec", str, "ISO 8583 dialect name or dialect file"),
    Setting("terminal_id", "terminal_id", str, "terminal id, field 41 (1-8 characters)"),
    Setting("merchant_id", "merchant_id", str, "merchant id, field 42 (1-15 characters)"),
    Setting("merchant_name", "merchant_name", str, "merchant name on slips and in QR codes"),
    Setting("merchant_city", "merchant_city", str, "merchant city on slips and in QR codes"),
    Setting("merchant_country", "merchant_country", str, "ISO 3166 alpha-2 country, e.g. CN"),
    Setting("merchant_category", "merchant_category", str, "merchant category code (4 digits)"),
    Setting("currency", "currency", str, "ISO 4217 currency, numeric (156) or alpha (CNY)"),
    Setting("tmk", "tmk_hex", str, "terminal master key, 32 or 48 hex digits", secret=True),
    Setting("receipt_header", "receipt_header", list, "lines under the merchant name"),
    Setting("receipt_footer", "receipt_footer", list, "lines at the foot of each slip"),
    Setting("receipt_width", "receipt_width", int, "slip width: 32, 42 or 48 columns"),
    Setting("customer_copy", "customer_copy", bool, "also print the customer copy"),
    Setting("connect_timeout", "connect_timeout", float, "seconds to connect to the host"),
    Setting("response_timeout", "response_timeout", float, "seconds to wait for each answer"),
    Setting("tls_ca", "tls_ca_file", str, "CA file to verify a tls:// host"),
    Setting("tls_cert", "tls_cert_file", str, "client certificate for mutual TLS"),
    Setting("tls_key", "tls_key_file", str, "client key for mutual TLS"),
)
_BY_NAME: Final = {s.name: s for s in SETTINGS}
_ALIASES: Final = {"tid": "terminal_id", "mid": "merchant_id", "tmk_hex": "tmk"}
_ENV: Final = {"host": ENV_HOST, "spec": ENV_SPEC}


def normalise_host(text: str, *, what: str = "--host") -> str:
    """``HOST:PORT`` -> ``tcp://HOST:PORT``; ``tcp://`` and ``tls://`` URLs are checked."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "tcp", value
    if scheme not in ("tcp", "tls"):
        raise SettingsError(f"{what} {text!r}: use HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or "/" in rest or not (port.isdigit() and 0 < int(port) < 65536):
        raise SettingsError(
            f"{what} {text!r}: expected HOST:PORT with a port 1-65535, "
            "e.g. 127.0.0.1:8583 or tls://acquirer.example:443"
        )
    return f"{scheme}://{rest}"


def resolve_data_dir(
    option: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
) -> tuple[Path, str]:
    """The data directory and where it came from (option, environment or default)."""
    env = os.environ if env is None else env
    if option:
        return Path(option), "--data-dir"
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR]), f"environment {ENV_DATA_DIR}"
    from terminal.store.state import default_data_dir

    return default_data_dir(), DEFAULT


def settings_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / SETTINGS_FILE


def _canonical(name: str) -> Setting:
    key = _ALIASES.get(
        name.strip().lower().replace("-", "_"), name.strip().lower().replace("-", "_")
    )
    setting = _BY_NAME.get(key)
    if setting is None:
        known = ", ".join(s.name for s in SETTINGS)
        raise SettingsError(f"unknown setting {name!r}; settings are: {known}")
    return setting


def _coerce(setting: Setting, value: Any, where: str) -> Any:
    """A value from TOML or from ``config set`` text, as the config field wants it."""
    bad = f"{where}: {setting.name} = {_shown(setting, value)}"
    if setting.kind is list:
        if isinstance(value, str):
            value = value.split("|") if value else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{bad}: expected a list of lines (text, or lines split by |)")
        return tuple(value)
    if setting.kind is bool:
        if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1", "false", "no",
                                                          "off", "0"):  # fmt: skip
            return value.lower() in ("true", "yes", "on", "1")
        if not isinstance(value, bool):
            raise SettingsError(f"{bad}: expected true or false")
        return value
    if setting.kind in (int, float):
        if isinstance(value, str):
            try:
                value = setting.kind(value)
            except ValueError:
                raise SettingsError(f"{bad}: expected a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{bad}: expected a number")
        return setting.kind(value)
    if not isinstance(value, str):
        raise SettingsError(f"{bad}: expected text")
    if setting.name == "host":
        try:
            return normalise_host(value, what=where + ": host =")
        except SettingsError as exc:
            raise SettingsError(str(exc)) from None
    if setting.name == "currency":
        from terminal.core.receipts import Currency

        try:
            return Currency.lookup(value).numeric
        except (TerminalError, ValueError):
            from terminal.core.receipts.model import _CURRENCIES

            known = ", ".join(sorted(k for k in _CURRENCIES if k.isalpha()))
            raise SettingsError(f"{bad}: unknown ISO 4217 currency (known: {known})") from None
    if setting.name == "tmk":
        return value.replace(" ", "").upper()
    return value


def _shown(setting: Setting, value: Any) -> str:
    if setting.secret:
        return "<hidden>"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def read_settings(data_dir: Path | str, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The settings file's values by setting name (``{}`` without a file), coerced.

    Settings named in ``skip`` are left out unchecked: what ``config set``/``unset`` is
    about to replace, so a bad value in the file can be corrected from the command line.
    """
    path = settings_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            setting = _canonical(name)
        except SettingsError as exc:
            if name in skip:
                continue
            raise SettingsError(f"{path}: {exc}") from None
        if setting.name in skip:
            continue
        values[setting.name] = _coerce(setting, value, str(path))
    return values


def load_settings(
    data_dir: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, tuple[Any, str]] | None = None,
    base: TerminalConfig | None = None,
) -> tuple[TerminalConfig, dict[str, str]]:
    """The terminal's config and, for each setting name, where its value came from.

    ``overrides`` maps setting names to ``(value, source)``, e.g. ``{"host": (url,
    "--host")}``: command-line options. A ``host`` whose source is ``"default"`` means the
    embedded host simulator.
    """
    env = os.environ if env is None else env
    path = settings_path(data_dir)
    from_file = read_settings(data_dir)
    from_env = {}
    for name, var in _ENV.items():
        if env.get(var):
            from_env[name] = (_coerce(_BY_NAME[name], env[var], f"environment {var}"), var)
    values: dict[str, Any] = {}
    sources = {s.name: DEFAULT for s in SETTINGS}
    for name, value in from_file.items():
        values[name], sources[name] = value, str(path)
    for name, (value, var) in from_env.items():
        values[name], sources[name] = value, f"environment {var}"
    for name, (value, source) in (overrides or {}).items():
        setting = _canonical(name)
        if value is None:
            continue
        values[setting.name] = value if setting.name == "host" else _coerce(setting, value, source)
        sources[setting.name] = source
    config = _build(values, sources, base or TerminalConfig())
    return config, sources


def _build(
    values: Mapping[str, Any], sources: Mapping[str, str], base: TerminalConfig
) -> TerminalConfig:
    changes = {_BY_NAME[name].field: value for name, value in values.items()}
    try:
        config = base.with_(**changes)
    except ConfigError as exc:
        name = next((s.name for s in SETTINGS if s.field == exc.setting), exc.setting)
        source = sources.get(name, DEFAULT)
        setting = _BY_NAME.get(name)
        shown = _shown(setting, values.get(name)) if setting else ""
        raise SettingsError(f"{source}: {name} = {shown}: {exc.reason}") from None
    tls = [s for s in ("tls_ca", "tls_cert", "tls_key") if values.get(s)]
    if tls and (config.host.startswith("tcp://") or sources.get("host", DEFAULT) == DEFAULT):
        host = (
            "the embedded host simulator"
            if sources.get("host", DEFAULT) == DEFAULT
            else (f"the host {config.host}")
        )
        raise SettingsError(
            f"{', '.join(_flag(t) for t in tls)} given but {host} is plain TCP: "
            "use tls://HOST:PORT or drop the TLS options"
        )
    return config


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def describe(config: TerminalConfig, sources: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(name, shown value, source)`` rows; the TMK is shown by its KCV, never in clear."""
    rows = []
    for s in SETTINGS:
        value = getattr(config, s.field)
        if s.secret:
            shown = f"KCV {config.tmk.kcv}"
        elif s.name == "host" and sources.get("host", DEFAULT) == DEFAULT:
            shown = "embedded host simulator"
        elif isinstance(value, tuple):
            shown = " | ".join(value) if value else "(none)"
        elif value is None:
            shown = "(none)"
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        else:
            shown = str(value)
        rows.append((s.name, shown, sources.get(s.name, DEFAULT)))
    return rows


def _known_names() -> set[str]:
    return {s.name for s in SETTINGS} | set(_ALIASES)


def save_settings(data_dir: Path | str, changes: Mapping[str, Any]) -> Path:
    """Apply ``changes`` (setting name -> value, ``None`` to unset) to settings.toml.

    The result is validated as a whole before anything is written; the file is replaced
    atomically (temporary file, fsync, rename), so a crash leaves the old or the new file.
    """
    path = settings_path(data_dir)
    names = {_canonical(n).name for n in changes if n in _known_names()} | set(changes)
    current = read_settings(data_dir, skip=frozenset(names))
    for name, value in changes.items():
        setting = _canonical(name)
        if value is None:
            current.pop(setting.name, None)
        else:
            current[setting.name] = _coerce(setting, value, "config set")
    _build(current, dict.fromkeys(current, "config set"), TerminalConfig())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{SETTINGS_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(_toml(current))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _toml(values: Mapping[str, Any]) -> str:
    lines = ["# posemu terminal settings: posemu config show | set NAME VALUE | path"]
    for s in SETTINGS:
        if s.name in values:
            lines.append(f"{s.name} = {_toml_value(values[s.name])}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)
