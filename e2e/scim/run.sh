#!/usr/bin/env bash
# SCIM conformance: serves a fresh baocao and runs scim2-tester against it.
# Usage: BAOCAO_BIN=target/debug/baocao e2e/scim/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
work="$(mktemp -d)"
venv="${E2E_VENV:-$work/venv}"
export BAOCAO_DATABASE_URL="sqlite:$work/scim.db"
. "$here/../serve.sh"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../requirements.txt"

"$bin" users add scim.admin --name "Đồng bộ tài khoản" >/dev/null
"$bin" users grant scim.admin --role system_admin >/dev/null
token="$("$bin" tokens create scim.admin --name scim-conformance --scope manage_accounts | tail -n1)"

start_server
SCIM_TOKEN="$token" "$venv/bin/python" "$here/conformance.py" "$base/scim/v2"
