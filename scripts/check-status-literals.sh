#!/usr/bin/env bash
# Statuses are enums (pgward_api_types: ExecutionStatus, RestorationStatus, CheckStatus, DeliveryStatus,
# HealthStatus), stored as their snake_case text. Outside those enums' own conversions (`as_str`, `parse`
# in crates/api-types) no server code may spell a status value: a Rust literal ("running") or an SQL
# literal ('running') is a status the compiler cannot check. Raw SQL names them through constants built
# from `as_str()`. OpenAPI response descriptions (`description = "..."`) are prose, not values.
# Exits non-zero and lists the offending lines.
set -euo pipefail
cd "$(dirname "$0")/.."
words='queued|waiting|running|success|failed|cancelled|deleted|trashed|ok|healthy|unhealthy|unknown|sending|retrying'
hits="$(grep -rnE "\"($words)\"|'($words)'" --include='*.rs' crates/server/src | grep -vE 'description = "' || true)"
if [ -n "$hits" ]; then
  echo "status values spelled out instead of taken from their enum (crates/api-types):" >&2
  echo "$hits" >&2
  exit 1
fi
echo "status literals: none outside the enums"
