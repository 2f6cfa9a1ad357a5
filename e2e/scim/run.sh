#!/usr/bin/env bash
# SCIM conformance: serves a fresh baocao and runs scim2-tester against it.
# Usage: BAOCAO_BIN=target/debug/baocao e2e/scim/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
work="$(mktemp -d)"
venv="${E2E_VENV:-$work/venv}"
export BAOCAO_DATABASE_URL="sqlite:$work/scim.db"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../requirements.txt"

"$bin" users add scim.admin --name "Đồng bộ tài khoản" >/dev/null
"$bin" users grant scim.admin --role system_admin >/dev/null
token="$("$bin" tokens create scim.admin --name scim-conformance --scope manage_accounts | tail -n1)"

port="${SCIM_PORT:-18765}"
"$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
SCIM_TOKEN="$token" "$venv/bin/python" "$here/conformance.py" "http://127.0.0.1:$port/scim/v2"
