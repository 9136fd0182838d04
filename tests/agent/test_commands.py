"""Command checking and the dispatcher: refusals with reasons, signatures, expiry, run-once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.commands import new_command
from agent.dispatch import CommandFailed, Dispatcher
from agent.errors import KeyFileError
from agent.signing import generate_keypair, load_private_key, load_public_key, sign_command
from agent.store import AgentStore


class Rig:
    def __init__(self, tmp: Path, key: Any = None) -> None:
        self.store = AgentStore(tmp / "agent.sqlite")
        self.results: list[dict[str, Any]] = []
        self.runs: list[dict[str, str]] = []
        self.dispatcher = Dispatcher(
            self.store.commands("T1"),
            {"reprint": self.reprint, "logs": self.fail},
            self.results.append,
            key=key,
        )

    async def reprint(self, args: dict[str, str]) -> dict[str, Any]:
        self.runs.append(args)
        return {"printed": 1}

    async def fail(self, args: dict[str, str]) -> dict[str, Any]:
        raise CommandFailed("no log file")

    async def feed(self, *payloads: bytes) -> list[dict[str, Any]]:
        for p in payloads:
            self.dispatcher.receive(p)
        worker = asyncio.create_task(self.dispatcher.run())
        await asyncio.sleep(0.05)
        worker.cancel()
        return self.results


def cmd(name: str = "reprint", ttl: float = 60, **args: Any) -> dict[str, Any]:
    return new_command(name, args, ttl=ttl)


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not a JSON object"),
        (b"[1]", "not a JSON object"),
        (raw({"name": "reprint"}), "id:"),
        (raw(cmd("format_disk")), "unknown command 'format_disk'"),
        (raw(cmd(stan="12x")), "argument stan='12x': a STAN of 1-6 digits"),
        (raw(cmd(colour="red")), "unknown argument 'colour'"),
        (raw(cmd(ttl=-1, stan="1")), "expired at"),
        (raw({**cmd(stan="1"), "args": [1]}), "args must be an object"),
        (raw({**cmd(stan="1"), "expires_at": "soon"}), "ISO 8601"),
    ],
    # Ids from the reasons: the payloads carry random command IDs and times, and every
    # pytest-xdist worker must collect the same test names.
    ids=lambda value: value if isinstance(value, str) else "payload",
)
async def test_malformed_commands_are_refused_with_a_reason(
    tmp_path: Path, payload: bytes, reason: str
) -> None:
    rig = Rig(tmp_path)
    [result] = await rig.feed(payload)
    assert result["status"] == "refused"
    assert reason in result["reason"]
    assert rig.runs == []


async def test_repeated_id_runs_once_and_returns_the_stored_result(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    body = raw(cmd(stan="000002", copy="customer"))
    results = await rig.feed(body, body)
    results = await rig.feed(body)  # and again later, after it finished
    assert rig.runs == [{"stan": "000002", "copy": "customer"}]
    done = [r for r in results if r["status"] == "ok"]
    assert len(done) == 2
    assert done[1]["repeat"] is True
    assert done[1]["data"] == {"printed": 1}
    assert results[0]["status"] == "pending"
    assert results[0]["repeat"]


async def test_a_repeat_after_a_restart_does_not_run_again(tmp_path: Path) -> None:
    body = raw(cmd(stan="7"))
    await Rig(tmp_path).feed(body)
    again = Rig(tmp_path)
    [result] = await again.feed(body)
    assert again.runs == []
    assert result["repeat"]
    assert result["status"] == "ok"


async def test_handler_failure_and_missing_handler_are_reported(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    results = await rig.feed(raw(cmd("logs")), raw(cmd("reboot")))
    statuses = [(r["name"], r["status"]) for r in results]
    assert statuses == [("logs", "failed"), ("reboot", "refused")]
    assert results[0]["reason"] == "no log file"


async def test_signed_commands(tmp_path: Path) -> None:
    generate_keypair(tmp_path / "tms.pem", tmp_path / "tms.pub.pem")
    key = load_private_key(tmp_path / "tms.pem")
    rig = Rig(tmp_path, key=load_public_key(tmp_path / "tms.pub.pem"))
    good = sign_command(cmd(stan="1"), key)
    forged = sign_command(cmd(stan="2"), Ed25519PrivateKey.generate())
    altered = {**sign_command(cmd(stan="3"), key), "args": {"stan": "4"}}
    expired = sign_command(cmd(stan="5", ttl=-10), key)
    results = await rig.feed(raw(cmd(stan="9")), raw(forged), raw(altered), raw(expired), raw(good))
    reasons = [r.get("reason", "") for r in results]
    assert reasons[0].startswith("unsigned command")
    assert reasons[1].startswith("bad signature")
    assert reasons[2].startswith("bad signature")
    assert reasons[3].startswith("expired")
    assert results[4]["status"] == "ok"
    assert rig.runs == [{"stan": "1"}]
    # a forged command cannot block the ID of a real one
    intruder = Ed25519PrivateKey.generate()
    forged_same_id = sign_command({**cmd(stan="6"), "id": "fixed-1"}, intruder)
    real_same_id = sign_command({**cmd(stan="6"), "id": "fixed-1"}, key)
    results = await rig.feed(raw(forged_same_id), raw(real_same_id))
    assert results[-1]["status"] == "ok"
    assert results[-1]["command_id"] == "fixed-1"


def test_key_files_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"missing\.pem"):
        load_public_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("junk")
    with pytest.raises(KeyFileError, match="not a PEM"):
        load_public_key(tmp_path / "junk.pem")
