#!/usr/bin/env bash
# Target 3 of docs/performance.md: HTTP throughput of the whole-CPI bill page and of one
# article page against nginx serving the same bytes from disk, and the article page's
# latency, with wrk on loopback. Then target 4's "RSS right after the wrk runs".
#
#   benches/http.sh
#
# Run from the repository root after `cargo build --release` and benches/import.sh (which
# leaves the imported CPI in /tmp/bench-data). Needs wrk, nginx and curl. Env: DURATION
# (default 15s), CONNECTIONS (default 32), NGINX_WORKERS (default auto), DATA (default
# /tmp/bench-data), PORT / NGINX_PORT (default 8400 / 8401), CARGO_TARGET_DIR (where the
# release binary is; default target).
set -euo pipefail

bin=${CARGO_TARGET_DIR:-target}/release/amenda
data=${DATA:-/tmp/bench-data}
port=${PORT:-8400}
nginx_port=${NGINX_PORT:-8401}
duration=${DURATION:-15s}
conns=${CONNECTIONS:-32}
workers=${NGINX_WORKERS:-auto}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
[ -d "$data" ] || { echo "import first: benches/import.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/amenda-http-bench.XXXXXX)
amenda_pid="" nginx_pid=""
cleanup() {
    for p in $amenda_pid $nginx_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$bin" --data "$data" serve --port "$port" >"$work/amenda.log" 2>&1 &
amenda_pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

# The wid of Article L122-5 in the latest version (198).
wid=$(curl -sf "http://127.0.0.1:$port/api/v1/bills/cpi/versions/198" | python3 -c '
import json, sys
units = json.load(sys.stdin)["units"]
print(next(u["wid"] for u in units if u["kind"] == "article" and (u.get("num") or "").replace(" ", "").replace(".", "") == "L122-5"))')
bill_path=/bills/cpi
article_path=/bills/cpi/articles/$wid

# The same bytes, served by nginx from disk.
mkdir -p "$work/www" "$work/tmp"
chmod 755 "$work" "$work/www"
curl -sf -o "$work/www/bill.html" "http://127.0.0.1:$port$bill_path"
curl -sf -o "$work/www/article.html" "http://127.0.0.1:$port$article_path"
cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    default_type text/html;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
CONF
nginx -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/bill.html" && break; sleep 0.1; done

echo "article: Article L122-5, wid $wid"
echo "bytes: bill page $(stat -c %s "$work/www/bill.html"), article page $(stat -c %s "$work/www/article.html")"
echo "nginx worker_processes $workers; amenda (Rocket) workers: default; wrk, amenda and nginx share $(nproc) cores"

# wrk URL -> "requests/s p50 p99" (timeout raised so that slow replies count in the latency).
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

printf '%-8s %-8s %12s %10s %10s\n' page server 'requests/s' p50 p99
declare -A rps
for page in bill article; do
    if [ $page = bill ]; then path=$bill_path; else path=$article_path; fi
    read -r a a50 a99 aerr < <(measure "http://127.0.0.1:$port$path")
    read -r n n50 n99 nerr < <(measure "http://127.0.0.1:$nginx_port/$page.html")
    printf '%-8s %-8s %12s %10s %10s %s\n' $page amenda "$a" "$a50" "$a99" "$aerr"
    printf '%-8s %-8s %12s %10s %10s %s\n' $page nginx "$n" "$n50" "$n99" "$nerr"
    echo "$page: amenda/nginx = $(python3 -c "print(f'{$a / $n:.2%}')") (target >= 50%)"
done
echo "amenda RSS right after the wrk runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$amenda_pid/status)"
sleep 10
echo "amenda RSS 10 s later, idle: $(awk '/VmRSS/ {print $2, $3}' /proc/$amenda_pid/status)"
