#!/usr/bin/env bash
# Target 2 of docs/performance.md: `amenda import-git` of the whole CPI history (198
# versions) against `git log -p` of the same file, with hyperfine.
#
#   benches/import.sh            SQLite only
#   benches/import.sh --pg       SQLite, then PostgreSQL (a throwaway cluster, tests/support/pg.sh)
#
# Run from the repository root after `cargo build --release`. Env: AMENDA_CORPUS (default
# ../shared/corpus), RUNS (default 5), CARGO_TARGET_DIR (where the release binary is;
# default target), DATA (default /tmp/bench-data: where the last SQLite import is left for
# benches/http.sh and benches/memory.sh).
set -euo pipefail

corpus=${AMENDA_CORPUS:-../shared/corpus}
runs=${RUNS:-5}
data=${DATA:-/tmp/bench-data}
bin=${CARGO_TARGET_DIR:-target}/release/amenda
file=code_de_la_propriété_intellectuelle.md
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -f "$corpus/cpi.bundle" ] || { echo "skipped: $corpus/cpi.bundle not found" >&2; exit 0; }

work=$(mktemp -d /tmp/amenda-import-bench.XXXXXX)
chmod 755 "$work" # the PostgreSQL cluster runs as user postgres
pgdir=""
cleanup() {
    if [ -n "$pgdir" ]; then tests/support/pg.sh stop "$pgdir" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

git -c init.defaultBranch=texte clone --quiet "$corpus/cpi.bundle" "$work/cpi-history" 2>/dev/null
echo "versions of $file on branch texte: $(git -C "$work/cpi-history" log --oneline texte -- "$file" | wc -l)"

# Reference and SQLite import, in one hyperfine run (relative speed printed at the end).
hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/sqlite.md" \
    -n 'git log -p' \
    "git -C $work/cpi-history log -p texte -- $file > /dev/null" \
    -n 'amenda import-git (SQLite)' \
    --prepare "rm -rf $data" \
    "$bin --data $data import-git $corpus/cpi.bundle $file --bill cpi --branch texte"
cat "$work/sqlite.md"

if [ "${1:-}" = "--pg" ]; then
    pgdir="$work/pg"
    url=$(tests/support/pg.sh start "$pgdir")
    echo "PostgreSQL: $url (fsync off, as in tests/support/pg.sh)"
    db=${url%/*}/amenda_bench
    hyperfine --runs "$runs" --export-markdown "$work/pg.md" \
        -n 'amenda import-git (PostgreSQL)' \
        --prepare "rm -rf $data-pg && psql -q '$url' -c 'DROP DATABASE IF EXISTS amenda_bench' -c 'CREATE DATABASE amenda_bench'" \
        "$bin --data $data-pg --database-url $db import-git $corpus/cpi.bundle $file --bill cpi --branch texte"
    cat "$work/pg.md"
    rm -rf "$data-pg"
fi
