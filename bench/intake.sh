#!/usr/bin/env bash
# Intake benchmark: N appointments (default 20,000) pushed through PUT by 16 concurrent clients
# against one Api and a PostgreSQL on the same machine. Usage: bench/intake.sh [count] [concurrency]
# The Api is warmed up first with WARMUP PUTs (default 20,000): on 2 busy cores .NET needs about that
# many requests to finish compiling the hot paths, and an Api runs for days. WARMUP=2000 shows it cold.
# RISK=1: the tenant has a riskReminders rule (a call the day before, 20 % held out) and one citizen in
# five of those the run writes to missed an appointment last month, so that the creation batch's look-up
# finds something and a fifth of the plans are drawn again (docs/BENCHMARKS.md, "Intake").
source "$(dirname "$0")/common.sh"
count=${1:-20000}
concurrency=${2:-16}
bench_start
port=$(pg_free_port 5180)
bench_api "$port"
if [[ "${RISK:-0}" == 1 ]]; then
  key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench","riskReminders":{"minNoShows":1,"lookbackDays":365,"add":[{"channel":"voice","before":"P1D"}],"holdoutPercent":20}}')
  # The Intake tool's citizen i has the number 06 followed by i on 8 digits.
  bench_psql -c "insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone, phone_is_mobile,
      channel, mode, holdout, content_hash, created_at, updated_at)
    select t.id, 'past-' || i, now() - interval '30 days', 30, 'scheduled', 'no_show', '+336' || lpad(i::text, 8, '0'), true,
      'sms', 'in_person', false, '\\x'::bytea, now(), now()
    from tenants t, generate_series(0, greatest($count, ${WARMUP:-20000}) - 1, 5) i where t.slug = 'bench'"
else
  key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench"}')
fi
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "${WARMUP:-20000}" --concurrency "$concurrency" 2>/dev/null | sed "s/^/warm-up /" >&2
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "$count" --concurrency "$concurrency"
