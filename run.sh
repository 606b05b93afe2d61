#!/usr/bin/env bash
# Builds, makes PostgreSQL available, starts the Api and the Worker, creates a demo tenant
# when there is none and prints its keys and the URLs. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
export ASPNETCORE_URLS=${ASPNETCORE_URLS:-http://127.0.0.1:5080}
api_url=${ASPNETCORE_URLS%%;*}
api_url=${api_url/0.0.0.0/127.0.0.1}
export PublicBaseUrl=${PublicBaseUrl:-$api_url}
mkdir -p .data

pids=()
started_pg=""
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "$started_pg" ]] && pg_stop "$started_pg"
  echo "Stopped."
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [[ -z "${ConnectionStrings__Postgres:-}" ]]; then
  pg_start .data/pg
  started_pg=.data/pg
fi

if [[ -z "${Admin__ApiKey:-}" ]]; then
  [[ -f .data/admin-key ]] || head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > .data/admin-key
  Admin__ApiKey=$(cat .data/admin-key)
  export Admin__ApiKey
fi

# Prometheus's own token for /metrics (the admin key is refused there).
if [[ -z "${Metrics__Token:-}" ]]; then
  [[ -f .data/metrics-token ]] || head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > .data/metrics-token
  Metrics__Token=$(cat .data/metrics-token)
  export Metrics__Token
fi

# Without a Twilio account the simulated provider sends nothing; this local token still signs and
# checks the requests that tools/citizen-reply.sh makes as Twilio would.
if [[ -z "${Twilio__AuthToken:-}" ]]; then
  [[ -f .data/twilio-token ]] || head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 > .data/twilio-token
  Twilio__AuthToken=$(cat .data/twilio-token)
  export Twilio__AuthToken
fi

echo "Building..."
dotnet build RappelRdv.sln -c Release -nologo -v quiet -clp:ErrorsOnly

mkdir -p .data/logs
# The demo-history endpoint exists only when asked for (or in Development): run.sh asks for it.
demo_history=false
[[ "${DEMO_HISTORY:-1}" != 0 ]] && demo_history=true
Demo__HistoryEndpoint=$demo_history dotnet src/Api/bin/Release/net10.0/RappelRdv.Api.dll > .data/logs/api.log 2>&1 &
pids+=($!)
dotnet src/Worker/bin/Release/net10.0/RappelRdv.Worker.dll > .data/logs/worker.log 2>&1 &
pids+=($!)

echo "Waiting for the Api at $api_url..."
for _ in $(seq 1 60); do
  curl -fs "$api_url/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$api_url/health/ready" >/dev/null || { echo "The Api did not become ready; see .data/logs/api.log"; exit 1; }

# The demo tenant: created once; on later starts its keys are rotated so that they can be shown again.
auth=(-H "Authorization: Bearer $Admin__ApiKey" -H "Content-Type: application/json")
if [[ $(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$api_url/v1/admin/tenants/demo") == 404 ]]; then
  keys=$(curl -fsS "${auth[@]}" -X POST "$api_url/v1/admin/tenants" \
    -d '{"slug":"demo","name":"Département de démonstration","timeZone":"Europe/Paris","holdoutPercent":10}')
  # Three months of made-up past appointments, so that the dashboard shows something; DEMO_HISTORY=0 skips it.
  if [[ "${DEMO_HISTORY:-1}" != 0 ]]; then
    if curl -fsS "${auth[@]}" -X POST "$api_url/v1/admin/tenants/demo/demo-history" >/dev/null; then
      echo "Demo tenant: three months of made-up history added (DEMO_HISTORY=0 skips it)."
    else
      echo "The demo history could not be added; see .data/logs/api.log. Carrying on without it."
    fi
  fi
else
  keys=$(curl -fsS "${auth[@]}" -X POST "$api_url/v1/admin/tenants/demo/keys")
fi
field() { sed -E "s/.*\"$1\":\"([^\"]*)\".*/\1/" <<<"$keys"; }

cat <<INFO

RappelRdv is running.
  Api            $api_url
  OpenAPI        $api_url/openapi/v1.json  (browsable: $api_url/docs)
  Health         $api_url/health/ready
  Hangfire       $api_url/hangfire  (admin key)
  Dashboard      $api_url/dashboard  (managerKey)
  Metrics        $api_url/metrics  (Metrics token: $Metrics__Token)
  Logs           .data/logs/api.log, .data/logs/worker.log

  Admin key      $Admin__ApiKey
  Demo tenant    demo
    apiKey         $(field apiKey)
    managerKey     $(field managerKey)
    webhookSecret  $(field webhookSecret)

Twilio: ${Twilio__AccountSid:+account $Twilio__AccountSid}${Twilio__AccountSid:-simulated (nothing leaves this machine)}
Try:  export KEY=$(field apiKey)
      curl -X PUT $api_url/v1/appointments/rdv-1 -H "Authorization: Bearer \$KEY" -H 'Content-Type: application/json' \\
        -d '{"startsAt":"$(date -u -d '+3 days' +%Y-%m-%dT09:30:00+01:00)","citizen":{"phone":"06 12 34 56 78"},"service":"RSA"}'
Ctrl-C stops everything.
INFO

wait -n "${pids[@]}" || true
echo "The Api or the Worker stopped by itself; see .data/logs/."
