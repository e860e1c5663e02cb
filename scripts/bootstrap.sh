#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs motcua with its pinned dependencies.
#
# Usage: scripts/bootstrap.sh           (idempotent: does nothing when pyproject.toml is unchanged)
#        PYTHON=/path/to/python3.10 scripts/bootstrap.sh
#
# Rasa 3.6 needs Python 3.10 exactly. We look, in order, at $PYTHON, `python3.10` on PATH,
# and pyenv's 3.10 versions, and stop with one clear line when none exists.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.motcua-installed"

is_py310() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

find_python() {
  if [ -n "${PYTHON:-}" ]; then
    if is_py310 "$PYTHON"; then echo "$PYTHON"; return 0; fi
    echo "error: PYTHON=$PYTHON is not a Python 3.10 interpreter" >&2; return 1
  fi
  if command -v python3.10 >/dev/null 2>&1 && is_py310 python3.10; then
    command -v python3.10; return 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    local root v
    root=$(pyenv root)
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
      if is_py310 "$root/versions/$v/bin/python3.10"; then echo "$root/versions/$v/bin/python3.10"; return 0; fi
    done
  fi
  echo "error: motcua needs Python 3.10 (Rasa 3.6 does not run on 3.11+); none found. Install one (e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv') or set PYTHON=/path/to/python3.10." >&2
  return 1
}

want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

if [ ! -x "$VENV/bin/python" ] || ! is_py310 "$VENV/bin/python"; then
  py=$(find_python)
  echo "motcua: creating $VENV with $py"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
fi

echo "motcua: installing dependencies (first time: several minutes; torch and tensorflow are large)"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip>=23,<25"
"$VENV/bin/python" -m pip install --quiet -e ".[dev]"
"$VENV/bin/python" -m pip check
echo "$want" > "$STAMP"
echo "motcua: environment ready in $VENV"
