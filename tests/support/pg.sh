#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#
#   tests/support/pg.sh start DIR   initdb + start in DIR (created), print the URL
#   tests/support/pg.sh url DIR     print the URL of the cluster in DIR
#   tests/support/pg.sh stop DIR    stop the cluster and remove DIR
#
# The cluster listens on 127.0.0.1 on a free port with trust auth, no Unix socket, and
# without fsync (test data only; set AMENDA_PG_DURABLE=1 to keep PostgreSQL's defaults,
# e.g. to measure write speed). As root, the server runs as the `postgres` system user
# (created if missing), since PostgreSQL refuses to run as root.
#
# Example:
#   dir=$(mktemp -d) && export AMENDA_TEST_DATABASE_URL=$(tests/support/pg.sh start "$dir")
#   cargo test; tests/support/pg.sh stop "$dir"
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop|url DIR"; }

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
marker=.amenda-test-cluster

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    fi
    # Debian's pg_config (libpq-dev) may point at /usr/bin, where initdb is not: take the
    # newest server installed.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    done
    die "no PostgreSQL server binaries found (apt-get install postgresql)"
}

# Runs a command as the cluster owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A port nobody listens on now (the server start is retried if someone takes it first).
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

url() {
    [ -f "$dir/$marker" ] || die "$dir holds no test cluster"
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

start() {
    local bindir port
    bindir=$(find_bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    touch "$dir/$marker"
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres \
                || die "cannot create the postgres user"
        fi
        chown postgres: "$dir"
        runuser -u postgres -- test -x "$dir" \
            || die "user postgres cannot reach $dir (use a folder under /tmp)"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    local opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
    if [ "${AMENDA_PG_DURABLE:-0}" != 1 ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port $opts" start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            url
            return
        fi
    done
    cat "$dir/server.log" >&2 || true
    die "the server did not start"
}

stop() {
    [ -f "$dir/$marker" ] || die "$dir holds no test cluster; not removing it"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
}

case $cmd in
    start) start ;;
    stop) stop ;;
    url) url ;;
    *) usage ;;
esac
