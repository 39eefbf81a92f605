#!/usr/bin/env bash
# The million-ballot targets of issue 5 (docs/performance.md):
#   - the close of a log of BALLOTS ballots (streamed tally, result.csv, close record,
#     final checkpoint): under 5 s;
#   - `amenda export` of that log: resident memory flat, under 64 MB;
#   - `amenda-verify` of the export: at most 3x the time of `sha256sum entries.csv`,
#     resident memory under 200 MB.
#
#   benches/million.sh            SQLite in DATA
#   benches/million.sh --pg       PostgreSQL (a throwaway cluster, tests/support/pg.sh)
#
# Run from the repository root after `cargo build --release`. Env: BALLOTS (default
# 1000000), COMMENTS (default 100000: the open-data export's load, issue 6), DATA
# (default /tmp/amenda-million), CARGO_TARGET_DIR (default target).
set -euo pipefail

target=${CARGO_TARGET_DIR:-target}
bin=$target/release/amenda
verify=$target/release/amenda-verify
data=${DATA:-/tmp/amenda-million}
export BALLOTS=${BALLOTS:-1000000} COMMENTS=${COMMENTS:-100000} DATA=$data
[ -x "$bin" ] && [ -x "$verify" ] || { echo "build first: cargo build --release" >&2; exit 1; }

pgdir=""
out=$(mktemp -d /tmp/amenda-million-export.XXXXXX)
cleanup() {
    if [ -n "$pgdir" ]; then tests/support/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
    rm -rf "$out"
}
trap cleanup EXIT
db_args=()
if [ "${1:-}" = --pg ]; then
    pgdir=$(mktemp -d /tmp/amenda-million-pg.XXXXXX)
    chmod 755 "$pgdir"
    url=$(tests/support/pg.sh start "$pgdir")
    export AMENDA_BENCH_DATABASE_URL=$url
    db_args=(--database-url "$url")
fi

echo "== building the log and closing it (benches/ballot_million.rs)"
report=$(cargo bench --quiet --bench ballot_million 2>/dev/null | tee /dev/stderr)
id=$(sed -n 's/^consultation \([0-9]*\) in .*/\1/p' <<<"$report")

# Peak resident memory (kB) and elapsed seconds of a command, from GNU time.
measure() {
    local log
    log=$(mktemp)
    /usr/bin/time -f '%M %e' -o "$log" "$@" >/dev/null
    cat "$log"
    rm -f "$log"
}

echo "== amenda export"
read -r kb secs < <(measure "$bin" --data "$data" "${db_args[@]}" export "$out" --consultation "$id")
dir=$out/consultations/$id/ballot-log
echo "export: ${secs} s, peak RSS $((kb / 1024)) MB (target < 64 MB); entries.csv $(du -h "$dir/entries.csv" | cut -f1), ballots.csv $(du -h "$dir/ballots.csv" | cut -f1)"

echo "== amenda export: the whole open data (datasets, texts, ballot log, package, signed sums)"
full=$(mktemp -d /tmp/amenda-million-opendata.XXXXXX)
read -r kb secs < <(measure "$bin" --data "$data" "${db_args[@]}" export "$full")
echo "open data export: ${secs} s, peak RSS $((kb / 1024)) MB (target < 64 MB); comments.csv $(du -h "$full/datasets/comments.csv" | cut -f1), $(wc -l < "$full/SHA256SUMS") files"
rm -rf "$full"

echo "== sha256sum entries.csv against amenda-verify (best of 3 each)"
best() {
    local best_s="" best_kb=0 kb s
    for _ in 1 2 3; do
        read -r kb s < <(measure "$@")
        if [ -z "$best_s" ] || awk "BEGIN {exit !($s < $best_s)}"; then best_s=$s; fi
        if [ "$kb" -gt "$best_kb" ]; then best_kb=$kb; fi
    done
    echo "$best_s $best_kb"
}
read -r sha_s _ < <(best sha256sum "$dir/entries.csv")
read -r ver_s ver_kb < <(best "$verify" "$dir" --key "$dir/log.vkey")
"$verify" "$dir" --key "$dir/log.vkey"
echo "sha256sum entries.csv: ${sha_s} s"
echo "amenda-verify: ${ver_s} s, peak RSS $((ver_kb / 1024)) MB (target < 200 MB)"
awk "BEGIN {printf \"ratio: %.2fx sha256sum (target <= 3x)\\n\", $ver_s / $sha_s}"
