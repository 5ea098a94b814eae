#!/usr/bin/env bash
# Installs Debian's Chromium and its matching chromedriver for the coach-view browser tests
# (tests/test_view_browser.py). Nothing is downloaded outside the Debian archive: selenium
# is pointed at /usr/bin/chromium and /usr/bin/chromedriver.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    echo "chromium and chromedriver already installed: $(chromium --version 2>/dev/null || true)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium chromium-driver
chromium --version || true
