#!/usr/bin/env bash
# Intake benchmark: N appointments (default 20,000) pushed through PUT by 16 concurrent clients
# against one Api and a PostgreSQL on the same machine. Usage: bench/intake.sh [count] [concurrency]
source "$(dirname "$0")/common.sh"
count=${1:-20000}
concurrency=${2:-16}
bench_start
port=$(pg_free_port 5180)
bench_api "$port"
key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench"}')
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count 2000 --concurrency "$concurrency" >/dev/null  # warm-up
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "$count" --concurrency "$concurrency"
