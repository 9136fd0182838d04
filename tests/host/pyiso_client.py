"""A client of ``posemu host`` written from docs/host-protocol.md alone, with pyiso8583.

Runs in its own virtualenv (pyiso8583 and posemu are both imported as ``iso8583``) with
``cryptography`` for DES; nothing of posemu is imported. Argument: HOST:PORT. Prints one JSON
object: the response codes, whether the working keys' check values and the answer's MAC held.
"""

import json
import socket
import struct
import sys
from datetime import datetime

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from iso8583.specs import default_ascii as SPEC

import iso8583

TMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # "the default TMK"
TID, MID = "PYISO001", "PYISO0000000001"


def tdes_ecb(key, data, decrypt=False):
    cipher = Cipher(TripleDES(key), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(data) + op.finalize()


def retail_mac(key, data):
    """ISO 9797-1 algorithm 3, padding method 1, as the page describes it."""
    data = data + bytes(-len(data) % 8) if data else bytes(8)
    left, right = key[:8], key[8:]
    state = bytes(8)
    for i in range(0, len(data), 8):
        block = bytes(a ^ b for a, b in zip(state, data[i : i + 8], strict=True))
        state = tdes_ecb(left, block)
    return tdes_ecb(left, tdes_ecb(right, state, decrypt=True))


def kcv(key):
    return tdes_ecb(key, bytes(8))[:3]


class Link:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)

    def exchange(self, raw):
        self.sock.sendall(struct.pack(">H", len(raw)) + raw)
        size = struct.unpack(">H", self._read(2))[0]
        return self._read(size)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("host closed the connection")
            data += chunk
        return data


def times(now):
    return {
        "7": now.strftime("%m%d%H%M%S"),
        "12": now.strftime("%H%M%S"),
        "13": now.strftime("%m%d"),
    }


def with_mac(doc, key):
    """Field 64 last, its bit set; the MAC covers every byte before its 16 hex characters."""
    doc = dict(doc, **{"64": "0" * 16})
    raw, _ = iso8583.encode(doc, SPEC)
    raw = bytes(raw)
    return raw[:-16] + retail_mac(key, raw[:-16]).hex().upper().encode()


def main(address):
    link = Link(address)
    now = datetime.now().replace(microsecond=0)
    signon = {"t": "0800", "11": "000001", "41": TID, "42": MID, "70": "001", **times(now)}
    raw, _ = iso8583.encode(signon, SPEC)
    reply, _ = iso8583.decode(bytearray(link.exchange(bytes(raw))), SPEC)
    out = {"signon": reply.get("39")}
    block = bytes.fromhex(reply["62"])
    mac_key = tdes_ecb(TMK, block[19:35], decrypt=True)
    pin_key = tdes_ecb(TMK, block[:16], decrypt=True)
    out["kcv_ok"] = kcv(mac_key) == block[35:38] and kcv(pin_key) == block[16:19]

    sale = {
        "t": "0200", "2": "4761739001010119", "3": "000000", "4": "000000001000",
        "11": "000002", "14": "3012", "22": "012", "25": "00", "41": TID, "42": MID,
        "49": "156", "60": "000001", **times(now),
    }  # fmt: skip
    raw_reply = link.exchange(with_mac(sale, mac_key))
    reply, _ = iso8583.decode(bytearray(raw_reply), SPEC)
    out["sale"] = reply.get("39")
    out["rrn"] = reply.get("37")
    out["mac_ok"] = retail_mac(mac_key, raw_reply[:-16]).hex().upper() == reply.get("64")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
