#!/usr/bin/env bash
# The OpenAPI document against the server, by schemathesis: every status
# code answered is documented, every documented body is what is sent, and
# no generated request makes the server fail (5xx).
# Usage: BAOCAO_BIN=target/debug/baocao e2e/api/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$(cd "$here/../../data" && pwd)"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
work="$(mktemp -d)"
venv="${E2E_VENV:-$work/venv}"
export BAOCAO_DATABASE_URL="sqlite:$work/api.db"
. "$here/../serve.sh"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../requirements.txt"

# The national registry, the demo's indicators, forms and regime: enough for
# every operation to reach its store and not only its checks.
"$bin" registry load-2025 "$data/vn-admin" --supplement "$data/supplements/special-zones-2025.csv" >/dev/null
"$bin" indicators import "$data/demo/indicators.csv" >/dev/null
for form in form-bm01-2024 form-bm01; do
  "$bin" forms import "$data/demo/$form.toml" >/dev/null
done
"$bin" regimes import "$data/demo/regime-monthly.toml" >/dev/null
# The output forms name the regime they consolidate.
for form in form-th01 form-th02; do
  "$bin" forms import "$data/demo/$form.toml" >/dev/null
done
"$bin" users add api.admin --name "Kiểm thử API" >/dev/null
"$bin" users grant api.admin --role system_admin >/dev/null
token="$("$bin" tokens create api.admin --name schemathesis | tail -n1)"

start_server

# A fixed seed: the same requests each run, so that a failure is the
# change's and can be replayed.
"$venv/bin/st" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "${API_EXAMPLES:-25}" --workers 1 --seed 20251130 --no-color
