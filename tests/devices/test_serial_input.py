"""Reader and scanner adapters over real pyserial transports: loop://, socket://, socat ptys."""

from __future__ import annotations

import threading

import pytest
import serial

from terminal.core.devices import DeviceError, DeviceTimeout
from terminal.core.reader_text import SwipeFailed, SwipeRead
from terminal.core.testcards import get_card
from terminal.devices.serial_link import Backoff, parse_device_url
from terminal.devices.serial_reader import SerialCardReader
from terminal.devices.serial_scanner import SerialCodeScanner
from terminal.devices.sim.transport import TcpEnd

from .conftest import wait_until

CARD = get_card("visa-approve")
SWIPE = (CARD.track1() + CARD.track2() + "\r").encode()
FAST = Backoff(first=0.05, limit=0.2)


def collect(device) -> tuple[list, threading.Event]:
    got: list = []
    seen = threading.Event()

    def listener(item) -> None:
        got.append(item)
        seen.set()

    device.subscribe(listener)
    return got, seen


def test_loop_reader_split_bytes(events) -> None:
    reader = SerialCardReader("loop://", emit=events)
    got, _ = collect(reader)
    reader.start()
    try:
        wait_until(lambda: reader.line.port is not None)
        port = reader.line.port
        for i in range(0, len(SWIPE), 3):  # three bytes per write: the parser sees fragments
            port.write(SWIPE[i : i + 3])
        port.write(b"\x00\xffnoise\r\n")
        port.write(b"\x02" + CARD.track2().encode() + b"\x03")
        wait_until(lambda: len(got) >= 2)
    finally:
        reader.stop()
    assert [type(o) for o in got] == [SwipeRead, SwipeRead]
    assert got[0].swipe.pan == CARD.pan
    assert events.conditions()[0] == "online"


def test_url_settings_and_errors() -> None:
    url = parse_device_url("/dev/ttyUSB0?baud=9600&parity=E&stopbits=2&rtscts=1", device="r")
    assert url.target == "/dev/ttyUSB0"
    assert url.settings == {"baudrate": 9600, "parity": "E", "stopbits": 2, "rtscts": True}
    sock = parse_device_url("socket://127.0.0.1:9?baudrate=19200&logging=debug", device="r")
    assert sock.target == "socket://127.0.0.1:9?logging=debug"
    for bad, words in (
        ("/dev/ttyS0?baud=fast", "baud rate"),
        ("/dev/ttyS0?parity=X", "parity"),
        ("/dev/ttyS0?speed=9600", "unknown URL parameter"),
        ("file:", "needs a path"),
        ("", "empty"),
    ):
        with pytest.raises(DeviceError, match=words):
            parse_device_url(bad, device="--reader x")
    with pytest.raises(DeviceError, match="file"):
        SerialCardReader("file:/tmp/x", emit=print)


def test_socket_reader_vanishes_mid_read_and_returns(events) -> None:
    """The simulator goes away mid-swipe: offline event, the terminal keeps going, and the
    adapter reconnects by itself when the device is back on the same port."""
    end = TcpEnd()
    port = int(end.label.rsplit(":", 1)[1])
    reader = SerialCardReader(end.label, emit=events, backoff=FAST)
    got, _ = collect(reader)
    reader.start()
    try:
        wait_until(lambda: end.write(b""))  # the reader connected
        end.write(SWIPE[:20])  # half a swipe, then the cable is pulled
        end.close()
        events.wait_for("offline")
        with pytest.raises(DeviceTimeout):
            reader.wait_swipe(0.1)  # a caller is told, not hung
        back = TcpEnd("127.0.0.1", port)
        try:
            events.wait_for("recovered")
            wait_until(lambda: back.write(b""))
            swipe = threading.Thread(target=lambda: back.write(SWIPE))
            threading.Timer(0.2, swipe.start).start()
            read = reader.wait_swipe(10)
            assert read.swipe.pan == CARD.pan
        finally:
            back.close()
    finally:
        reader.stop()
    assert any(isinstance(o, SwipeFailed) and "partial" in o.reason for o in got)
    assert CARD.pan not in " ".join(e.detail for e in events.items)


def test_socat_pty_reader_hot_plug(socat_pair, events) -> None:
    reader = SerialCardReader(str(socat_pair.a), emit=events, backoff=FAST)
    reader.start()
    try:
        events.wait_for("online")
        with serial.Serial(str(socat_pair.b)) as device, reader.expect_swipe() as swipe:
            device.write(SWIPE)  # listening first, as the CLI does: a fast read is not missed
            assert swipe.wait(10).swipe.pan == CARD.pan
        socat_pair.stop()  # unplugged
        events.wait_for("offline")
        socat_pair.start()  # plugged back in
        events.wait_for("recovered")
        with serial.Serial(str(socat_pair.b)) as device, reader.expect_swipe() as swipe:
            threading.Timer(0.2, lambda: device.write(b"garbage\r\n" + SWIPE)).start()
            assert swipe.wait(10).swipe.pan == CARD.pan
    finally:
        reader.stop()


def test_scanner_over_socket(events) -> None:
    end = TcpEnd()
    scanner = SerialCodeScanner(end.label, emit=events)
    scanner.start()
    try:
        wait_until(lambda: end.write(b""))
        code = "281234567890123456"
        threading.Timer(0.1, lambda: end.write(b"\x00" + code[:5].encode())).start()
        threading.Timer(0.3, lambda: end.write(code[5:].encode() + b"\r\n\r\n")).start()
        assert scanner.wait_code(10) == code
    finally:
        scanner.stop()
        end.close()


def test_missing_port_is_offline_not_a_crash(events, tmp_path) -> None:
    reader = SerialCardReader(str(tmp_path / "no-such-tty"), emit=events, backoff=FAST)
    reader.start()
    try:
        events.wait_for("offline")
        assert reader.state == "offline"
        with pytest.raises(DeviceTimeout, match="no swipe within"):
            reader.wait_swipe(0.05)
    finally:
        reader.stop()


def test_reader_preamble_from_the_url(events) -> None:
    reader = SerialCardReader("loop://?preamble=%1B%5B&postamble=%80", emit=events)
    reader.start()
    try:
        wait_until(lambda: reader.line.port is not None)
        with reader.expect_swipe() as expectation:
            reader.line.port.write(b"\x1b[" + SWIPE + b"\x80")
            assert expectation.wait(10).swipe.pan == CARD.pan
    finally:
        reader.stop()
