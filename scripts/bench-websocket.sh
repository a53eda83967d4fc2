#!/usr/bin/env bash
# WebSocket load on loopback: memory per idle connection on one worker, message round trips
# at many connections, and @connections POST throughput from one worker to a connection
# another worker holds. Needs: nginx (Debian: apt-get install nginx-light), the AWS CLI
# (pip install awscli), a PostgreSQL (DATABASE_URL) and `ulimit -n` above IDLE + 1000.
#
# Every message goes through an HTTP_PROXY integration (to nginx) and back as the route's
# response, as a chat backend would.
#
#   [IDLE=10000] [RTT_CONNS=1000] [RTT_MESSAGES=20] [PUSH_SECS=10] [PUSH_CONCURRENCY=32] \
#     scripts/bench-websocket.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-10000}
RTT_CONNS=${RTT_CONNS:-1000}
RTT_MESSAGES=${RTT_MESSAGES:-20}
PUSH_SECS=${PUSH_SECS:-10}
PUSH_CONCURRENCY=${PUSH_CONCURRENCY:-32}
export GATEHOUSE_DATA_PLANE_THREADS=${WORKERS:-1}
WORK=$(mktemp -d)
BACKEND_PORT=18081
MGMT_PORT=19000
DP_PORT=18080
DP2_PORT=18090
trap 'kill $(jobs -p) 2>/dev/null; nginx -p "$WORK" -c "$WORK/backend.conf" -s stop 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin gatehouse --example ws_load

# The backend answers a message with the connection's id (which the API sends it).
cat > "$WORK/backend.conf" <<CONF
worker_processes 1;
pid $WORK/backend.pid;
error_log $WORK/backend-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server { listen 127.0.0.1:$BACKEND_PORT; location / { default_type text/plain; return 200 "\$http_x_amzn_connection_id"; } }
}
CONF
nginx -p "$WORK" -c "$WORK/backend.conf"

export GATEHOUSE_DATA_DIR="$WORK/gh" RUST_LOG=warn
setsid ./target/release/gatehouse serve --listen 127.0.0.1:$MGMT_PORT --data-plane 127.0.0.1:$DP_PORT > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q "data plane on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
gw2="aws --endpoint-url http://127.0.0.1:$MGMT_PORT apigatewayv2"
API=$($gw2 create-api --name bench --protocol-type WEBSOCKET --route-selection-expression '$request.body.action' --query ApiId --output text)
INT=$($gw2 create-integration --api-id "$API" --integration-type HTTP_PROXY --integration-method POST \
    --integration-uri "http://127.0.0.1:$BACKEND_PORT/" --query IntegrationId --output text)
ROUTE=$($gw2 create-route --api-id "$API" --route-key '$default' --target "integrations/$INT" \
    --route-response-selection-expression '$default' --query RouteId --output text)
$gw2 create-route-response --api-id "$API" --route-id "$ROUTE" --route-response-key '$default' > /dev/null
$gw2 create-stage --api-id "$API" --stage-name prod --auto-deploy > /dev/null
# A caller allowed to use the @connections API.
cat > "$WORK/manage.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}]}
JSON
./target/release/gatehouse credentials create --account-id 000000000000 --access-key-id BENCHMGR \
    --secret-access-key bench-secret --principal arn:aws:iam::000000000000:user/bench \
    --policy-file "$WORK/manage.json" > /dev/null
# A second worker, for @connections calls that reach a connection the first holds.
setsid ./target/release/gatehouse worker --control-plane "http://127.0.0.1:$MGMT_PORT" \
    --listen 127.0.0.1:$DP2_PORT --metrics-listen 127.0.0.1:0 \
    --cluster-token "$(cat "$WORK/gh/cluster-token")" > "$WORK/worker2.log" 2>&1 &
URL="ws://127.0.0.1:$DP_PORT/restapis/$API/prod/_user_request_/"
sleep 3

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo "WebSocket load on $(nproc) cores, $GATEHOUSE_DATA_PLANE_THREADS data-plane thread(s) per worker"
BEFORE=$(rss_kb "$SERVE_PID")
./target/release/examples/ws_load idle "$URL" "$IDLE" 8 > "$WORK/idle.out" &
IDLE_PID=$!
for _ in $(seq 1 600); do grep -q "^open" "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
sleep 2
AFTER=$(rss_kb "$SERVE_PID")
awk -v b="$BEFORE" -v a="$AFTER" -v n="$IDLE" 'BEGIN { printf "idle connections: %d held; worker RSS %.1f MB -> %.1f MB: %.1f KB per connection\n", n, b/1024, a/1024, (a-b)/n }'
wait $IDLE_PID
sleep 2
./target/release/examples/ws_load rtt "$URL" "$RTT_CONNS" "$RTT_MESSAGES"
./target/release/examples/ws_load push "$URL" "http://127.0.0.1:$DP2_PORT/restapis/$API/prod/_user_request_" \
    BENCHMGR bench-secret "$PUSH_SECS" "$PUSH_CONCURRENCY"
