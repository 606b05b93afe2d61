#!/usr/bin/env bash
# Shared by the benchmark scripts: a fresh PostgreSQL under .data/, Release builds, and cleanup.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bench_data=.data/bench-pg
pids=()
bench_cleanup() {
  # A backgrounded shell function (bench_tool … &) is a subshell: its dotnet child must be stopped too.
  for pid in "${pids[@]}"; do pkill -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop "$bench_data"
}
trap bench_cleanup EXIT

bench_start() {
  pg_stop "$bench_data"; rm -rf "$bench_data"
  pg_start "$bench_data"
  echo "Building (Release)..." >&2
  dotnet build RappelRdv.sln -c Release -nologo -v quiet -clp:ErrorsOnly >&2
  export Admin__ApiKey=bench-admin-key-0123456789abcdef0123456789
  mkdir -p .data/logs
}

# bench_api <port>: starts an Api on 127.0.0.1:<port> and waits until it is ready.
bench_api() {
  ASPNETCORE_URLS="http://127.0.0.1:$1" ASPNETCORE_ENVIRONMENT=Production Serilog__MinimumLevel=Warning \
    dotnet src/Api/bin/Release/net10.0/RappelRdv.Api.dll > ".data/logs/bench-api-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "Api on port $1 did not start" >&2; return 1
}

bench_tenant() { # bench_tenant <port> <json> → prints the apiKey
  curl -fsS -X POST "http://127.0.0.1:$1/v1/admin/tenants" -H "Authorization: Bearer $Admin__ApiKey" \
    -H 'Content-Type: application/json' -d "$2" | sed -E 's/.*"apiKey":"([^"]*)".*/\1/'
}

bench_tool() { dotnet bench/Bench/bin/Release/net10.0/RappelRdv.Bench.dll "$@"; }

bench_psql() {
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGPASSWORD=$(cat "$bench_data/password") "$bin/psql" -h 127.0.0.1 -p "$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$ConnectionStrings__Postgres")" \
    -U postgres -d rappel -v ON_ERROR_STOP=1 -q "$@"
}
