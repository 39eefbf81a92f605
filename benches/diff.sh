#!/usr/bin/env bash
# Target 1 of docs/performance.md: the reference, `git diff --no-index --word-diff` of the
# same two CPI versions as benches/diff.rs, with hyperfine, beside `amenda diff` on the
# same files; then the criterion bench.
#
#   benches/diff.sh
#
# Run from the repository root. Env: AMENDA_CORPUS (default ../shared/corpus),
# AMENDA_DIFF_OLD / AMENDA_DIFF_NEW (default: the two commits of benches/diff.rs).
set -euo pipefail

corpus=${AMENDA_CORPUS:-../shared/corpus}
old=${AMENDA_DIFF_OLD:-623176512abdcc8009345d6ec645a9cdca686fc9}
new=${AMENDA_DIFF_NEW:-5fde6b2ef5b98eb29116ce8292fb106d50435db9}
file=code_de_la_propriété_intellectuelle.md
[ -f "$corpus/cpi.bundle" ] || { echo "skipped: $corpus/cpi.bundle not found" >&2; exit 0; }

work=$(mktemp -d /tmp/amenda-diff-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
git -c init.defaultBranch=main clone --quiet --bare "$corpus/cpi.bundle" "$work/cpi.git"
git --git-dir "$work/cpi.git" show "$old:$file" >"$work/old.md"
git --git-dir "$work/cpi.git" show "$new:$file" >"$work/new.md"
wc -c "$work/old.md" "$work/new.md"
echo "word-diff output: $(git diff --no-index --word-diff "$work/old.md" "$work/new.md" | wc -l) lines"

# git diff exits 1 when the files differ: -i keeps hyperfine going. Then the same from
# the command line, process to process: `amenda-diff` and `amenda diff` (the same
# text::diff_sources and output; the second starts the server's binary) beside
# `git diff`, when a release build is there.
bin=${CARGO_TARGET_DIR:-target}/release/amenda
if [ -x "$bin" ] && [ -x "$bin-diff" ]; then
    echo "amenda diff output: $("$bin-diff" "$work/old.md" "$work/new.md" | wc -l) lines"
    # 100 runs and the medians too: on a shared machine a few runs are slowed by others.
    hyperfine -N -i --warmup 5 --runs 100 --export-json "$work/runs.json" \
        "git diff --no-index --word-diff $work/old.md $work/new.md" \
        "$bin-diff $work/old.md $work/new.md" \
        "$bin --data $work/none diff $work/old.md $work/new.md"
    python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("median %.2f ms  %s" % (r["median"] * 1000, r["command"].split(" /")[0]))' "$work/runs.json"
else
    echo "no $bin: cargo build --release to time amenda diff beside git" >&2
    hyperfine -N -i --warmup 3 --runs 30 "git diff --no-index --word-diff $work/old.md $work/new.md"
fi

AMENDA_CORPUS=$corpus AMENDA_DIFF_OLD=$old AMENDA_DIFF_NEW=$new cargo bench --bench diff
