#!/usr/bin/env bash
# The fuzzer's long run (tests/Api.Tests/Fuzz/FuzzTests.cs): FUZZ_REQUESTS requests (default 20000)
# at every door of the Api, on a throwaway PostgreSQL; prints the figures line (requests, statuses, 5xx).
# FUZZ_SEED picks another sequence. Figures of the last run: docs/SECURITY.md, "The fuzzer".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

data=.data/fuzz-pg
pg_stop "$data"; rm -rf "$data"
trap 'pg_stop "$data"; rm -rf "$data"' EXIT
pg_start "$data" fast

echo "Building (Release)..." >&2
dotnet build tests/Api.Tests -c Release -nologo -v quiet -clp:ErrorsOnly >&2
started=$(date +%s)
FUZZ_REQUESTS=${FUZZ_REQUESTS:-20000} FUZZ_SEED=${FUZZ_SEED:-1312} \
  dotnet test tests/Api.Tests -c Release --no-build -nologo --filter "FullyQualifiedName~Fuzz.FuzzTests" \
  --logger "console;verbosity=detailed" | grep -E "fuzz:|Passed!|Failed!|Failed |Error Message" || true
echo "wall time: $(( $(date +%s) - started )) s"
