#!/usr/bin/env bash
# The fault suite of docs/RELIABILITY.md: real processes (PostgreSQL, an Api, two Workers, a faulty
# Twilio, all Release builds on 127.0.0.1), one scenario per argument, each printing
#   lost L, duplicated D, recovered in T s
#   bench/faults.sh kill rolling-sigterm twilio-errors queued pg-restart calls-sigterm pg-pause stalling-agenda refused-calls   (or: all)
# env: COUNT=2000 (reminders due at once), PGPORT_START (first port tried for PostgreSQL).
# Everything it starts is stopped at the end, by pid; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

COUNT=${COUNT:-2000}
data=.data/bench-faults
logs=.data/bench-faults-logs
pids=()
declare -A worker
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}" "${worker[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" "${worker[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_postmaster_children CONT
  pg_stop "$data"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

bin() { echo "$1/bin/Release/net10.0/$2.dll"; }
faults() { dotnet "$(bin bench/Faults RappelRdv.Bench.Faults)" "$@"; }
now_ms() { date +%s%3N; }

# pg_postmaster_children <signal>: the postmaster and its backends, by pid (SIGSTOP/SIGCONT).
pg_postmaster_children() {
  local main
  main=$(head -n 1 "$data/cluster/postmaster.pid" 2>/dev/null) || return 0
  [[ -n "$main" ]] || return 0
  kill "-$1" "$main" $(pgrep -P "$main") 2>/dev/null || true
}

echo "Building (Release)..." >&2
dotnet build src/Api -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build src/Worker -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build bench/Faults -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null

# start_stack: a fresh durable PostgreSQL, the faulty Twilio, the Api, a tenant; Workers not yet.
start_stack() {
  for pid in "${pids[@]}" "${worker[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=(); worker=()
  pg_stop "$data"; rm -rf "$data" "$logs"; mkdir -p "$logs"
  pg_start "$data" 2>/dev/null
  base_cs=$ConnectionStrings__Postgres
  twilio_port=$(pg_free_port 5290)
  api_port=$(pg_free_port $((twilio_port + 1)))
  export ASPNETCORE_ENVIRONMENT=Production Serilog__MinimumLevel=Warning
  export Admin__ApiKey=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
  export PublicBaseUrl=http://127.0.0.1:$api_port
  # dotnet itself in the background, not the faults function: $! must be its pid, or cleanup
  # would kill a subshell and leave the fake Twilio running.
  dotnet "$(bin bench/Faults RappelRdv.Bench.Faults)" twilio --urls "http://127.0.0.1:$twilio_port" >"$logs/twilio.log" 2>&1 &
  pids+=($!)
  ASPNETCORE_URLS=http://127.0.0.1:$api_port dotnet "$(bin src/Api RappelRdv.Api)" >"$logs/api.log" 2>&1 &
  api_pid=$!; pids+=($api_pid)
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$api_port/health/ready" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$twilio_port/count" >/dev/null 2>&1 && break; sleep 1; done
  key=$(faults tenant --api "http://127.0.0.1:$api_port" --admin-key "$Admin__ApiKey")
}

set_faults() { curl -fsS -X POST "http://127.0.0.1:$twilio_port/faults" "$@" >/dev/null; }

# start_worker <n>: a Worker against the faulty Twilio (LEASE and VALIDITY from the scenario).
start_worker() {
  ConnectionStrings__Postgres="$base_cs;Application Name=worker-$1" \
  Twilio__AccountSid=ACbench0000000000000000000000000 Twilio__AuthToken=bench-auth-token-0123456789abcdef \
  Twilio__ApiBaseUrl=http://127.0.0.1:$twilio_port Twilio__FromNumber=+33700000000 \
  Twilio__RequestTimeout=00:00:03 Twilio__ValidityPeriod=${VALIDITY:-00:01:00} \
  Dispatch__ClaimLease=${LEASE:-00:02:00} Dispatch__RecoveryInterval=00:00:05 \
  Twilio__MaxCallsPerSecond=${CALLS_PER_SECOND:-1} \
    dotnet "$(bin src/Worker RappelRdv.Worker)" >>"$logs/worker-$1.log" 2>&1 &
  worker[$1]=$!
}

# stop_worker <n> <signal>: signals it and waits (bounded) for it to exit.
stop_worker() {
  local pid=${worker[$1]}
  kill "-$2" "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  wait "$pid" 2>/dev/null || true
}

load() { faults load --api "http://127.0.0.1:$api_port" --key "$key" "$@"; }
report() { faults report --twilio "http://127.0.0.1:$twilio_port" --fault-at "$fault_at" "$@"; }

scenario_kill() {
  LEASE=00:02:00 start_stack; load --count "$COUNT"
  start_worker 1; start_worker 2
  faults wait --sent 300
  fault_at=$(now_ms); stop_worker 1 KILL; start_worker 1
  report --count "$COUNT" --timeout 300
}

scenario_rolling_sigterm() {
  # The default lease (2 min): a message that waited for one would show in the recovery time.
  LEASE=00:02:00 start_stack; load --count "$COUNT"
  start_worker 1; start_worker 2
  faults wait --sent 300
  fault_at=$(now_ms); stop_worker 1 TERM; start_worker 1
  faults wait --sent $((COUNT / 2)); stop_worker 2 TERM; start_worker 2
  report --count "$COUNT" --timeout 300
}

scenario_twilio_errors() {
  # 15 % of sends answer 500 (not taken), 15 % are taken but answer after the Worker's 3 s timeout;
  # every list call fails for the first 60 s. A short lease and validity period keep the run short.
  export LEASE=00:00:30 VALIDITY=00:01:00
  start_stack; load --count "$COUNT"
  set_faults -d failPercent=15 -d timeoutPercent=15 -d timeoutSeconds=5 -d listFailSeconds=60
  fault_at=$(now_ms); start_worker 1; start_worker 2
  report --count "$COUNT" --timeout 600 --first-pass 1
  unset LEASE VALIDITY
}

scenario_queued() {
  # Twilio takes every message but lists none for 5 minutes; 10 % of answers are lost (timeouts);
  # a Worker is killed meanwhile. The validity period (6 min) outlasts the 5 minutes.
  export LEASE=00:00:30 VALIDITY=00:06:00
  start_stack; load --count "$COUNT"
  set_faults -d timeoutPercent=10 -d timeoutSeconds=5 -d listHiddenSeconds=300
  start_worker 1; start_worker 2
  faults wait --sent 300
  fault_at=$(now_ms); stop_worker 1 KILL; start_worker 1
  report --count "$COUNT" --timeout 900
  unset LEASE VALIDITY
}

scenario_pg_restart() {
  LEASE=00:02:00 start_stack; load --count "$COUNT"
  start_worker 1; start_worker 2
  faults wait --sent 300
  # What an agenda sees meanwhile: one GET every 250 ms for 40 s.
  (for _ in $(seq 1 160); do
     curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $key" "http://127.0.0.1:$api_port/v1/appointments/f-1"; sleep 0.25
   done) >"$logs/api-codes.log" &
  local probe=$!
  fault_at=$(now_ms)
  pg_as_owner "$(pg_bindir)/pg_ctl" -D "$data/cluster" -m fast -w -t 60 restart >/dev/null
  echo "  PostgreSQL restarted in $(( $(now_ms) - fault_at )) ms"
  report --count "$COUNT" --timeout 300
  wait "$probe" || true
  echo "  Api during the restart: $(sort "$logs/api-codes.log" | uniq -c | tr '\n' ' ')"
  echo "  first 2xx after the last 503: $(awk '/503/ { last = NR } END { print (last ? "line " last + 1 : "no 503 seen") }' "$logs/api-codes.log")"
}

scenario_calls_sigterm() {
  # One appointment in four is reached by a call. Calls have the account's own rate (1 a second by
  # default, shared by the Workers since issue 28): 500 calls would take 500 s at it. The fault here is
  # the SIGTERM, so the account is given 5 calls a second (dynamic scope: start_worker reads it).
  local CALLS_PER_SECOND=5
  LEASE=00:02:00 start_stack; load --count "$COUNT" --calls-every 4
  start_worker 1; start_worker 2
  faults wait --sent 300
  fault_at=$(now_ms); stop_worker 1 TERM; start_worker 1
  report --count "$COUNT" --timeout 300
}

scenario_pg_pause() {
  LEASE=00:02:00 start_stack
  start_worker 1; start_worker 2
  (for _ in $(seq 1 40); do awk '/VmRSS/ { print $2 }' "/proc/$api_pid/status"; sleep 1; done) >"$logs/api-rss.log" &
  local sampler=$!
  dotnet "$(bin bench/Faults RappelRdv.Bench.Faults)" flood --api "http://127.0.0.1:$api_port" --key "$key" --clients 64 --seconds 40 >"$logs/flood.log" 2>&1 &
  local flood=$!
  sleep 10
  fault_at=$(now_ms); pg_postmaster_children STOP
  sleep 20
  pg_postmaster_children CONT
  wait "$flood" || true
  wait "$sampler" || true
  cat "$logs/flood.log"
  echo "  Api memory (VmRSS, kB): min $(sort -n "$logs/api-rss.log" | head -n 1), max $(sort -n "$logs/api-rss.log" | tail -n 1) over $(wc -l <"$logs/api-rss.log") samples"
}

scenario_stalling_agenda() {
  # Contract §9.7: one tenant's agenda answers a 200 head then a byte every 5 s (for 10 min at most)
  # while its citizens confirm one every 2 s; the other tenant's waves of 50 reminders, 90 s apart,
  # must each leave with p95 <= 30 s, none lost, no connection to the agenda held over 30 s.
  # The Api checks the citizens' signed SMS with the fake account's token; both may reach loopback.
  export Webhooks__AllowPrivateNetworks=true Twilio__AccountSid=ACbench0000000000000000000000000
  export Twilio__AuthToken=bench-auth-token-0123456789abcdef Twilio__ApiBaseUrl=http://127.0.0.1:1 Twilio__FromNumber=+33700000000
  LEASE=00:02:00 start_stack
  start_worker 1; start_worker 2
  local agenda_port; agenda_port=$(pg_free_port $((api_port + 1)))
  faults isolation --api "http://127.0.0.1:$api_port" --admin-key "$Admin__ApiKey" --key "$key" \
    --twilio-token "$Twilio__AuthToken" --public-base-url "$PublicBaseUrl" --agenda-port "$agenda_port" \
    --waves "${WAVES:-4}" --wave-size 50 --wave-seconds 90 --drip-seconds 5 --stall-minutes 10
  unset Webhooks__AllowPrivateNetworks Twilio__AccountSid Twilio__AuthToken Twilio__ApiBaseUrl Twilio__FromNumber
}

scenario_refused_calls() {
  # Contract §9.1: two calls due together for one citizen and one for another; Twilio answers 500 to
  # the first call to each without placing it. Within 6 min (default lease, 2 min) each citizen has
  # exactly the calls it is owed, each once.
  LEASE=00:02:00 start_stack
  start_worker 1; start_worker 2
  faults refused-calls --api "http://127.0.0.1:$api_port" --key "$key" --twilio "http://127.0.0.1:$twilio_port" --timeout 360
}

[[ $# -gt 0 ]] || { echo "usage: bench/faults.sh kill|rolling-sigterm|twilio-errors|queued|pg-restart|calls-sigterm|pg-pause|stalling-agenda|refused-calls|all ..." >&2; exit 2; }
[[ "$1" == all ]] && set -- kill rolling-sigterm twilio-errors queued pg-restart calls-sigterm pg-pause stalling-agenda refused-calls
status=0
for scenario in "$@"; do
  echo "== $scenario (COUNT=$COUNT)"
  "scenario_${scenario//-/_}" || status=1
done
exit $status
