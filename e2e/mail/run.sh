#!/usr/bin/env bash
# Mail through a real SMTP server (aiosmtpd, writing what it receives to a
# Maildir): an account created by a provisioning client (SCIM) is mailed
# its activation link, which sets its password; «forgot password» mails a
# reset link; the day's reminders, run by an administrator, mail a task's
# notice; a restarted server sends nothing twice. check.py reads the
# messages as a mail client would (MIME, encoded Vietnamese subject, plain
# text and HTML parts) and follows their links like a browser.
# Usage: BAOCAO_BIN=target/debug/baocao e2e/mail/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
work="$(mktemp -d)"
venv="${E2E_VENV:-$work/venv}"
export BAOCAO_DATABASE_URL="sqlite:$work/mail.db" CI=1
. "$here/../serve.sh"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/../requirements.txt"

# A free port of loopback for the SMTP server, chosen by the system.
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/maildir/cur" "$work/maildir/new" "$work/maildir/tmp"
"$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$work/maildir" &
smtp=$!
trap 'kill "$smtp" 2>/dev/null || true; cleanup' EXIT
# aiosmtpd listens only once Python has imported it: the checks below
# (doctor first) need it up.
for _ in $(seq 100); do
  "$venv/bin/python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
  sleep 0.1
done

"$bin" users add mail.admin --name "Quản trị tài khoản" >/dev/null
"$bin" users grant mail.admin --role system_admin >/dev/null
token="$("$bin" tokens create mail.admin --name mail-check --scope manage_accounts | tail -n1)"

mail=(--smtp-url "smtp://127.0.0.1:$port" --mail-from "Hệ thống báo cáo <baocao@tinh-thu.gov.vn>")
# The operator's check greets the same server.
"$bin" doctor "${mail[@]}" >"$work/doctor.txt" || true
grep -q '^✓ mail' "$work/doctor.txt" || { cat "$work/doctor.txt" >&2; echo "doctor did not reach the SMTP server" >&2; exit 1; }
start_server "${mail[@]}"
"$venv/bin/python" "$here/check.py" "$base" "$token" "$work/maildir" first
# A plan's task due today, and the account that manages plans told of it
# by mail when an administrator runs the day's reminders.
printf 'TT,Tên nhiệm vụ,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn hoàn thành,Sản phẩm chính\n1,Kích hoạt tài khoản cán bộ xã mới,Sở Nội vụ,Các xã,%s,Tài khoản đã kích hoạt\n' \
  "$(TZ=Asia/Ho_Chi_Minh date +%d/%m/%Y)" >"$work/tasks.csv"
"$bin" tasks import "$work/tasks.csv" --plan "Kế hoạch 1/KH-UBND" >/dev/null
"$bin" users grant an.nv@tinh-thu.gov.vn --role system_admin >/dev/null
"$venv/bin/python" "$here/check.py" "$base" "$token" "$work/maildir" notice
# Stopped and started again on the same database: what was sent stays sent.
kill "$server"
wait "$server" 2>/dev/null || true
start_server "${mail[@]}"
"$venv/bin/python" "$here/check.py" "$base" "$token" "$work/maildir" again
