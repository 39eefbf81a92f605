#!/usr/bin/env bash
# Issue 4 (docs/performance.md, "Consultation pages under load"): with 1,000 amendments
# and 10,000 comments on the CPI, the article page of a consultation and the amendment
# list pages answer with p99 under 50 ms at 32 connections, with wrk on loopback.
#
#   benches/consultation_load.sh            SQLite in DATA
#   benches/consultation_load.sh --pg       PostgreSQL (a throwaway cluster, tests/support/pg.sh)
#
# Builds the data with benches/consultation_load.rs (`cargo bench --bench
# consultation_load`: the CPI history, a consultation on its latest version, the
# amendments and comments filed through the service layer), starts `amenda serve` on
# it, warms each page up, then runs `wrk -t2 -c32 -d15s --timeout 30s --latency` on:
#   article     /consultations/ID/articles/WID   (Article L122-5 with its comments)
#   list        /consultations/ID/amendments      (first page of 50)
#   list-p15    /consultations/ID/amendments?page=15
#   list-art    /consultations/ID/amendments?article=WID   (the busy article's amendments)
#   amendment   /bills/cpi/amendments/N            (the busy article's first amendment)
# and prints requests/s, p50 and p99 of each, as an anonymous visitor sees them.
#
# Run from the repository root after `cargo build --release`. Needs wrk and curl. Env:
# DATA (default /tmp/amenda-consultation-load), PORT (default 8440), DURATION (default
# 15s), CONNECTIONS (default 32), AMENDMENTS / BUSY / COMMENTS (the generator's, default
# 1000 / 30 / 10000), AMENDA_CORPUS (default ../shared/corpus), CARGO_TARGET_DIR
# (default target), SKIP_GENERATE=1 to reuse DATA as a previous SQLite run left it,
# LIVE_PAGES_MS (the server's `live_pages_ms`; 0 renders every request, to measure the
# rendering itself; default: the server's default, one second), WRITES_PER_S (during
# the measurements, that many write requests a second — anonymous comment forms, refused
# and sent to sign in, which empty the server's page cache as any write does — to see
# the cost of pages rendered again after every write; default 0).
set -euo pipefail

target=${CARGO_TARGET_DIR:-target}
bin=$target/release/amenda
data=${DATA:-/tmp/amenda-consultation-load}
port=${PORT:-8440}
duration=${DURATION:-15s}
conns=${CONNECTIONS:-32}
export DATA=$data
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }

pgdir="" amenda_pid=""
work=$(mktemp -d /tmp/amenda-consultation-load.XXXXXX)
cleanup() {
    if [ -n "$amenda_pid" ]; then kill "$amenda_pid" 2>/dev/null && wait "$amenda_pid" 2>/dev/null || true; fi
    if [ -n "$pgdir" ]; then tests/support/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
    rm -rf "$work"
}
trap cleanup EXIT
db_args=()
if [ "${1:-}" = --pg ]; then
    pgdir=$(mktemp -d /tmp/amenda-consultation-load-pg.XXXXXX)
    chmod 755 "$pgdir" # the cluster runs as user postgres
    url=$(tests/support/pg.sh start "$pgdir")
    export AMENDA_BENCH_DATABASE_URL=$url
    db_args=(--database-url "$url")
    unset SKIP_GENERATE
fi

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${SKIP_GENERATE:-}" = 1 ] && [ -f "$data/generated.txt" ]; then
    report=$(cat "$data/generated.txt")
    echo "== reusing $data:"
    echo "$report"
else
    echo "== generating (benches/consultation_load.rs)"
    report=$(cargo bench --quiet --bench consultation_load 2>/dev/null)
    echo "$report"
    echo "$report" >"$data/generated.txt"
fi
id=$(sed -n 's/^consultation \([0-9]*\)$/\1/p' <<<"$report")
wid=$(sed -n 's/^article \(.*\)$/\1/p' <<<"$report")
number=$(sed -n 's/^amendment \([0-9]*\)$/\1/p' <<<"$report")
[ -n "$id" ] && [ -n "$wid" ] && [ -n "$number" ] || { echo "the generator printed no consultation, article or amendment" >&2; exit 1; }

if [ -n "${LIVE_PAGES_MS:-}" ]; then
    echo "live_pages_ms = $LIVE_PAGES_MS" >"$work/amenda.toml"
    export AMENDA_CONFIG=$work/amenda.toml
    echo "== live_pages_ms = $LIVE_PAGES_MS"
fi
"$bin" --data "$data" serve --port "$port" "${db_args[@]}" >"$work/amenda.log" 2>&1 &
amenda_pid=$!
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
# The server makes the open-data folder in the background at start-up (about 10 s of
# CPU here); /opendata answers once it is made, so the measurements do not overlap it.
curl -sf -o /dev/null --max-time 600 "http://127.0.0.1:$port/opendata"

base=http://127.0.0.1:$port
pages=(
    "article /consultations/$id/articles/$wid"
    "list /consultations/$id/amendments"
    "list-p15 /consultations/$id/amendments?page=15"
    "list-art /consultations/$id/amendments?article=$wid"
    "amendment /bills/cpi/amendments/$number"
)

echo "== warming up (each page fetched 20 times; a 3 s wrk run on the article page)"
for p in "${pages[@]}"; do
    read -r name path <<<"$p"
    for _ in $(seq 20); do curl -sf -o "$work/$name.html" "$base$path"; done
    printf '%-10s %8s bytes, %4s comment items  %s\n' "$name" "$(stat -c %s "$work/$name.html")" \
        "$(grep -oE 'id="comment-[0-9]+"' "$work/$name.html" | wc -l)" "$path"
done
wrk -t2 -c"$conns" -d3s "$base/consultations/$id/articles/$wid" >/dev/null

# wrk URL -> "requests/s p50 p99 (errors)" (timeout raised so that slow replies count).
measure() {
    local out
    out=$(wrk -t2 -c"$conns" -d"$duration" --timeout 30s --latency "$1")
    echo "$out" >>"$work/wrk.log"
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    echo "$rps $p50 $p99 ${errors:+($errors)}"
}

writer_pid=""
if [ "${WRITES_PER_S:-0}" != 0 ]; then
    pause=$(awk -v n="$WRITES_PER_S" 'BEGIN {printf "%.4f", 1 / n}')
    while true; do
        curl -s -o /dev/null -X POST -d 'body=x' "$base/consultations/$id/comments"
        sleep "$pause"
    done &
    writer_pid=$!
    echo "== with $WRITES_PER_S write requests a second in the background"
fi
echo "== wrk -t2 -c$conns -d$duration --timeout 30s --latency (target: p99 < 50 ms)"
printf '%-10s %12s %10s %10s\n' page 'requests/s' p50 p99
for p in "${pages[@]}"; do
    read -r name path <<<"$p"
    echo "   load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    read -r rps p50 p99 err < <(measure "$base$path")
    printf '%-10s %12s %10s %10s %s\n' "$name" "$rps" "$p50" "$p99" "$err"
done
if [ -n "$writer_pid" ]; then kill "$writer_pid" 2>/dev/null || true; fi
echo "amenda RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$amenda_pid/status)"
