#!/usr/bin/env bash
# Installs Debian's nginx for `motcua serve` (the load balancer) and the cluster tests.
# Idempotent; needs root (CI runs as root). motcua runs nginx itself as a child process with
# its own config under $MOTCUA_HOME, so Debian's service is stopped and left disabled.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "motcua: the load balancer needs nginx: run 'sudo apt-get install -y nginx' once." >&2
  exit 1
fi
echo "motcua: installing Debian's nginx for the load balancer (under a minute)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# policy-rc.d 101: do not start Debian's own nginx service on port 80 during the install.
policy=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
fi
apt-get install -y -qq --no-install-recommends nginx >/dev/null || status=$?
[ "$created" = 1 ] && rm -f "$policy"
exit "${status:-0}"
