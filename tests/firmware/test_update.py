"""Updates from a real signed repository over loopback HTTP: the happy path and every refusal."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata

from firmware_update import Health, Reason, State, Updater, read_status
from firmware_update.publish import Publisher
from tests.firmware.helpers import Repo, journal_rows


def run(data_dir: Path, repo: Repo, **kwargs):
    return asyncio.run(Updater(data_dir, repo.url, **kwargs).run())


def footer(data_dir: Path) -> list[str]:
    status = read_status(data_dir)
    slot = data_dir / "firmware" / "slots" / status["active"]
    return json.loads((slot / "params.json").read_text())["receipt_footer"]


def assert_refused(data_dir: Path, outcome, reason: Reason, running: str) -> None:
    assert outcome.state is State.FAILED, outcome
    assert outcome.reason is reason, outcome
    assert str(outcome.running) == running
    assert f"({reason.value})" in outcome.message
    assert "\n" not in outcome.message
    status = read_status(data_dir)
    assert status["running"] == running
    assert status["slots"][status["active"]]["bootable"]


def test_normal_update_installs_into_the_other_slot_and_commits(repo: Repo, data_dir: Path):
    before = journal_rows(data_dir)
    outcome = run(data_dir, repo)
    assert outcome.state is State.COMMITTED, outcome
    assert str(outcome.running) == "1.0.0"
    assert outcome.message == "committed 1.0.0 (was 0.0.0)"
    assert footer(data_dir) == ["firmware 1.0.0"]
    assert list((data_dir / "firmware" / "backups").glob("terminal-before-1.0.0-*.db"))
    assert journal_rows(data_dir) == before

    repo.publish("1.1.0", footer="Thank you for shopping!")
    outcome = run(data_dir, repo)
    assert outcome.state is State.COMMITTED
    assert str(outcome.running) == "1.1.0"
    status = read_status(data_dir)
    assert status["active"] == "a"
    assert status["slots"]["b"]["version"] == "1.0.0"
    assert footer(data_dir) == ["Thank you for shopping!"]

    again = run(data_dir, repo)
    assert again.ok
    assert again.state is State.IDLE
    assert "up to date" in again.message


def test_download_cut_halfway_resumes_with_range_in_the_same_run(repo: Repo, data_dir: Path):
    target = repo.publish("1.1.0", size=300_000)
    length = target.stat().st_size
    repo.faults.cut_after["posemu-firmware-1.1.0"] = length // 2
    outcome = run(data_dir, repo)
    assert outcome.state is State.COMMITTED, outcome
    assert repo.faults.ranges("posemu-firmware-1.1.0") == [None, f"bytes={length // 2}-"]
    assert repo.faults.bytes_sent("posemu-firmware-1.1.0") == length  # nothing twice


def test_download_cut_resumes_in_the_next_run_without_refetching(repo: Repo, data_dir: Path):
    target = repo.publish("1.1.0", size=300_000)
    length = target.stat().st_size
    repo.faults.cut_after["posemu-firmware-1.1.0"] = length // 2
    first = run(data_dir, repo, retries=0)
    assert first.state is State.FAILED, first
    assert first.reason is Reason.DOWNLOAD_FAILED
    assert first.message.startswith("failed (download-failed)")
    assert str(first.running) == "0.0.0"
    second = run(data_dir, repo)
    assert second.state is State.COMMITTED
    assert str(second.running) == "1.1.0"
    assert repo.faults.ranges("posemu-firmware-1.1.0") == [None, f"bytes={length // 2}-"]
    assert repo.faults.bytes_sent("posemu-firmware-1.1.0") == length
    assert not list((data_dir / "firmware" / "downloads" / "partial").iterdir())


def test_a_download_resumes_when_the_repository_url_is_spelled_differently(
    repo: Repo, data_dir: Path
):
    """The same signed file (its SHA-256 is in its name) continues, whatever host name or
    mirror serves it, and no partial file is left behind."""
    target = repo.publish("1.1.0", size=300_000)
    length = target.stat().st_size
    repo.faults.cut_after["posemu-firmware-1.1.0"] = length // 2
    assert run(data_dir, repo, retries=0).state is State.FAILED
    mirror = repo.url.replace("127.0.0.1", "localhost")
    second = asyncio.run(Updater(data_dir, mirror).run())
    assert second.state is State.COMMITTED, second
    assert repo.faults.ranges("posemu-firmware-1.1.0") == [None, f"bytes={length // 2}-"]
    assert not list((data_dir / "firmware" / "downloads" / "partial").iterdir())


def test_a_second_update_or_a_terminal_start_leaves_a_running_update_alone(
    repo: Repo, data_dir: Path
):
    """Another process on the same data directory (a second ``posemu firmware update``, or a
    ``posemu pay`` whose start runs on_boot) must neither race the download nor declare the
    live update interrupted and clean its staging."""
    from firmware_update import on_boot

    repo.publish("1.1.0", size=300_000)
    seen: list[object] = []

    def meanwhile(state: State, done: int, total: int) -> None:
        if state is State.DOWNLOADING and done and not seen:
            seen.append(on_boot(data_dir))
            seen.append(read_status(data_dir)["state"])
            seen.append(asyncio.run(Updater(data_dir, repo.url).run()))

    outcome = run(data_dir, repo, progress=meanwhile)
    assert seen[1] == "downloading"  # on_boot did not call the live download interrupted
    second = seen[2]
    assert second.reason is Reason.BUSY, second
    assert outcome.state is State.COMMITTED, outcome
    assert str(outcome.running) == "1.1.0"


def test_old_packages_and_abandoned_partial_downloads_do_not_pile_up(repo: Repo, data_dir: Path):
    """A terminal's storage is small: after an update only the installed package is kept."""
    downloads = data_dir / "firmware" / "downloads"
    assert run(data_dir, repo).state is State.COMMITTED  # 1.0.0
    target = repo.publish("1.1.0", size=300_000)
    repo.faults.cut_after["posemu-firmware-1.1.0"] = target.stat().st_size // 2
    assert run(data_dir, repo, retries=0).state is State.FAILED
    assert list((downloads / "partial").iterdir())  # kept to resume 1.1.0 ...
    repo.publish("1.2.0")  # ... which is abandoned for a newer release
    assert run(data_dir, repo).state is State.COMMITTED
    packages = sorted(p.name for p in downloads.glob("*.tar.gz"))
    assert packages == ["posemu-firmware-1.2.0.tar.gz"]
    assert not list((downloads / "partial").iterdir())


def test_flipped_bytes_are_a_hash_mismatch(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    target = repo.publish("1.1.0")
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    assert_refused(data_dir, run(data_dir, repo), Reason.HASH_MISMATCH, "1.0.0")
    assert footer(data_dir) == ["firmware 1.0.0"]


def test_package_replaced_by_another_signed_package_is_refused(repo: Repo, data_dir: Path):
    old = repo.publish("1.0.1", size=1024)  # a genuine, signed, smaller package
    target = repo.publish("1.1.0", size=4096)
    shutil.copyfile(old, target)
    assert_refused(data_dir, run(data_dir, repo), Reason.HASH_MISMATCH, "0.0.0")


def test_replayed_timestamp_is_refused(repo: Repo, data_dir: Path):
    timestamp = repo.dir / "metadata" / "timestamp.json"
    old = timestamp.read_bytes()
    run(data_dir, repo)
    repo.publish("1.1.0")
    assert run(data_dir, repo).state is State.COMMITTED
    timestamp.write_bytes(old)  # an attacker replays yesterday's timestamp
    outcome = run(data_dir, repo)
    assert_refused(data_dir, outcome, Reason.REPLAYED_METADATA, "1.1.0")


def test_replayed_snapshot_is_refused(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    repo.publish("1.1.0")
    meta = repo.dir / "metadata"
    (meta / "2.snapshot.json").write_bytes((meta / "1.snapshot.json").read_bytes())
    assert_refused(data_dir, run(data_dir, repo), Reason.REPLAYED_METADATA, "1.0.0")


def test_expired_metadata_is_refused(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    repo.publish("1.1.0", now=datetime.now(UTC) - timedelta(days=30))
    outcome = run(data_dir, repo)
    assert_refused(data_dir, outcome, Reason.EXPIRED_METADATA, "1.0.0")
    assert "expired" in outcome.message


class _RoguePublisher(Publisher):
    def _check_keys(self, root) -> None:  # the attacker does not care what root trusts
        pass


def test_package_signed_with_the_wrong_key_is_refused(repo: Repo, data_dir: Path, tmp_path):
    run(data_dir, repo)
    signers = dict(repo.signers)
    signers["targets"] = CryptoSigner.generate_ed25519()
    target = repo.root / "evil"
    target.mkdir()
    (target / "app.bin").write_bytes(b"evil")
    from firmware_update.package import build_package
    from firmware_update.versions import Version

    archive = tmp_path / "evil.tar.gz"
    manifest = build_package(target, archive, Version.parse("9.0.0"))
    _RoguePublisher(repo.dir, signers).publish(archive, manifest)
    outcome = run(data_dir, repo)
    assert_refused(data_dir, outcome, Reason.BAD_SIGNATURE, "1.0.0")
    assert repo.faults.bytes_sent("posemu-firmware-9.0.0") == 0


def test_timestamp_signed_with_the_wrong_key_is_refused(repo: Repo, data_dir: Path):
    path = repo.dir / "metadata" / "timestamp.json"
    md = Metadata.from_file(str(path))
    md.signed.version += 1
    md.signatures.clear()
    md.sign(CryptoSigner.generate_ed25519())
    md.to_file(str(path))
    assert_refused(data_dir, run(data_dir, repo), Reason.BAD_SIGNATURE, "0.0.0")


def test_server_sending_more_than_the_signed_length_is_too_large(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    target = repo.publish("1.1.0")
    with open(target, "ab") as handle:
        handle.write(b"\0" * 100_000)  # endless data
    outcome = run(data_dir, repo)
    assert_refused(data_dir, outcome, Reason.TOO_LARGE, "1.0.0")


def test_package_over_the_size_limit_is_not_even_downloaded(repo: Repo, data_dir: Path):
    outcome = run(data_dir, repo, max_size=1000)
    assert_refused(data_dir, outcome, Reason.TOO_LARGE, "0.0.0")
    assert repo.faults.bytes_sent("posemu-firmware-1.0.0") == 0


def test_signed_downgrade_below_the_minimum_version_is_refused(repo: Repo, data_dir: Path):
    repo.publish("2.0.0", min_version="2.0.0")
    assert run(data_dir, repo).state is State.COMMITTED
    assert read_status(data_dir)["floor"] == "2.0.0"
    repo.publish("1.5.0")  # correctly signed, newest published, but older
    outcome = run(data_dir, repo)
    assert_refused(data_dir, outcome, Reason.DOWNGRADE, "2.0.0")
    assert "1.5.0" in outcome.message
    assert "2.0.0" in outcome.message
    assert repo.faults.bytes_sent("posemu-firmware-1.5.0") == 0


def test_failing_health_check_rolls_back_and_restarts_the_old_slot(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    repo.publish("1.1.0")
    restarts: list[str] = []

    async def restart(path, manifest):
        restarts.append(str(manifest.version) if manifest else "factory")

    outcome = run(
        data_dir,
        repo,
        restart=restart,
        health_check=lambda path, manifest: Health(False, "sign-on to the host failed"),
    )
    assert outcome.state is State.ROLLED_BACK
    assert outcome.reason is Reason.HEALTH_CHECK_FAILED
    assert "rolled back from 1.1.0 to 1.0.0: sign-on to the host failed" in outcome.message
    assert restarts == ["1.1.0", "1.0.0"]
    status = read_status(data_dir)
    assert status["running"] == "1.0.0"
    assert status["floor"] == "1.0.0"
    assert footer(data_dir) == ["firmware 1.0.0"]


def test_health_check_that_hangs_times_out_and_rolls_back(repo: Repo, data_dir: Path):
    async def hang(path, manifest):
        await asyncio.sleep(30)

    outcome = run(data_dir, repo, health_check=hang, health_timeout=0.2)
    assert outcome.state is State.ROLLED_BACK
    assert outcome.reason is Reason.HEALTH_CHECK_TIMEOUT
    assert str(outcome.running) == "0.0.0"


def test_no_install_during_a_transaction(repo: Repo, data_dir: Path):
    async def scenario():
        busy = asyncio.Lock()
        await busy.acquire()  # a sale is in progress
        updater = Updater(data_dir, repo.url, idle=lambda: busy)
        task = asyncio.create_task(updater.run())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if read_status(data_dir)["state"] == "verifying":
                break
        await asyncio.sleep(0.1)
        assert not task.done()
        assert not (data_dir / "firmware" / "slots" / "b").exists()
        busy.release()  # the sale is over
        return await task

    assert asyncio.run(scenario()).state is State.COMMITTED


def test_unprovisioned_terminal_refuses(repo: Repo, tmp_path: Path):
    outcome = run(tmp_path / "fresh", repo)
    assert outcome.reason is Reason.NOT_PROVISIONED
    assert not outcome.ok


def test_package_for_another_model_is_not_installed(repo: Repo, data_dir: Path):
    run(data_dir, repo)
    repo.publish("1.1.0", models=("PAX-A920",))
    outcome = run(data_dir, repo, model="posemu")
    assert outcome.ok
    assert str(outcome.running) == "1.0.0"
    assert run(data_dir, repo, model="PAX-A920").state is State.COMMITTED
