#!/usr/bin/env bash
# Where the intake's CPU goes: bench/intake.sh's set-up (a PostgreSQL, an Api in Release, a tenant, WARMUP
# PUTs, default 60,000), then `perf record` with call graphs for 8 s while COUNT (default 30,000) PUTs of
# 16 clients run. Usage: bench/profile-intake.sh [count]. PROF=api (default) samples the Api's threads;
# PROF=pg the whole machine (PostgreSQL's processes, the load generator and idle time, by `--comm`).
# Needs perf (Debian: apt-get install -y linux-perf). The Api writes its JIT map (/tmp/perf-<pid>.map) so
# that perf names .NET methods; the script prints how many methods the JIT compiled during the sampled run
# (a warm Api compiles almost none). Read the result with, for example:
#   perf report -i .data/profile/intake.data --no-children --sort symbol --stdio -g none | head -60
#   perf report -i .data/profile/intake.data --sort comm --stdio -g none
source "$(dirname "$0")/common.sh"
count=${1:-30000}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install -y linux-perf)" >&2; exit 1; }
bench_start
mkdir -p .data/profile
port=$(pg_free_port 5180)
export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0
ASPNETCORE_CONTENTROOT="$PWD/src/Api/bin/Release/net10.0" bench_api "$port"
key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench"}')
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "${WARMUP:-60000}" --concurrency 16 --client raw 2>/dev/null | sed "s/^/warm-up /" >&2
api_pid=$(pgrep -f "RappelRdv.Api.dll" | head -n 1)
jitted_before=$(wc -l < "/tmp/perf-$api_pid.map")
if [[ "${PROF:-api}" == pg ]]; then target=(-a); else target=(-p "$api_pid"); fi
perf record -F 999 -g "${target[@]}" -o .data/profile/intake.data -- sleep 8 >/dev/null 2>&1 &
perf_pid=$!
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "$count" --concurrency 16 --client raw
wait "$perf_pid" || true
echo "methods compiled by the JIT during the sampled run: $(( $(wc -l < "/tmp/perf-$api_pid.map") - jitted_before ))"
echo "profile: .data/profile/intake.data"
