#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries the tests start a private cluster from are installed
# (Debian keeps them in /usr/lib/postgresql/<version>/bin). Installs the `postgresql` package when
# they are missing; needs root and the Debian mirrors.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries are missing and installing them needs root: apt-get install postgresql" >&2
  exit 1
fi
echo "==> installing PostgreSQL (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "postgresql installed but initdb not found" >&2; exit 1; }
# The tests run their cluster as the postgres user (initdb refuses root).
id postgres >/dev/null 2>&1 || { echo "the postgresql package did not create the postgres user" >&2; exit 1; }
