#!/usr/bin/env bash
# The headless browser that the admin's browser tests drive (tests/admin/test_admin_browser.py):
# Debian's chromium and chromedriver, installed when missing. Never fails the caller: without
# a browser only those tests fail, naming this script.
set -uo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests: chromium/chromedriver missing and apt-get unavailable;" \
    "install Debian's chromium and chromium-driver (or equivalents on PATH)" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing chromium and chromium-driver for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq chromium chromium-driver >/dev/null ||
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null; } ||
  echo "browser tests: could not install chromium and chromium-driver with apt-get" >&2
exit 0
