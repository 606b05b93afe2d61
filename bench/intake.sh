#!/usr/bin/env bash
# Intake benchmark: N appointments (default 20,000) pushed through PUT by 16 concurrent clients
# against one Api and a PostgreSQL on the same machine. Usage: bench/intake.sh [count] [concurrency]
# The Api is warmed up first with WARMUP PUTs (default 60,000): on 2 busy cores .NET's tiered compilation
# needs about that many requests to finish compiling the hot paths (after 20,000 it still compiled 1,569
# methods during the measured run, after 60,000 under 300), and an Api runs for days. WARMUP=2000 shows it cold.
# RISK=1: the tenant has a riskReminders rule (a call the day before, 20 % held out) and one citizen in
# five of those the run writes to missed an appointment last month, so that the creation batch's look-up
# finds something and a fifth of the plans are drawn again (docs/BENCHMARKS.md, "Intake").
# Around the measured run, on the same PostgreSQL, pgbench with the same clients for PGBENCH_SECONDS
# (default 15) each: a single-row upsert into a table shaped like appointments (bench/pgbench/upsert.sql,
# the reference), just before and just after the intake, and the SQL of a creating PUT
# (bench/pgbench/put.sql) after it; it prints them and intake / upsert.
# The load generator (bench/Bench/Intake.cs) is one thread and one keep-alive HTTP/1.1 connection per
# client with its requests built beforehand; CLIENT=httpclient sends them through .NET's HttpClient
# instead (the tool before 2026-12-07, heavier on the shared cores).
# PGSS=1: PostgreSQL loads pg_stat_statements and the script prints what the measured run's statements
# cost in the database (calls, mean and total time, rows).
[[ "${PGSS:-0}" == 1 ]] && export PG_OPTIONS="${PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements"
source "$(dirname "$0")/common.sh"
count=${1:-20000}
concurrency=${2:-16}
bench_start
port=$(pg_free_port 5180)
# The Api's content root is its own directory, as in the container (WORKDIR /app): run from the
# repository, the root would be the checkout, and the configuration's file watchers would wake up for
# every write PostgreSQL makes under .data/ (5 % of the Api's CPU in a profile).
ASPNETCORE_CONTENTROOT="$PWD/src/Api/bin/Release/net10.0" bench_api "$port"
if [[ "${RISK:-0}" == 1 ]]; then
  key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench","riskReminders":{"minNoShows":1,"lookbackDays":365,"add":[{"channel":"voice","before":"P1D"}],"holdoutPercent":20}}')
  # The Intake tool's citizen i has the number 06 followed by i on 8 digits.
  bench_psql -c "insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone, phone_is_mobile,
      channel, mode, holdout, content_hash, created_at, updated_at)
    select t.id, 'past-' || i, now() - interval '30 days', 30, 'scheduled', 'no_show', '+336' || lpad(i::text, 8, '0'), true,
      'sms', 'in_person', false, '\\x'::bytea, now(), now()
    from tenants t, generate_series(0, greatest($count, ${WARMUP:-60000}) - 1, 5) i where t.slug = 'bench'"
else
  key=$(bench_tenant "$port" '{"slug":"bench","name":"Bench"}')
fi
bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "${WARMUP:-60000}" --concurrency "$concurrency" --client "${CLIENT:-raw}" 2>/dev/null | sed "s/^/warm-up /" >&2

# pgbench on the same server, same clients, same durability (fsync and synchronous_commit on, as set
# by scripts/postgres.sh), prepared statements as the Api's (Npgsql's automatic preparation).
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tenant=$(bench_psql -tAc "select id from tenants where slug = 'bench'")
bench_psql -c "set client_min_messages = warning" -c "drop table if exists pgbench_appointments" -c "create table pgbench_appointments (like appointments including all)"
pgbench_tps() { # pgbench_tps <script>: transactions per second
  PGPASSWORD=$(cat "$bench_data/password") "$pg_bin/pgbench" -h 127.0.0.1 -p "$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$ConnectionStrings__Postgres")" \
    -U postgres -n -M prepared -c "$concurrency" -j 2 -T "${PGBENCH_SECONDS:-15}" -D tenant="$tenant" -f "$1" rappel 2>/dev/null \
    | sed -nE 's/^tps = ([0-9.]+) .*/\1/p'
}
# The reference is run just before and just after the measured intake: on a machine shared with
# other work the load moves, and the two figures show by how much.
upsert_before=$(pgbench_tps bench/pgbench/upsert.sql)

# Where the CPU goes during the measured run (the machine's 2 cores are shared by all three): the Api,
# PostgreSQL (the postmaster's children) and the load generator (this shell's children), from /proc.
cpu_ticks() { local sum=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$sum"; }
pg_pids() { local pm; pm=$(head -n 1 "$bench_data/cluster/postmaster.pid"); echo "$pm"; awk -v pm="$pm" '$4 == pm {print $1}' /proc/[0-9]*/stat 2>/dev/null; }
# `times` in this shell, not in a $(…) subshell: it counts the children this shell waited for.
client_ticks() { times > .data/logs/intake-times; tail -n 1 .data/logs/intake-times | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 100 }'; }
api_before=$(cpu_ticks "${pids[0]}"); pg_before=$(cpu_ticks $(pg_pids)); client_ticks > .data/logs/intake-client; client_before=$(cat .data/logs/intake-client)
[[ "${PGSS:-0}" == 1 ]] && bench_psql -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null
result=$(bench_tool intake --api "http://127.0.0.1:$port" --key "$key" --count "$count" --concurrency "$concurrency" --client "${CLIENT:-raw}")
api_cpu=$(( $(cpu_ticks "${pids[0]}") - api_before )); pg_cpu=$(( $(cpu_ticks $(pg_pids)) - pg_before )); client_ticks > .data/logs/intake-client; client_cpu=$(( $(cat .data/logs/intake-client) - client_before ))
echo "$result"
[[ "${PGSS:-0}" == 1 ]] && bench_psql -c "select calls, round(mean_exec_time::numeric,3) mean_ms, round(total_exec_time::numeric) total_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 60) from pg_stat_statements order by total_exec_time desc limit 6"
seconds=$(sed -nE 's/.* clients, ([0-9.]+) s,.*/\1/p' <<<"$result")
awk -v a="$api_cpu" -v p="$pg_cpu" -v c="$client_cpu" -v s="$seconds" -v n="$count" 'BEGIN {
  printf "CPU during the run (%.1f s): Api %.1f s, PostgreSQL %.1f s, load generator %.1f s; per PUT: Api %.0f us, PostgreSQL %.0f us\n",
    s, a / 100, p / 100, c / 100, a * 10000 / n, p * 10000 / n }'

upsert_after=$(pgbench_tps bench/pgbench/upsert.sql)
put=$(pgbench_tps bench/pgbench/put.sql)
intake=$(sed -nE 's/.* ([0-9]+) upserts\/s.*/\1/p' <<<"$result")
printf 'pgbench (%s clients, %s s each): single-row upsert %.0f/s before the intake, %.0f/s after; the SQL of a PUT %.0f/s\n' \
  "$concurrency" "${PGBENCH_SECONDS:-15}" "$upsert_before" "$upsert_after" "$put"
awk -v i="$intake" -v b="$upsert_before" -v a="$upsert_after" -v p="$put" 'BEGIN {
  printf "intake / pgbench upsert = %.2f (against their mean; %.2f to %.2f; target 0.40); intake / pgbench PUT SQL = %.2f\n",
    2 * i / (b + a), i / (b > a ? b : a), i / (b > a ? a : b), i / p }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
