#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind (repeatable whatever else the machine
# is doing, unlike req/s): `gatehouse serve` under valgrind, an HTTP_PROXY route to an nginx
# backend, wrk's requests over 4 kept-alive connections for 20 s counted from the first to the
# last (startup and the API's
# setup are not). The count is the whole process's over those 20 s (the data plane, and the
# control plane's and subscriber's own work meanwhile), divided by the requests wrk made. A
# closed loop over a fixed set of connections: an open-loop client opens new connections when
# the server (slowed down by valgrind) falls behind, and their setup would be counted as the
# requests' (seen: 25k instructions per request one run, 90k the next). Needs valgrind, wrk,
# nginx, the AWS CLI and a PostgreSQL (DATABASE_URL, or the embedded one).
#
#   [KIND=rest|http] [CLOSE=1] scripts/callgrind-proxy.sh [path/to/gatehouse]     (default: target/release/gatehouse)
#
# KIND=http measures an HTTP API's `ANY /{proxy+}` HTTP_PROXY route on its `$default` stage
# instead of the REST API's `{proxy+}` HTTP_PROXY resource (the two `scripts/bench-dataplane.sh`
# compares). CLOSE=1 sends every request on a connection of its own (`Connection: close`), for
# what a connection costs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/gatehouse}
cargo build --release --quiet --bin gatehouse
W=$(mktemp -d)
VG=
trap 'kill $VG 2>/dev/null; nginx -p "$W" -c "$W/backend.conf" -s stop 2>/dev/null; rm -rf "$W"' EXIT
cat > "$W/backend.conf" <<CONF
worker_processes 1; pid $W/backend.pid; error_log $W/err.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:28081; location / { default_type text/plain; return 200 "hello from the backend\n"; } } }
CONF
nginx -p "$W" -c "$W/backend.conf"
export GATEHOUSE_DATA_DIR=$W/gh RUST_LOG=warn GATEHOUSE_DATA_PLANE_THREADS=1 GATEHOUSE_METRICS_ADDR=off
# Instrumentation starts off and is switched on around the measured requests only.
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$W/cg.out" "$BIN" serve \
    --listen 127.0.0.1:29000 --data-plane 127.0.0.1:28080 > "$W/serve.log" 2>&1 &
VG=$!
for _ in $(seq 1 600); do grep -q "data plane on" "$W/serve.log" 2>/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
gw="aws --endpoint-url http://127.0.0.1:29000 apigateway"
if [ "${KIND:-rest}" = http ]; then
    gw2="aws --endpoint-url http://127.0.0.1:29000 apigatewayv2"
    API=$($gw2 create-api --name callgrind --protocol-type HTTP --query ApiId --output text)
    INT=$($gw2 create-integration --api-id "$API" --integration-type HTTP_PROXY --integration-method ANY \
        --integration-uri "http://127.0.0.1:28081/{proxy}" --query IntegrationId --output text)
    $gw2 create-route --api-id "$API" --route-key 'ANY /{proxy+}' --target "integrations/$INT" > /dev/null
    $gw2 create-stage --api-id "$API" --stage-name '$default' --auto-deploy > /dev/null
    HOST="$API.execute-api.localhost:28080"
    URL=http://127.0.0.1:28080/hello
else
API=$($gw create-rest-api --name callgrind --query id --output text)
ROOT=$($gw get-resources --rest-api-id "$API" --query 'items[0].id' --output text)
PROXY=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part '{proxy+}' --query id --output text)
$gw put-method --rest-api-id "$API" --resource-id "$PROXY" --http-method ANY --authorization-type NONE > /dev/null
$gw put-integration --rest-api-id "$API" --resource-id "$PROXY" --http-method ANY --type HTTP_PROXY \
    --integration-http-method ANY --uri "http://127.0.0.1:28081/{proxy}" \
    --request-parameters '{"integration.request.path.proxy":"method.request.path.proxy"}' > /dev/null
$gw create-deployment --rest-api-id "$API" --stage-name bench > /dev/null
HOST="$API.execute-api.localhost:28080"
URL=http://127.0.0.1:28080/bench/hello
fi
for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$URL")" = 200 ] && break
    sleep 0.2
done
# Warm the connection pool and the caches first.
wrk -t1 -c4 -d3s -H "Host: $HOST" "$URL" > /dev/null
callgrind_control -i on "$VG" > /dev/null
wrk -t1 -c4 -d20s ${CLOSE:+-H "Connection: close"} -H "Host: $HOST" "$URL" > "$W/wrk.txt"
callgrind_control -i off "$VG" > /dev/null
REQUESTS=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
callgrind_control -d "$VG" > /dev/null
sleep 1
TOTAL=$(cat "$W"/cg.out* | awk '/^totals:/ {s += $2} END {print s}')
echo "instructions per proxied request: $((TOTAL / REQUESTS)) (total $TOTAL over $REQUESTS requests)"
# With CALLGRIND_KEEP=DIR, the profile is kept there for callgrind_annotate.
if [ -n "${CALLGRIND_KEEP:-}" ]; then mkdir -p "$CALLGRIND_KEEP" && cp "$W"/cg.out* "$CALLGRIND_KEEP"/; fi
