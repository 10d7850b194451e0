#!/usr/bin/env bash
# Installs what `npm start` and `npm test` lack on Debian 12 (as root): Debian packages, then npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  user-mode-linux ipvsadm iproute2 kmod util-linux procps psmisc curl python3
  pacemaker corosync pcs resource-agents ldirectord keepalived
  iputils-arping iputils-ping ndisc6 libxml2-utils hyperfine time
  slapd mariadb-server postgresql openssl dpkg-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci whenever node_modules is missing or older than the lockfile.
npm_ci() {
  # A node_modules that is a link belongs to another checkout (a git worktree): npm ci would empty it there.
  if [ -L "$1/node_modules" ]; then return; fi
  if [ ! -f "$1/node_modules/.package-lock.json" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $1" >&2
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci .
npm_ci packaging/sea
