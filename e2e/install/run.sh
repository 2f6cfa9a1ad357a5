#!/usr/bin/env bash
# «Install on a server» (README), as an operator does it on a fresh Debian
# machine: the package built by packaging/build-deb is installed with dpkg;
# its user, configuration (mode 0640, group baocao), unit and manual page
# are in place; the server is started the way the systemd unit starts it
# (its user, environment, working directory and command, read from the
# unit), the first administrator is made from the shell, signs in through
# the sign-in page and is asked to enrol a second factor; `baocao doctor`
# passes as the service's user; SIGTERM stops the server cleanly; removing
# the package keeps the data, purging it keeps the data too.
# Needs root (it installs a package). Refuses to run on a machine where
# baocao is installed already.
# Usage: BAOCAO_BIN=target/debug/baocao e2e/install/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "${BAOCAO_BIN:?set BAOCAO_BIN to the baocao binary}")"
fail() { echo "install check: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (it installs the package)"
if dpkg -s baocao >/dev/null 2>&1 || [ -e /var/lib/baocao ]; then
  fail "baocao is installed on this machine already; not touching it"
fi
work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  dpkg --purge baocao >/dev/null 2>&1 || true
  rm -rf /var/lib/baocao /etc/baocao "$work"
  getent passwd baocao >/dev/null && deluser --quiet --system baocao >/dev/null 2>&1 || true
}
trap cleanup EXIT

deb="$("$here/../../packaging/build-deb" "$bin" "$work")"
dpkg -i "$deb" >/dev/null

# What the package put where.
[ -x /usr/bin/baocao ] || fail "no /usr/bin/baocao"
unit=/lib/systemd/system/baocao.service
[ -f "$unit" ] || fail "no systemd unit"
getent passwd baocao >/dev/null || fail "no baocao user"
[ "$(stat -c '%a %U %G' /etc/baocao/baocao.toml)" = "640 root baocao" ] || fail "configuration not 0640 root:baocao"
[ "$(stat -c '%U' /var/lib/baocao)" = baocao ] || fail "/var/lib/baocao not the service's"
zcat /usr/share/man/man1/baocao.1.gz | grep -q '^\.TH baocao 1' || fail "no manual page"
grep -q '^ProtectSystem=strict' "$unit" && grep -q '^NoNewPrivileges=yes' "$unit" || fail "the unit is not hardened"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" || fail "systemd-analyze refuses the unit"
fi

# The server as the unit starts it.
field() { sed -n "s/^$1=//p" "$unit" | head -n1; }
user="$(field User)"
dir="$(field WorkingDirectory)"
environment="$(field Environment)"
command="$(field ExecStart)"
# setpriv executes the command as the user (no process in between), as
# systemd does: the server's process is the one signalled.
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups --reset-env "$@"; }
as_service() { as_user env -C "$dir" "$environment" "$@"; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2086 # ExecStart is a command line: split as systemd splits it.
# Not through a function: `&` would put a subshell between the test and
# the server, and the signal would reach the subshell.
setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
  env -C "$dir" "$environment" BAOCAO_LISTEN="127.0.0.1:$port" CI=1 $command >"$work/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; fail "the server stopped"; }
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/serve.log" >&2; fail "the server is not ready"; }
[ -f /var/lib/baocao/baocao.db ] || fail "the database is not in /var/lib/baocao"

# The first administrator, from the shell, signs in through the page.
password="ngua vang qua cau song han"
printf '%s\n' "$password" | as_service /usr/bin/baocao users add quantri --name "Quản trị hệ thống" --password-stdin >/dev/null
as_service /usr/bin/baocao users grant quantri --role system_admin >/dev/null
jar="$work/cookies"
status="$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -c "$jar" -b "$jar" "$base/login" \
  --data-urlencode username=quantri --data-urlencode "password=$password" --data-urlencode next=/)"
[ "${status%% *}" = 303 ] || fail "sign-in answered $status"
# A system administrator must enrol a second factor first (the default policy).
page="$(curl -sS -L -b "$jar" "$base/")"
grep -q 'xác thực hai bước' <<<"$page" || fail "the signed-in administrator was not asked to enrol a second factor"

as_service /usr/bin/baocao doctor >"$work/doctor.txt" || { cat "$work/doctor.txt" >&2; fail "baocao doctor failed"; }
grep -q '^✓ migrations' "$work/doctor.txt" || fail "doctor did not find the schema up to date"

# SIGTERM (what systemd sends): the server finishes and exits cleanly.
kill -TERM "$server"
code=0; wait "$server" || code=$?
[ "$code" = 0 ] || { tail -5 "$work/serve.log" >&2; fail "the server did not stop cleanly on SIGTERM (exit $code)"; }
server=""

# Removed, the program goes and the province's data stays.
dpkg -r baocao >/dev/null
[ ! -e /usr/bin/baocao ] || fail "/usr/bin/baocao left after removal"
[ -f /var/lib/baocao/baocao.db ] || fail "the data went with the package"
echo "install check: the package installs, serves, signs in, passes doctor, stops and uninstalls"
