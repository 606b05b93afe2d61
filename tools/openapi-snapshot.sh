#!/usr/bin/env bash
# Rewrites docs/openapi.json from the document the Api serves (run it after changing an endpoint or a
# Contracts record, then review the diff). Uses ConnectionStrings__Postgres, or a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ -z "${ConnectionStrings__Postgres:-}" ]]; then
  data=.data/openapi-pg
  pg_stop "$data"; rm -rf "$data"
  trap 'pg_stop "$data"; rm -rf "$data"' EXIT
  pg_start "$data" fast
fi

dotnet build tests/Api.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
UPDATE_OPENAPI_SNAPSHOT=1 dotnet test tests/Api.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~OpenApiDocumentTests.The_served_document_is_the_committed_one" --logger "console;verbosity=minimal"
git --no-pager diff --stat -- docs/openapi.json
