"""``python -m benchmarks``: run every benchmark in turn."""

from __future__ import annotations

import importlib
import sys

MODULES = [
    "benchmarks.iso8583_codec",
    "benchmarks.iso8583_bulk",
    "benchmarks.host_throughput",
    "benchmarks.host_abuse",
    "benchmarks.tui_latency",
    "benchmarks.devices",
    "benchmarks.cli_startup",
    "benchmarks.firmware_download",
    "benchmarks.fuzz",
    "benchmarks.fleet",
]

if __name__ == "__main__":
    for name in MODULES:
        print(f"== {name}", flush=True)
        code = importlib.import_module(name).main([])
        if code:
            sys.exit(code)
