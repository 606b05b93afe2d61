#!/usr/bin/env bash
# Scale-out, proven: 2 Apis and 3 Workers (Release builds) on one PostgreSQL, a fake Twilio on
# loopback; COUNT appointments (5,000) pushed over both Apis with a reminder due at once; then
# each SMS must have left exactly once. Prints the figures; exits non-zero on any loss or duplicate.
#   bench/scale-out.sh      (env: COUNT=5000 TIMEOUT=900 CONCURRENCY=16 WORKER_POOL=72 API_POOL=20 Dispatch__Parallelism (product default)
#                            WORKERS=3 CAP= STOP_AFTER= STOP_SIGNAL=TERM)
# Traffic stays on 127.0.0.1. Everything it starts is stopped at the end (by pid).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
COUNT=${COUNT:-5000}
TIMEOUT=${TIMEOUT:-900}
CONCURRENCY=${CONCURRENCY:-16}
# Workers started, and the account's Twilio rate they share (contract §9.8). With CAP set, the Workers
# start only once every appointment is pushed, so that the whole burst is due at once and the rate,
# not the push, is what the figures measure.
WORKERS=${WORKERS:-3}
CAP=${CAP:-}
# STOP_AFTER=s: s seconds after the Workers start, worker-1 gets STOP_SIGNAL (TERM: a deploy; KILL: a
# crash), to see its share go to the others (the contract: within a minute). The rate after it is printed.
STOP_AFTER=${STOP_AFTER:-}
STOP_SIGNAL=${STOP_SIGNAL:-TERM}
data=.data/bench-scale-out
logs=$data/logs

pids=()
cleanup() {
  trap - EXIT INT TERM
  [[ -f "$data/worker-pids" ]] && pids+=($(cat "$data/worker-pids"))
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop "$data"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

echo "Building (Release)..."
dotnet build RappelRdv.sln -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null

pg_stop "$data"; rm -rf "$data"; mkdir -p "$logs"
# Durable settings (no 'fast'): fsync and synchronous commit as in production.
pg_start "$data"
# Each process names itself (pg_stat_activity.application_name) and caps its pools: every process
# has two (Npgsql's data source, and Hangfire's), so one process holds at most 2 x the pool size.
base_cs="${ConnectionStrings__Postgres%%;Maximum Pool Size=*}"
# The Workers run the product's dispatch defaults (Dispatch__Parallelism and Dispatch__Groups unset unless
# given): a Worker's data source needs Dispatch__Slices x (Dispatch__Groups + 2) + 4 (docs/OPERATIONS.md).
WORKER_POOL=${WORKER_POOL:-72}
API_POOL=${API_POOL:-20}
cs() { echo "$base_cs;Maximum Pool Size=$2;Application Name=$1"; }
export ConnectionStrings__Postgres=$(cs driver 4)
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$base_cs")

# Ports: each the first free one from its own start, so that they never collide.
twilio_port=$(pg_free_port 5190)
api1_port=$(pg_free_port 5181)
api2_port=$(pg_free_port $((api1_port + 1)))
[[ $api2_port == "$twilio_port" ]] && api2_port=$(pg_free_port $((twilio_port + 1)))

export ASPNETCORE_ENVIRONMENT=Production
export Admin__ApiKey=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
export PublicBaseUrl=http://127.0.0.1:$api1_port
bin() { echo "$1/bin/Release/net10.0/$2.dll"; }

dotnet "$(bin bench/ScaleOut RappelRdv.Bench.ScaleOut)" fake-twilio --urls "http://127.0.0.1:$twilio_port" >"$logs/twilio.log" 2>&1 &
pids+=($!)

for port in "$api1_port" "$api2_port"; do
  ConnectionStrings__Postgres=$(cs "api-$port" "$API_POOL") ASPNETCORE_URLS=http://127.0.0.1:$port dotnet "$(bin src/Api RappelRdv.Api)" >"$logs/api-$port.log" 2>&1 &
  pids+=($!)
done

start_workers() {
  for n in $(seq 1 "$WORKERS"); do
    ConnectionStrings__Postgres=$(cs "worker-$n" "$WORKER_POOL") Twilio__AccountSid=ACbench0000000000000000000000000 Twilio__AuthToken=bench-auth-token-0123456789abcdef0123 \
    Twilio__ApiBaseUrl=http://127.0.0.1:$twilio_port Twilio__FromNumber=+33700000000 Twilio__MaxRequestsPerSecond=${CAP:-50} \
      dotnet "$(bin src/Worker RappelRdv.Worker)" >"$logs/worker-$n.log" 2>&1 &
    echo $! >>"$data/worker-pids"
  done
  if [[ -n "$STOP_AFTER" ]]; then
    ( sleep "$STOP_AFTER"
      kill -"$STOP_SIGNAL" "$(head -1 "$data/worker-pids")"
      psql_bench "select now()" >"$data/stopped-at"
      echo "worker-1 sent SIG$STOP_SIGNAL at $(cat "$data/stopped-at")" ) &
    pids+=($!)
  fi
}
psql_bench() { PGPASSWORD=$(cat "$data/password") "$(pg_bindir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d rappel -tAc "$1"; }
if [[ -z "$CAP" ]]; then
  start_workers
else
  ( until [[ $(psql_bench "select count(*) from messages where status = 'pending' and kind = 'reminder'" 2>/dev/null || echo 0) -ge $COUNT ]]; do sleep 1; done
    start_workers ) &
  pids+=($!)
fi

(
  for _ in $(seq 1 $(( (TIMEOUT + 300) / 2 ))); do
    PGPASSWORD=$(cat "$data/password") "$(pg_bindir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d rappel -tAc \
      "select application_name, count(*) from pg_stat_activity where datname = 'rappel' and application_name <> '' group by 1" 2>/dev/null
    sleep 2
  done
) >"$logs/connections.log" &
pids+=($!)

echo "PostgreSQL, fake Twilio :$twilio_port, Apis :$api1_port :$api2_port, $WORKERS Workers${CAP:+ sharing an account rate of $CAP/s} (Dispatch__Parallelism=${Dispatch__Parallelism:-default}, pools $WORKER_POOL/$API_POOL); logs in $logs"
set +e
dotnet "$(bin bench/ScaleOut RappelRdv.Bench.ScaleOut)" drive \
  --apis "http://127.0.0.1:$api1_port,http://127.0.0.1:$api2_port" --twilio "http://127.0.0.1:$twilio_port" \
  --admin-key "$Admin__ApiKey" --count "$COUNT" --timeout "$TIMEOUT" --concurrency "$CONCURRENCY"
status=$?
set -e
# The account's rate as Twilio saw it (sent_at, second by second): over the middle 60 % of the burst,
# and the most in any 5 s (the contract: at most 15 % over the rate, at least 90 % of it while work is due).
psql_bench "with s as (select date_trunc('second', sent_at) t, count(*) n from messages where kind = 'reminder' and sent_at is not null group by 1),
  b as (select min(t) t0, max(t) t1 from s),
  w as (select sum(n) over (order by t range between interval '4 seconds' preceding and current row) n5 from s)
  select format('Rate: %s SMS/s over the middle 60 %% of the burst; peak %s in 5 s (%s/s)',
    round((select sum(n) from s, b where s.t >= b.t0 + (b.t1 - b.t0) * 0.2 and s.t < b.t1 - (b.t1 - b.t0) * 0.2)
          / greatest(1, extract(epoch from (b.t1 - b.t0)) * 0.6)::numeric, 1),
    (select max(n5) from w), round((select max(n5) from w) / 5.0, 1)) from b"
if [[ -s "$data/stopped-at" ]]; then
  # From 5 s after the stop to 2 s before the last send: what the remaining Workers sent without worker-1.
  psql_bench "with s as (select date_trunc('second', sent_at) t, count(*) n from messages where kind = 'reminder' and sent_at is not null group by 1),
    b as (select '$(cat "$data/stopped-at")'::timestamptz + interval '5 seconds' t0, max(t) - interval '2 seconds' t1 from s)
    select format('After worker-1 stopped (SIG$STOP_SIGNAL): %s SMS/s from 5 s after the stop to the end of the burst (%s s); first send after the stop %s s later',
      round((select sum(n) from s, b where s.t >= b.t0 and s.t < b.t1) / greatest(1, extract(epoch from (b.t1 - b.t0)))::numeric, 1),
      round(extract(epoch from (b.t1 - b.t0))::numeric, 0),
      round(extract(epoch from ((select min(sent_at) from messages where kind = 'reminder' and sent_at > '$(cat "$data/stopped-at")'::timestamptz)
        - '$(cat "$data/stopped-at")'::timestamptz))::numeric, 2)) from b"
fi
for n in $(seq 1 "$WORKERS"); do
  echo "worker-$n: $(grep -c '"Sent {Kind}' "$logs/worker-$n.log" || true) SMS sent, $(grep -c '"@l":"Error"' "$logs/worker-$n.log" || true) errors logged"
done
echo "Peak PostgreSQL connections per process (pool cap $WORKER_POOL per Worker pool, $API_POOL per Api pool; max_connections 300):"
awk -F'|' '{ if ($2 > peak[$1]) peak[$1] = $2 } END { for (p in peak) printf "  %-12s %d\n", p, peak[p] }' "$logs/connections.log" | sort
exit $status
