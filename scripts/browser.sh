#!/usr/bin/env bash
# The headless browser the browser tests drive: Debian's chromium and its WebDriver.
# Installed only when missing (needs root, as on the development machines and CI).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
echo "installing chromium and chromium-driver (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
