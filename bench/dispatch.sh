#!/usr/bin/env bash
# Dispatch benchmark: 1,000,000 pending messages in the database, then bursts of 20,000 messages,
# sent by one Worker to a fake Twilio on loopback that answers in 50 ms.
#   run 1: all due at the same second, Twilio__MaxRequestsPerSecond=500: achieved rate / configured rate
#   run 2: due over one minute (every 9:00 appointment of a département), cap 500: dispatch lag
#   run 3: all due at the same second, no practical cap (10000, the highest accepted): messages per second
# Each run starts a Worker and warms it up with WARMUP (default 10,000) messages before the measured burst.
# Usage: bench/dispatch.sh [burst] [pending]; RUNS="capped minute uncapped" (the default) picks the runs.
source "$(dirname "$0")/common.sh"
burst=${1:-20000}
pending=${2:-1000000}
warmup=${WARMUP:-10000}
bench_start
port=$(pg_free_port 5180)
bench_api "$port"
bench_tenant "$port" '{"slug":"bench","name":"Bench","quietHours":null,"notifyOnCreate":false,"reminders":[{"channel":"sms","before":"P1D"}]}' >/dev/null

seed() { # seed <count> <due expression> <status>
  bench_psql <<SQL
insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, phone, phone_is_mobile, channel, mode,
    holdout, content_hash, created_at, updated_at)
select 1, '$3-' || i, now() + interval '2 days', 30, 'scheduled',
       '+336' || lpad(i::text, 8, '0'), true, 'sms', 'in_person', false, '\x00', now(), now()
from generate_series(1, $1) i;
insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, created_at, updated_at)
select gen_random_uuid(), a.id, 1, 'reminder', 'sms', 1, $2, 'pending', now(), now()
from appointments a where a.external_id like '$3-%';
analyze appointments; analyze messages;
SQL
}

echo "Seeding $pending pending messages due in 2 to 30 days..." >&2
started=$(date +%s)
seed "$pending" "now() + interval '2 days' + (random() * interval '28 days')" future
echo "  seeded in $(( $(date +%s) - started )) s" >&2

twilio_port=$(pg_free_port 5099)
bench_tool fake-twilio --port "$twilio_port" --latency-ms 50 --seconds 1800 &
pids+=($!)

worker() { # worker <max requests per second>
  Twilio__AccountSid=ACbench00000000000000000000000000 Twilio__AuthToken=bench-auth-token-0123456789abcdef0123 Twilio__FromNumber=+33700000000 \
  Twilio__ApiBaseUrl="http://127.0.0.1:$twilio_port" Twilio__MaxRequestsPerSecond="$1" Serilog__MinimumLevel=Warning \
    dotnet src/Worker/bin/Release/net10.0/RappelRdv.Worker.dll > .data/logs/bench-worker.log 2>&1 &
  worker_pid=$!
  pids+=($worker_pid)
}

clear_sent() {
  bench_psql -c "delete from messages where status <> 'pending' or due_at < now() + interval '1 day'" \
             -c "delete from appointments a where a.external_id like 'burst-%' or a.external_id like 'warm-%'"
}

run() { # run <label> <max requests per second> <seconds over which they fall due>
  clear_sent
  worker "$2"
  # A Worker runs for days: measure it warm. The first ten thousand sends of a fresh process run
  # while .NET is still compiling its hot paths, at about half the speed on this box.
  echo "== $1: warm-up, $warmup messages due now, cap $2/s" >&2
  seed "$warmup" "now()" warm
  bench_tool dispatch-report --db "$ConnectionStrings__Postgres" --expected "$warmup" --timeout-seconds 900 | sed 's/^/  warm-up /' >&2
  clear_sent
  echo "== $1: $burst messages due over $3 s, starting in 20 s, cap $2/s" >&2
  seed "$burst" "now() + interval '20 seconds' + ((row_number() over ()) * interval '$3 seconds' / $burst)" burst
  bench_tool dispatch-report --db "$ConnectionStrings__Postgres" --expected "$burst" --timeout-seconds 900
  kill "$worker_pid"; wait "$worker_pid" 2>/dev/null || true
}

runs=" ${RUNS:-capped minute uncapped} "
[[ $runs == *" capped "* ]] && run "burst, capped" 500 0
[[ $runs == *" minute "* ]] && run "one minute, capped" 500 60
[[ $runs == *" uncapped "* ]] && run "burst, uncapped" 10000 0
echo "pending messages left untouched: $(bench_psql -tAc "select count(*) from messages where status = 'pending'")" >&2
