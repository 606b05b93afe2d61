#!/usr/bin/env bash
# Builds and runs the whole test suite against a throwaway PostgreSQL (or ConnectionStrings__Postgres).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [[ -z "${ConnectionStrings__Postgres:-}" ]]; then
  data=.data/test-pg
  pg_stop "$data"; rm -rf "$data"
  trap 'pg_stop "$data"; rm -rf "$data"' EXIT
  pg_start "$data" fast
fi

# The dashboard's browser tests drive the distribution's Chromium (never a downloaded one). Without its
# recommended packages (printing, Samba, Avahi, Perl modules...): 19 packages instead of 130, 10 s instead of 33.
if [[ ! -x /usr/bin/chromium ]]; then
  echo "Installing chromium for the dashboard's browser tests..." >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
fi

echo "Building..." >&2
dotnet build RappelRdv.sln -c Release -nologo -v quiet -clp:ErrorsOnly
echo "Testing..." >&2
# The three test projects at once, each running several test classes at once (TestParallelism.cs):
# the tests mostly wait on PostgreSQL and child processes, and none measures time on a stopwatch.
dotnet test RappelRdv.sln -c Release --no-build -nologo -m:3 --logger "console;verbosity=minimal" "$@"
