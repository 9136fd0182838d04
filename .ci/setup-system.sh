#!/usr/bin/env bash
# System packages the tests use (tmux for the TUI smoke test, socat for serial pty pairs,
# mosquitto as the real MQTT broker of the agent tests and the fleet benchmark).
# Installs only what is missing; needs root or passwordless sudo, otherwise the dependent tests skip.
set -u
missing=()
for tool in tmux socat; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# mosquitto lives in /usr/sbin, often not on a non-root PATH
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "setup-system: cannot install ${missing[*]} (not root); tests that need them will skip" >&2; exit 0
fi
$SUDO apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || echo "setup-system: apt-get install ${missing[*]} failed; tests that need them will skip" >&2
exit 0
