#!/usr/bin/env bash
# Target 4 of docs/performance.md: resident memory of the server with the CPI loaded and
# idle, after one request of the bill page and one of an article page.
#
#   benches/memory.sh
#
# Run from the repository root after `cargo build --release` and benches/import.sh.
# Env: DATA (default /tmp/bench-data), PORT (default 8402), CARGO_TARGET_DIR (where the
# release binary is; default target).
set -euo pipefail

bin=${CARGO_TARGET_DIR:-target}/release/amenda
data=${DATA:-/tmp/bench-data}
port=${PORT:-8402}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -d "$data" ] || { echo "import first: benches/import.sh" >&2; exit 1; }

log=$(mktemp /tmp/amenda-memory-bench.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; fi
    rm -f "$log"
}
trap cleanup EXIT

"$bin" --data "$data" serve --port "$port" >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status"; }
echo "RSS after start: $(rss)"

wid=$(curl -sf "http://127.0.0.1:$port/api/v1/bills/cpi/versions/198" | python3 -c '
import json, sys
units = json.load(sys.stdin)["units"]
print(next(u["wid"] for u in units if u["kind"] == "article" and (u.get("num") or "").replace(" ", "").replace(".", "") == "L122-5"))')
curl -sf -o /dev/null "http://127.0.0.1:$port/bills/cpi"
curl -sf -o /dev/null "http://127.0.0.1:$port/bills/cpi/articles/$wid"
sleep 5
echo "RSS idle after one bill page and one article page ($wid), 5 s later: $(rss) (target < 100 MB)"
grep -E 'VmHWM' "/proc/$pid/status" | sed 's/^/peak /'
