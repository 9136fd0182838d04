"""``posemu firmware keygen|publish|serve|trust|update|status``: signed A/B firmware updates.

The publisher's loop is keygen -> publish -> serve; the terminal's is trust (once, with the
repository's root.json: never trust on first use) -> update. Every refusal is one line
``refused (<reason>): ...`` on stderr and exit status 1, with the running version untouched.

Exit status: 0 done (or up to date), 1 refused, failed or rolled back, 2 bad arguments or other
errors. Only ``firmware_update`` is imported (lazily), so ``posemu firmware`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from firmware_update.machine import State
    from firmware_update.versions import Version

__all__ = ["add_parser"]

EXIT_REFUSED: Final = 1
EXIT_ERROR: Final = 2


class _BadArgs(Exception):
    """An argument that cannot be used: exit 2."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("firmware", help="publish, serve and install signed firmware updates")
    cmds = p.add_subparsers(dest="firmware_cmd", required=True, metavar="COMMAND")

    kg = cmds.add_parser("keygen", help="create Ed25519 keys for the TUF roles")
    kg.add_argument("--out", type=Path, required=True, metavar="KEYDIR", help="key directory")
    kg.set_defaults(func=_guarded(cmd_keygen))

    pub = cmds.add_parser("publish", help="package PAYLOAD and publish it as a new version")
    pub.add_argument("--repo", type=Path, required=True, metavar="REPODIR")
    pub.add_argument("--keys", type=Path, required=True, metavar="KEYDIR")
    pub.add_argument("--version", required=True, metavar="X.Y.Z", help="version of this package")
    pub.add_argument(
        "--min-version", metavar="X.Y.Z", help="once installed, refuse anything older than this"
    )
    pub.add_argument("--models", metavar="M,...", help="terminal models it is for (default: all)")
    pub.add_argument("--changelog", type=Path, metavar="FILE", help="changelog text file")
    pub.add_argument(
        "--footer", action="append", metavar="LINE", help="receipt footer line (repeatable)"
    )
    pub.add_argument(
        "--header", action="append", metavar="LINE", help="receipt header line (repeatable)"
    )
    pub.add_argument("payload", type=Path, metavar="PAYLOAD", help="directory, .tar.gz or file")
    pub.set_defaults(func=_guarded(cmd_publish))

    srv = cmds.add_parser("serve", help="serve REPODIR over HTTP (with Range support)")
    srv.add_argument("--repo", type=Path, required=True, metavar="REPODIR")
    srv.add_argument(
        "--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="port 0: any free port"
    )
    srv.add_argument("--verbose", action="store_true", help="log every request on stderr")
    srv.set_defaults(func=_guarded(cmd_serve))

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", type=Path, help="terminal data directory (default: per user)")

    tr = cmds.add_parser("trust", parents=[data], help="provision the repository's root.json")
    tr.add_argument("root", type=Path, metavar="ROOT.json", help="REPODIR/metadata/1.root.json")
    tr.add_argument("--replace", action="store_true", help="replace a different trusted root")
    tr.set_defaults(func=_guarded(cmd_trust))

    up = cmds.add_parser("update", parents=[data], help="check, download, install, verify, commit")
    up.add_argument("--repo-url", required=True, metavar="URL", help="e.g. http://127.0.0.1:8080")
    up.add_argument("--model", default=None, help="this terminal's model (default: posemu)")
    up.add_argument(
        "--health-timeout", type=float, default=30.0, metavar="S", help="health check time limit"
    )
    up.add_argument(
        "--max-size", type=int, default=None, metavar="BYTES", help="largest package accepted"
    )
    up.add_argument("--json", action="store_true", help="one JSON object on stdout")
    up.set_defaults(func=_guarded(cmd_update))

    st = cmds.add_parser("status", parents=[data], help="slots, versions, state, last result")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=_guarded(cmd_status))


def _guarded(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from firmware_update.errors import FirmwareError, UpdateRefused

        try:
            return int(func(args))
        except UpdateRefused as exc:
            print(f"{exc}", file=sys.stderr)
            return EXIT_REFUSED
        except (_BadArgs, FirmwareError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except BrokenPipeError:
            return 0
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
            return EXIT_ERROR

    return run


def _version(option: str, text: str | None) -> Version | None:
    from firmware_update.versions import Version

    if text is None:
        return None
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise _BadArgs(f"{option}: {exc}") from None


def _data_dir(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        return Path(args.data_dir)  # a top-level `posemu --data-dir D firmware` gives a str
    import platformdirs

    return Path(platformdirs.user_data_dir("posemu", appauthor=False))


# --- publisher --------------------------------------------------------------------------------
def cmd_keygen(args: argparse.Namespace) -> int:
    from firmware_update.keys import generate_keys

    ids = generate_keys(args.out)
    for role, keyid in ids.items():
        print(f"{role:<9} {keyid[:16]}  {args.out / (role + '.pem')}")
    print("keep these secret (root.pem above all): they decide what every terminal installs")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    import tempfile

    from firmware_update.keys import load_signers
    from firmware_update.package import build_package
    from firmware_update.publish import Publisher, package_target_name

    version = _version("--version", args.version)
    assert version is not None
    min_version = _version("--min-version", args.min_version)
    if min_version is not None and min_version > version:
        raise _BadArgs(f"--min-version {min_version} is newer than --version {version}")
    models = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
    if args.models is not None and not models:
        raise _BadArgs("--models: expected a comma-separated list of model names")
    changelog = None
    if args.changelog is not None:
        changelog = args.changelog.read_text(encoding="utf-8")
    params: dict[str, Any] = {}
    if args.footer:
        params["receipt_footer"] = args.footer
    if args.header:
        params["receipt_header"] = args.header
    if not args.payload.exists():
        raise _BadArgs(f"PAYLOAD {args.payload}: no such file or directory")
    signers = load_signers(args.keys)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / package_target_name(str(version))
        manifest = build_package(
            args.payload,
            archive,
            version,
            min_version=min_version,
            models=models,
            changelog=changelog,
            params=params,
        )
        info = Publisher(args.repo, signers).publish(archive, manifest)
    print(
        f"published {version} ({info.length} bytes, sha256 {info.hashes['sha256'][:16]}) "
        f"in {args.repo}"
    )
    print(f"terminals trust {args.repo / 'metadata' / '1.root.json'}")
    return 0


def _parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise _BadArgs(f"--listen must be HOST:PORT with a port 0-65535, got {text!r}")
    return host.strip("[]"), int(port)


def cmd_serve(args: argparse.Namespace) -> int:
    from firmware_update.server import RepoHandler, RepoServer

    if not (args.repo / "metadata" / "root.json").is_file():
        raise _BadArgs(f"--repo {args.repo}: not a firmware repository (publish first)")
    address = _parse_listen(args.listen)

    class Handler(RepoHandler):
        quiet = not args.verbose

    try:
        server = RepoServer(args.repo, address, Handler)
    except OSError as exc:
        raise _BadArgs(f"--listen {args.listen}: cannot listen ({exc.strerror or exc})") from None
    print(f"serving {args.repo} at {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


# --- terminal ---------------------------------------------------------------------------------
def cmd_trust(args: argparse.Namespace) -> int:
    from firmware_update import trust

    try:
        data = args.root.read_bytes()
    except OSError as exc:
        raise _BadArgs(f"ROOT.json {args.root}: {exc.strerror or exc}") from None
    print(trust(_data_dir(args), data, replace_existing=args.replace))
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    import asyncio

    from firmware_update import Updater
    from firmware_update.updater import DEFAULT_MAX_SIZE, DEFAULT_MODEL

    if not args.repo_url.startswith(("http://", "https://")):
        raise _BadArgs(f"--repo-url {args.repo_url!r}: expected an http:// or https:// URL")
    if not 0 < args.health_timeout <= 3600:
        raise _BadArgs("--health-timeout: expected seconds between 0 and 3600")
    if args.max_size is not None and args.max_size <= 0:
        raise _BadArgs("--max-size: expected a positive number of bytes")
    show = sys.stderr.isatty() and not args.json
    updater = Updater(
        _data_dir(args),
        args.repo_url,
        model=args.model or DEFAULT_MODEL,
        health_timeout=args.health_timeout,
        max_size=args.max_size or DEFAULT_MAX_SIZE,
        progress=_progress_printer() if show else None,
    )
    outcome = asyncio.run(updater.run())
    if show:
        print(file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": outcome.ok,
                    "state": outcome.state.value,
                    "running": str(outcome.running),
                    "target": str(outcome.target) if outcome.target else None,
                    "reason": outcome.reason.value if outcome.reason else None,
                    "message": outcome.message,
                }
            )
        )
    elif outcome.ok:
        print(outcome.message)
    else:
        print(outcome.message, file=sys.stderr)
    return 0 if outcome.ok else EXIT_REFUSED


def _progress_printer() -> Any:
    last = [-1]

    def progress(state: State, done: int, total: int) -> None:
        pct = 100 * done // total if total else 100
        if pct != last[0]:
            last[0] = pct
            print(f"\r{state.value}: {pct:3d}% of {total} bytes", end="", file=sys.stderr)

    return progress


def cmd_status(args: argparse.Namespace) -> int:
    from firmware_update import read_status

    status = read_status(_data_dir(args))
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"running   {status['running']} (slot {status['active'].upper()})")
    print(f"state     {status['state']}" + (f" ({status['reason']})" if status["reason"] else ""))
    print(f"minimum   {status['floor']}")
    if status["last_result"]:
        print(f"last      {status['last_result']}")
    if not status["provisioned"]:
        print("trust     not provisioned (run `posemu firmware trust`)")
    for name, slot in status["slots"].items():
        mark = "*" if name == status["active"] else " "
        if slot.get("empty"):
            what, state = ("factory", "bootable") if slot["bootable"] else ("empty", "")
        else:
            what = slot["version"]
            state = "bootable" if slot["bootable"] else f"NOT bootable: {slot.get('problem')}"
        print(f"slot {name.upper()} {mark} {what:<16} {state}")
    return 0
