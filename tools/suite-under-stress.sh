#!/usr/bin/env bash
# Runs the test suite RUNS times in a row (default 20) while a second copy of the repository is rebuilt
# from scratch in a loop beside it, to show that no test depends on having the CPU to itself.
# Stops at the first failure. Each run prints one line: its number, result, duration and the load.
#   tools/suite-under-stress.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
work=$(mktemp -d /tmp/rappel-stress.XXXX)
git clone -q . "$work/suite"
git clone -q . "$work/build"
source scripts/postgres.sh
pg_start "$work/suite/.data/pg" fast

stress() {
  while true; do
    dotnet build "$work/build/RappelRdv.sln" -c Debug --no-incremental -nologo -v quiet -clp:ErrorsOnly >/dev/null 2>&1 || true
  done
}
stress & stress_pid=$!
cleanup() { kill "$stress_pid" 2>/dev/null; pkill -P "$stress_pid" 2>/dev/null || true; pg_stop "$work/suite/.data/pg"; }
trap cleanup EXIT

dotnet build "$work/suite/RappelRdv.sln" -c Release -nologo -v quiet -clp:ErrorsOnly
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if dotnet test "$work/suite/RappelRdv.sln" -c Release --no-build -nologo -m:3 --logger "console;verbosity=minimal" >"$work/run-$i.log" 2>&1; then
    result=green
  else
    result=FAILED
  fi
  passed=$(grep -oE "Passed: +[0-9]+" "$work/run-$i.log" | awk '{s += $2} END {print s}')
  echo "run $i/$runs: $result, $passed passed, $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
  if [[ $result == FAILED ]]; then
    grep -E "^\s+Failed |Error Message" -A3 "$work/run-$i.log" | head -40
    echo "log: $work/run-$i.log"
    exit 1
  fi
done
echo "$runs runs green in a row"
