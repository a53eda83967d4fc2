#!/usr/bin/env bash
# Data-plane load test on loopback: the same backend served directly, through nginx (the
# reference reverse proxy, upstream keepalive) and through a Gatehouse HTTP_PROXY
# route, all measured with wrk in one run. Needs: wrk, nginx (Debian: apt-get install wrk
# nginx-light), the AWS CLI (pip install awscli) and a PostgreSQL (DATABASE_URL, or the
# embedded one).
#
# Every proxy runs WORKERS event loops (nginx worker processes, Gatehouse data-plane threads,
# bare proxy threads), so they are compared like for like; default 1, as wrk and the backend
# share the machine.
#
#   [WORKERS=1] [RATE=5000] [ROUNDS=3] scripts/bench-dataplane.sh [duration=10s] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
CONNS=${2:-64}
WORKERS=${WORKERS:-1}
export GATEHOUSE_DATA_PLANE_THREADS=$WORKERS
WORK=$(mktemp -d)
BACKEND_PORT=18081
NGINX_PORT=18082
MGMT_PORT=19000
DP_PORT=18080
trap 'kill $(jobs -p) 2>/dev/null; for c in nginx backend; do nginx -p "$WORK" -c "$WORK/$c.conf" -s stop 2>/dev/null; done; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin gatehouse --example fixed_rate --example bare_proxy

# The backend and the reference proxy are two nginx instances, so that nginx, like Gatehouse,
# reaches its backend in another process (one nginx serving both would answer the upstream
# request from its own event loop, which no real deployment does).
cat > "$WORK/backend.conf" <<CONF
worker_processes 1;
pid $WORK/backend.pid;
error_log $WORK/backend-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    # The backend: a fixed small answer.
    server { listen 127.0.0.1:$BACKEND_PORT; location / { default_type text/plain; return 200 "hello from the backend\n"; } }
}
CONF
cat > "$WORK/nginx.conf" <<CONF
worker_processes $WORKERS;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 128; }
    # The reference reverse proxy.
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
CONF
nginx -p "$WORK" -c "$WORK/backend.conf"
nginx -p "$WORK" -c "$WORK/nginx.conf"

# Every server runs in a session of its own, as the nginx daemons do: with the kernel's
# autogroup scheduling (sched_autogroup_enabled, on by default in most distributions) CPU time
# is shared out fairly between sessions first, so a proxy left in this script's session would
# share one slice with wrk while nginx had a slice to itself (measured: 0.85-0.90x nginx in a
# shared session, about 1.0x in its own).
export GATEHOUSE_DATA_DIR="$WORK/gh" RUST_LOG=warn
setsid ./target/release/gatehouse serve --listen 127.0.0.1:$MGMT_PORT --data-plane 127.0.0.1:$DP_PORT > "$WORK/serve.log" 2>&1 &
GATEHOUSE_PID=$!
for _ in $(seq 1 100); do grep -q "data plane on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
gw="aws --endpoint-url http://127.0.0.1:$MGMT_PORT apigateway"
API=$($gw create-rest-api --name bench --query id --output text)
ROOT=$($gw get-resources --rest-api-id "$API" --query 'items[0].id' --output text)
PROXY=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part '{proxy+}' --query id --output text)
$gw put-method --rest-api-id "$API" --resource-id "$PROXY" --http-method ANY --authorization-type NONE > /dev/null
$gw put-integration --rest-api-id "$API" --resource-id "$PROXY" --http-method ANY --type HTTP_PROXY \
    --integration-http-method ANY --uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" \
    --request-parameters '{"integration.request.path.proxy":"method.request.path.proxy"}' > /dev/null
# A MOCK route with request and response templates (served faster than the HTTP_PROXY route: no
# backend behind it).
MOCK=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part mock --query id --output text)
$gw put-method --rest-api-id "$API" --resource-id "$MOCK" --http-method GET --authorization-type NONE > /dev/null
$gw put-integration --rest-api-id "$API" --resource-id "$MOCK" --http-method GET --type MOCK \
    --request-templates '{"application/json":"{\"statusCode\": 200}"}' > /dev/null
$gw put-integration-response --rest-api-id "$API" --resource-id "$MOCK" --http-method GET --status-code 200 \
    --selection-pattern "" \
    --response-templates '{"application/json":"{\"id\": \"$context.requestId\", \"stage\": \"$context.stage\", \"tenant\": \"$input.params(\u0027tenant\u0027)\"}"}' > /dev/null
$gw create-deployment --rest-api-id "$API" --stage-name bench > /dev/null
HOST="$API.execute-api.localhost:$DP_PORT"
# The same backend behind an HTTP API's HTTP_PROXY route (AWS's lean kind), on its `$default`
# stage.
gw2="aws --endpoint-url http://127.0.0.1:$MGMT_PORT apigatewayv2"
HTTP_API=$($gw2 create-api --name bench --protocol-type HTTP --query ApiId --output text)
HTTP_INT=$($gw2 create-integration --api-id "$HTTP_API" --integration-type HTTP_PROXY --integration-method ANY \
    --integration-uri "http://127.0.0.1:$BACKEND_PORT/{proxy}" --query IntegrationId --output text)
$gw2 create-route --api-id "$HTTP_API" --route-key 'ANY /{proxy+}' --target "integrations/$HTTP_INT" > /dev/null
$gw2 create-stage --api-id "$HTTP_API" --stage-name '$default' --auto-deploy > /dev/null
HTTP_HOST="$HTTP_API.execute-api.localhost:$DP_PORT"
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "http://127.0.0.1:$DP_PORT/bench/hello")" = 200 ] && break
    sleep 0.1
done

# CPU time (user + system, in clock ticks) the processes `$@` have used so far.
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# The user-time part of it: where the proxies differ (their system time is about the same).
user_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14}' "/proc/$p/stat"))); done; echo "$t"; }

run() { # name url host pids...: throughput, latency, and the CPU the proxy spent per request
    local name=$1 url=$2 host=$3; shift 3
    local extra=()
    [ -n "$host" ] && extra=(-H "Host: $host")
    local before user_before; before=$(cpu_ticks "$@"); user_before=$(user_ticks "$@")
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${extra[@]}" "$url" > "$WORK/$name.txt"
    local used=$(( $(cpu_ticks "$@") - before )) user=$(( $(user_ticks "$@") - user_before ))
    local rps p50 p99 requests
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$name.txt")
    p50=$(awk '$1=="50%" {print $2}' "$WORK/$name.txt")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/$name.txt")
    requests=$(awk '/requests in/ {print $1}' "$WORK/$name.txt")
    # On a machine shared with wrk and the backend, CPU per request is steadier than req/s.
    awk -v t="$used" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }' > "$WORK/$name.cpu"
    local user_us; user_us=$(awk -v t="$user" -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf '%-22s %12s req/s   p50 %8s   p99 %8s   %6s us CPU/req (%s user)\n' "$name" "$rps" "$p50" "$p99" "$(cat "$WORK/$name.cpu")" "$user_us"
    echo "$rps" > "$WORK/$name.rps"
}

BARE_PORT=18083
setsid ./target/release/examples/bare_proxy 127.0.0.1:$BARE_PORT 127.0.0.1:$BACKEND_PORT &
BARE_PID=$!
# The same without hyper_util's pooled client: one backend connection per client connection.
BARE_CONN_PORT=18084
setsid ./target/release/examples/bare_proxy 127.0.0.1:$BARE_CONN_PORT 127.0.0.1:$BACKEND_PORT conn &
BARE_CONN_PID=$!
sleep 0.5

workers_of() { pgrep -P "$(cat "$WORK/$1.pid")" | tr '\n' ' '; }
echo "wrk -t2 -c$CONNS -d$DURATION on $(nproc) cores, $WORKERS event loop(s) per proxy; CPU/req is the proxy's own (the backend's for backend-direct)"
run backend-direct "http://127.0.0.1:$BACKEND_PORT/hello" "" $(workers_of backend)
run nginx-proxy "http://127.0.0.1:$NGINX_PORT/hello" "" $(workers_of nginx)
run bare-hyper-proxy "http://127.0.0.1:$BARE_PORT/hello" "" "$BARE_PID"
run bare-hyper-conn "http://127.0.0.1:$BARE_CONN_PORT/hello" "" "$BARE_CONN_PID"
run gatehouse-proxy "http://127.0.0.1:$DP_PORT/bench/hello" "$HOST" "$GATEHOUSE_PID"
run gatehouse-mock-vtl "http://127.0.0.1:$DP_PORT/bench/mock?tenant=acme" "$HOST" "$GATEHOUSE_PID"
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HTTP_HOST" "http://127.0.0.1:$DP_PORT/hello")" = 200 ] && break
    sleep 0.1
done
run gatehouse-http-api "http://127.0.0.1:$DP_PORT/hello" "$HTTP_HOST" "$GATEHOUSE_PID"
awk -v h="$(cat "$WORK/gatehouse-http-api.rps")" -v g="$(cat "$WORK/gatehouse-proxy.rps")" \
    'BEGIN { printf "HTTP API http_proxy / REST http_proxy = %.2fx\n", h / g }' 
awk -v g="$(cat "$WORK/gatehouse-proxy.rps")" -v n="$(cat "$WORK/nginx-proxy.rps")" -v d="$(cat "$WORK/backend-direct.rps")" \
    -v b="$(cat "$WORK/bare-hyper-proxy.rps")" \
    -v m="$(cat "$WORK/gatehouse-mock-vtl.rps")" \
    'BEGIN { printf "gatehouse / nginx = %.2fx   bare hyper / nginx = %.2fx   nginx / direct = %.2fx   gatehouse / direct = %.2fx   mock+vtl / http_proxy = %.2fx\n", g / n, b / n, n / d, g / d, m / g }'
awk -v g="$(cat "$WORK/gatehouse-proxy.cpu")" -v n="$(cat "$WORK/nginx-proxy.cpu")" -v b="$(cat "$WORK/bare-hyper-proxy.cpu")" \
    'BEGIN { printf "proxy CPU per request: gatehouse / nginx = %.2fx   bare hyper / nginx = %.2fx\n", g / n, b / n }'

# The machine's speed drifts within a run: nginx and Gatehouse again, ROUNDS times in turn, and
# the median of the ratios taken pair by pair.
ROUNDS=${ROUNDS:-3}
if [ "$ROUNDS" -gt 0 ]; then
    echo "alternating nginx and gatehouse, $ROUNDS round(s):"
    for r in $(seq 1 "$ROUNDS"); do
        run "nginx-proxy-r$r" "http://127.0.0.1:$NGINX_PORT/hello" "" $(workers_of nginx)
        run "gatehouse-proxy-r$r" "http://127.0.0.1:$DP_PORT/bench/hello" "$HOST" "$GATEHOUSE_PID"
        awk -v g="$(cat "$WORK/gatehouse-proxy-r$r.rps")" -v n="$(cat "$WORK/nginx-proxy-r$r.rps")" \
            'BEGIN { printf "%.3f\n", g / n }' >> "$WORK/throughput-ratios"
        awk -v g="$(cat "$WORK/gatehouse-proxy-r$r.cpu")" -v n="$(cat "$WORK/nginx-proxy-r$r.cpu")" \
            'BEGIN { printf "%.3f\n", g / n }' >> "$WORK/cpu-ratios"
        run "gatehouse-http-api-r$r" "http://127.0.0.1:$DP_PORT/hello" "$HTTP_HOST" "$GATEHOUSE_PID"
        awk -v h="$(cat "$WORK/gatehouse-http-api-r$r.rps")" -v g="$(cat "$WORK/gatehouse-proxy-r$r.rps")" \
            'BEGIN { printf "%.3f\n", h / g }' >> "$WORK/http-api-ratios"
    done
    median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
    echo "  gatehouse / nginx, median of the rounds: throughput $(median "$WORK/throughput-ratios")x ($(paste -sd' ' "$WORK/throughput-ratios")), CPU per request $(median "$WORK/cpu-ratios")x ($(paste -sd' ' "$WORK/cpu-ratios"))"
    echo "  HTTP API / REST HTTP_PROXY route, median of the rounds: $(median "$WORK/http-api-ratios")x ($(paste -sd' ' "$WORK/http-api-ratios"))"
fi

# Added latency at a fixed rate (open loop, latency measured from when each request was due).
RATE=${RATE:-5000}
echo "fixed rate $RATE req/s for 10 s:"
printf '  %-18s ' "nginx-proxy";     ./target/release/examples/fixed_rate "http://127.0.0.1:$NGINX_PORT/hello" "" "$RATE" 10
printf '  %-18s ' "backend-direct";  ./target/release/examples/fixed_rate "http://127.0.0.1:$BACKEND_PORT/hello" "" "$RATE" 10
printf '  %-18s ' "gatehouse-proxy"; ./target/release/examples/fixed_rate "http://127.0.0.1:$DP_PORT/bench/hello" "$HOST" "$RATE" 10
