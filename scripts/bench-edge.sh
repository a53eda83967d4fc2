#!/usr/bin/env bash
# What the edge features cost and how exact the limits are, on loopback:
#  1. throughput (wrk, alternating rounds) of one HTTP_PROXY route on three stages of one
#     deployment: `plain` (nothing), `edge` (an API key required, a usage plan with a throttle
#     and a quota, the stage's method throttle, an access log; metrics are always on), and
#     `cached` (the stage cache, every answer a hit); ratios over `plain` in the same round;
#  2. the accuracy of a stage limit (500/s, burst 500) under twice that load (1,000 req/s open
#     loop for 10 s): on one worker, then over two workers sharing the limit through Redis,
#     the load alternating between them. Expected admitted: 500 + 500 x 10 = 5,500.
# An nginx serves the backend. Needs: wrk, nginx, the AWS CLI, PostgreSQL (DATABASE_URL, or the
# embedded one), and Redis at 127.0.0.1:6379 for part 2.
#
#   [ROUNDS=3] [PERF_OUT=edge.perf] scripts/bench-edge.sh [duration=10s] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
CONNS=${2:-64}
export GATEHOUSE_DATA_PLANE_THREADS=1
WORK=$(mktemp -d)
FIX_PORT=18085
MGMT_PORT=19000
DP_PORT=18080
DP2_PORT=18081
REDIS=${REDIS:-redis://127.0.0.1:6379}
trap 'kill $(jobs -p) 2>/dev/null; nginx -p "$WORK" -c "$WORK/fixtures.conf" -s stop 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin gatehouse --example fixed_rate
cat > "$WORK/fixtures.conf" <<CONF
worker_processes 1;
pid $WORK/fixtures.pid;
error_log $WORK/fixtures-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$FIX_PORT;
        location /hello { default_type text/plain; return 200 "hello from the backend\n"; }
    }
}
CONF
nginx -p "$WORK" -c "$WORK/fixtures.conf"

# The embedded worker keeps its limits in Redis (part 2 adds a second worker beside it).
export GATEHOUSE_DATA_DIR="$WORK/gh" RUST_LOG=warn GATEHOUSE_ACCESS_LOG_DIR="$WORK/access-logs"
export GATEHOUSE_CLUSTER_TOKEN=bench-edge-token
setsid ./target/release/gatehouse serve --listen 127.0.0.1:$MGMT_PORT --data-plane 127.0.0.1:$DP_PORT \
    > "$WORK/serve.log" 2>&1 &
GATEHOUSE_PID=$!
for _ in $(seq 1 100); do grep -q "data plane on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
gw="aws --endpoint-url http://127.0.0.1:$MGMT_PORT apigateway"
API=$($gw create-rest-api --name bench-edge --query id --output text)
ROOT=$($gw get-resources --rest-api-id "$API" --query 'items[0].id' --output text)
route() { # path [api-key-required]: GET as HTTP_PROXY to the backend
    local id; id=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part "$1" --query id --output text)
    $gw put-method --rest-api-id "$API" --resource-id "$id" --http-method GET --authorization-type NONE \
        ${2:+--api-key-required} > /dev/null
    $gw put-integration --rest-api-id "$API" --resource-id "$id" --http-method GET --type HTTP_PROXY \
        --integration-http-method GET --uri "http://127.0.0.1:$FIX_PORT/hello" > /dev/null
}
route hello
route keyed yes
for stage in plain edge cached limited; do
    $gw create-deployment --rest-api-id "$API" --stage-name $stage > /dev/null
done
FORMAT='{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","key":"$context.identity.apiKeyId","status":"$context.status","latency":"$context.responseLatency"}'
cat > "$WORK/edge-ops.json" <<OPS
[{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1000000"},
 {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1000000"},
 {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": "arn:aws:logs:us-east-1:000000000000:log-group:edge"},
 {"op": "replace", "path": "/accessLogSettings/format", "value": $(printf '%s' "$FORMAT" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}]
OPS
$gw update-stage --rest-api-id "$API" --stage-name edge --patch-operations "file://$WORK/edge-ops.json" > /dev/null
$gw update-stage --rest-api-id "$API" --stage-name cached --patch-operations \
    op=replace,path=/cacheClusterEnabled,value=true op=replace,path=/*/*/caching/enabled,value=true > /dev/null
$gw update-stage --rest-api-id "$API" --stage-name limited --patch-operations \
    op=replace,path=/*/*/throttling/rateLimit,value=500 op=replace,path=/*/*/throttling/burstLimit,value=500 > /dev/null
KEY=$($gw create-api-key --name bench --enabled --query id --output text)
VALUE=$($gw get-api-key --api-key "$KEY" --include-value --query value --output text)
PLAN=$($gw create-usage-plan --name bench --api-stages "apiId=$API,stage=edge" \
    --throttle rateLimit=1000000,burstLimit=1000000 --quota limit=1000000000,period=DAY --query id --output text)
$gw create-usage-plan-key --usage-plan-id "$PLAN" --key-id "$KEY" --key-type API_KEY > /dev/null
HOST="$API.execute-api.localhost:$DP_PORT"
check() { # stage path [headers...]
    local stage=$1 path=$2; shift 2
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$@" "http://127.0.0.1:$DP_PORT/$stage/$path")" = 200 ] && return
        sleep 0.1
    done
    echo "$stage/$path does not answer 200"; cat "$WORK/serve.log"; exit 1
}
check plain hello
check edge keyed -H "x-api-key: $VALUE"
check cached hello

. scripts/lib/wrk-run.sh

ROUNDS=${ROUNDS:-3}
echo "wrk -t2 -c$CONNS -d$DURATION on $(nproc) cores, 1 data-plane thread; ratios: stage / plain in the same round"
for r in $(seq 1 "$ROUNDS"); do
    run "plain-$r" plain/hello
    # PERF_OUT=FILE: a perf profile of the first round's edge stage.
    if [ "$r" = 1 ] && [ -n "${PERF_OUT:-}" ]; then
        perf record -F 999 -g -o "$PERF_OUT" -p "$GATEHOUSE_PID" -- sleep "${DURATION%s}" > /dev/null 2>&1 &
    fi
    run "edge-$r" edge/keyed -H "x-api-key: $VALUE"
    run "cached-$r" cached/hello
    for stage in edge cached; do
        awk -v a="$(cat "$WORK/$stage-$r.rps")" -v o="$(cat "$WORK/plain-$r.rps")" 'BEGIN { printf "%.3f\n", a / o }' >> "$WORK/$stage.ratios"
    done
done
for stage in edge cached; do
    echo "$stage / plain: median $(median "$WORK/$stage.ratios")x ($(paste -sd' ' "$WORK/$stage.ratios"))"
done
echo "access log lines written: $(cat "$WORK"/access-logs/* 2>/dev/null | wc -l)"

echo "limit 500/s burst 500 at 1,000 req/s for 10 s (expected 5,500 admitted):"
printf '  %-26s ' "one worker, local"
./target/release/examples/fixed_rate "http://127.0.0.1:$DP_PORT/limited/hello" "$HOST" 1000 10
# Two workers with their limits in Redis; the limit's bucket starts full again under a new
# name once the first part's has been refilled (2 s).
sleep 2
kill "$GATEHOUSE_PID"; wait "$GATEHOUSE_PID" 2>/dev/null || true
setsid ./target/release/gatehouse serve --listen 127.0.0.1:$MGMT_PORT --data-plane 127.0.0.1:$DP_PORT \
    --rate-limit-backend "$REDIS" > "$WORK/serve2.log" 2>&1 &
for _ in $(seq 1 100); do grep -q "data plane on" "$WORK/serve2.log" 2>/dev/null && break; sleep 0.1; done
setsid ./target/release/gatehouse worker --control-plane "http://127.0.0.1:$MGMT_PORT" \
    --listen 127.0.0.1:$DP2_PORT --metrics-listen 127.0.0.1:19103 --rate-limit-backend "$REDIS" > "$WORK/worker.log" 2>&1 &
for port in $DP_PORT $DP2_PORT; do
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "http://127.0.0.1:$port/plain/hello")" = 200 ] && break
        sleep 0.1
    done
done
sleep 2
printf '  %-26s ' "two workers, Redis"
./target/release/examples/fixed_rate "http://127.0.0.1:$DP_PORT/limited/hello,http://127.0.0.1:$DP2_PORT/limited/hello" "$HOST" 1000 10
