# Sourced by the outside checks (e2e/*/run.sh): a fresh `baocao serve` on a
# free port of loopback, stopped with its work directory when the check
# ends. The port is the system's choice, not a fixed one: a server left
# running on the machine (by a developer or an earlier run) can never
# answer in place of the one under test.
#
# Expects `bin` (the binary) and `work` (a temporary directory); sets
# `server` (the process) and `base` (its URL, no trailing slash).
# `start_server` passes its arguments on to `serve`.

cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {
  local log="$work/serve.log"
  "$bin" serve --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do
    base="$(sed -n 's|.*serving on \(http://[^ ]*[^/ ]\)/* .*|\1|p' "$log" | head -n1)"
    [ -n "$base" ] && return 0
    if ! kill -0 "$server" 2>/dev/null; then
      cat "$log" >&2
      echo "baocao serve stopped before serving" >&2
      return 1
    fi
    sleep 0.5
  done
  cat "$log" >&2
  echo "baocao serve did not start within 60 s" >&2
  return 1
}
