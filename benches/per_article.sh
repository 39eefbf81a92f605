#!/usr/bin/env bash
# Issue 17's speed and memory targets for codes kept one file per article, and the size
# of the database per version:
#
#   1. a per-article history, built here from the CPI's (one commit per consolidated
#      version, 198 of them; folders for its divisions, one file per article, 1,735 in
#      the latest): `amenda import-git --per-article` against `git log -p` over the same
#      repository, with hyperfine; the import's peak memory (GNU time);
#   2. the database's size after the single-file import of the CPI history (and of the
#      Règlement's) on SQLite, and with --pg on PostgreSQL,
#      against the total bytes of its versions' markdown.
#
#   benches/per_article.sh          SQLite
#   benches/per_article.sh --pg     and the sizes on PostgreSQL (a throwaway cluster, tests/support/pg.sh)
#
# Run from the repository root after `cargo build --release`. Env: AMENDA_CORPUS (default
# ../shared/corpus), RUNS (default 3), CARGO_TARGET_DIR (default target), CACHE (where the
# per-article repository is kept, default /tmp/amenda-per-article-repo). Uses hyperfine
# when installed, else GNU time.
set -euo pipefail

corpus=${AMENDA_CORPUS:-../shared/corpus}
runs=${RUNS:-3}
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/amenda")
file=code_de_la_propriété_intellectuelle.md
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -f "$corpus/cpi.bundle" ] || { echo "skipped: $corpus/cpi.bundle not found" >&2; exit 0; }

work=$(mktemp -d /tmp/amenda-per-article.XXXXXX)
trap 'rm -rf "$work"' EXIT
git -c init.defaultBranch=texte clone --quiet "$corpus/cpi.bundle" "$work/cpi" 2>/dev/null
# The per-article repository takes minutes to build: kept in $CACHE for the next run.
cache=${CACHE:-/tmp/amenda-per-article-repo}

# `bench NAME COMMAND [PREPARE]`: hyperfine when installed, else RUNS timed runs (GNU
# time) and their mean, so that the figures can be taken on a machine without it.
bench() {
    if command -v hyperfine > /dev/null; then
        hyperfine --warmup 1 --runs "$runs" -n "$1" --prepare "${3:-true}" "$2"
        return
    fi
    local total=0 t
    for _ in $(seq "$runs"); do
        eval "${3:-true}"
        /usr/bin/time -f %e -o "$work/time" bash -c "$2" > /dev/null 2>&1
        t=$(tail -1 "$work/time")
        total=$(python3 -c "print($total + $t)")
    done
    echo "$1: mean $(python3 -c "print(round($total / $runs, 3))") s over $runs runs"
}

# The per-article repository: each CPI commit's text cut at its headings, divisions as
# folders (their heading, with "/" replaced), each article a file "Article N.md" with its
# heading and text; commit date, author and message kept.
if [ ! -d "$cache/.git" ]; then
rm -rf "$cache.tmp" && git init --quiet -b main "$cache.tmp"
python3 - "$work/cpi" "$cache.tmp" "$file" <<'EOF'
import os, re, shutil, subprocess, sys
src, dst, name = sys.argv[1:4]
git = lambda *a, cwd=src: subprocess.run(["git", *a], cwd=cwd, check=True, capture_output=True).stdout
commits = git("rev-list", "--reverse", "texte", "--", name).decode().split()
heading = re.compile(r"^(#{1,9})[ \t]+(.*?)[ \t#]*$")
for n, c in enumerate(commits, 1):
    meta = git("show", "-s", "--format=%an%x00%ae%x00%aI%x00%B", c).decode().split("\0")
    text = git("show", f"{c}:{name}").decode()
    for entry in os.listdir(dst):
        if entry != ".git":
            p = os.path.join(dst, entry)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    path, article, body = [], None, []
    def flush():
        if article:
            folder = os.path.join(dst, *[d for _, d in path])
            os.makedirs(folder, exist_ok=True)
            fname = article.replace("/", "-")[:120] + ".md"
            with open(os.path.join(folder, fname), "w") as f:
                f.write(f"# {article}\n\n" + "".join(body).strip() + "\n")
    for line in text.splitlines(keepends=True):
        m = heading.match(line)
        if m and m.group(2).lower().startswith("article "):
            flush()
            article, body = m.group(2), []
        elif m:
            flush()
            article, body = None, []
            depth = len(m.group(1))
            path = [(d, t) for d, t in path if d < depth]
            path.append((depth, m.group(2).replace("/", "-")[:100]))
        elif article:
            body.append(line)
    flush()
    env = dict(os.environ, GIT_AUTHOR_NAME=meta[0], GIT_AUTHOR_EMAIL=meta[1], GIT_AUTHOR_DATE=meta[2],
               GIT_COMMITTER_NAME=meta[0], GIT_COMMITTER_EMAIL=meta[1], GIT_COMMITTER_DATE=meta[2])
    subprocess.run(["git", "add", "-A"], cwd=dst, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", meta[3] or f"version {n}"],
                   cwd=dst, check=True, env=env)
print(f"per-article repository: {len(commits)} commits")
EOF
mv "$cache.tmp" "$cache"
fi
pa=$cache
echo "per-article repository: $(git -C "$pa" rev-list --count main) commits, $(find "$pa" -name 'Article *.md' | wc -l) articles in the last version"

bench 'git log -p' "git -C '$pa' log -p main"
bench 'amenda import-git --per-article (SQLite)' \
    "'$bin' --data '$work/data' import-git '$pa' . --bill cpi --per-article" "rm -rf '$work/data'"
rm -rf "$work/data"
/usr/bin/time -f "per-article import: peak memory %M KiB, %e s" \
    "$bin" --data "$work/data" import-git "$pa" . --bill cpi --per-article 2>&1 >/dev/null | tail -1

# The single-file CPI history (what benches/import.sh measures with hyperfine).
bench 'git log -p (CPI file)' "git -C '$work/cpi' log -p texte -- '$file'"
bench 'amenda import-git (CPI file, SQLite)' \
    "'$bin' --data '$work/data' import-git '$corpus/cpi.bundle' '$file' --bill cpi --branch texte" "rm -rf '$work/data'"

# Storage: the single-file import of a history, then the size of the data folder
# (database and write-ahead log) against the bytes of all its versions' markdown; with
# --pg, the same import into a fresh PostgreSQL database, whose size (pg_database_size,
# less that of an empty database: the catalogs) is measured after a VACUUM.
pgdir=""
if [ "${1:-}" = "--pg" ]; then
    pgdir="$work/pg"
    mkdir -p "$pgdir" && chmod 755 "$work" "$pgdir" # the cluster runs as user postgres
    url=$(tests/support/pg.sh start "$pgdir")
    trap 'tests/support/pg.sh stop "$pgdir" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
fi
storage() { # NAME BUNDLE FILE BRANCH
    local name=$1 bundle=$2 path=$3 branch=$4 clone="$work/storage-repo" md=0 c
    rm -rf "$clone" && git clone --quiet "$bundle" "$clone" 2>/dev/null
    git -C "$clone" branch --quiet -f "$branch" "origin/$branch" 2>/dev/null || true
    for c in $(git -C "$clone" rev-list "$branch" -- "$path"); do
        md=$((md + $(git -C "$clone" cat-file -s "$c:$path")))
    done
    local versions
    versions=$(git -C "$clone" rev-list --count "$branch" -- "$path")
    rm -rf "$work/data"
    "$bin" --data "$work/data" import-git "$bundle" "$path" --bill h --branch "$branch" > /dev/null 2>&1
    local db
    db=$(du -cb "$work/data"/amenda.sqlite3* | tail -1 | cut -f1)
    echo "$name on SQLite: $versions versions, markdown $md bytes, data folder $db bytes ($(python3 -c "print(round($db/$md, 2))")× the markdown, $((db / versions)) bytes per version)"
    if [ -n "$pgdir" ]; then
        psql -q "$url" -c 'DROP DATABASE IF EXISTS amenda_size' -c 'CREATE DATABASE amenda_size'
        local pgurl=${url%/*}/amenda_size
        /usr/bin/time -f "$name import on PostgreSQL: %e s" "$bin" --data "$work/data-pg" --database-url "$pgurl" \
            import-git "$bundle" "$path" --bill h --branch "$branch" 2>&1 >/dev/null | tail -1
        psql -q "$pgurl" -c 'VACUUM ANALYZE'
        db=$(psql -qtA "$pgurl" -c "SELECT pg_database_size('amenda_size') - pg_database_size('template1')")
        echo "$name on PostgreSQL: database $db bytes beyond an empty one ($(python3 -c "print(round($db/$md, 2))")× the markdown, $((db / versions)) bytes per version)"
    fi
}
storage 'CPI history' "$corpus/cpi.bundle" "$file" texte
if [ -f "$corpus/reglement_an.bundle" ]; then
    storage "Règlement de l'Assemblée nationale history" "$corpus/reglement_an.bundle" règlement.md historique
fi
