#!/usr/bin/env bash
# Intake benchmark: N appointments (default 20,000) pushed through PUT by 16 concurrent clients
# against one Api and a PostgreSQL on the same machine. Usage: bench/intake.sh [count] [concurrency]
# The Api is warmed up first with WARMUP PUTs (default 20,000): on 2 busy cores .NET needs about that
# many requests to finish compiling the hot paths, and an Api runs for days. WARMUP=2000 shows it cold.
source "$(dirname "$0")/common.sh"
count=${1:-20000}
concurrency=${2:-16}
bench_start
port=$(pg_free_port 5180)
bench_api "$port"
key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench"}')
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "${WARMUP:-20000}" --concurrency "$concurrency" 2>/dev/null | sed "s/^/warm-up /" >&2
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "$count" --concurrency "$concurrency"
