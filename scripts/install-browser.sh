#!/usr/bin/env bash
# Installs Debian's Chromium for the web widget's browser tests (Playwright drives it; we never
# download a browser with `playwright install`). Idempotent; needs root (CI runs as root).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "motcua: the browser tests need Chromium: run 'sudo apt-get install -y chromium' once." >&2
  exit 1
fi
echo "motcua: installing Debian's chromium for the browser tests (about a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
