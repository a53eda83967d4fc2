#!/usr/bin/env bash
# What authorization costs at load, on loopback: the same MOCK route without authorization,
# with a cached Lambda TOKEN authorizer, with a Cognito user pool authorizer (an ES256 JWT
# verified against a cached JWKS), and as an AWS_IAM method (a SigV4 signature verified),
# measured with wrk in alternating rounds; the ratios are each route's throughput over the
# open route's in the same round. An nginx serves the fake Lambda Invoke API (an allow-all
# policy) and the OpenID issuer's files. Needs: wrk, nginx, the AWS CLI, PostgreSQL
# (DATABASE_URL, or the embedded one).
#
#   [ROUNDS=3] scripts/bench-authorizers.sh [duration=10s] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
CONNS=${2:-64}
export GATEHOUSE_DATA_PLANE_THREADS=1
WORK=$(mktemp -d)
FIX_PORT=18085
MGMT_PORT=19000
DP_PORT=18080
POOL=us-east-1_bench
trap 'kill $(jobs -p) 2>/dev/null; nginx -p "$WORK" -c "$WORK/fixtures.conf" -s stop 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin gatehouse --example auth_fixtures
ISSUER="http://127.0.0.1:$FIX_PORT/issuer"
TOKEN=$(./target/release/examples/auth_fixtures issuer "$WORK/issuer" "$ISSUER")
# nginx workers run as another user: they must be able to read the issuer's files.
chmod -R a+rX "$WORK"
cat > "$WORK/fixtures.conf" <<CONF
worker_processes 1;
pid $WORK/fixtures.pid;
error_log $WORK/fixtures-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$FIX_PORT;
        location /2015-03-31/ {
            default_type application/json;
            return 200 '{"principalId":"bench","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]},"context":{"tier":"gold"}}';
        }
        location /issuer/ { alias $WORK/issuer/; default_type application/json; }
        # The backend of the HTTP_PROXY routes.
        location /hello { default_type text/plain; return 200 "hello from the backend\n"; }
    }
}
CONF
nginx -p "$WORK" -c "$WORK/fixtures.conf"

export GATEHOUSE_DATA_DIR="$WORK/gh" RUST_LOG=warn GATEHOUSE_LAMBDA_ENDPOINT="http://127.0.0.1:$FIX_PORT"
setsid ./target/release/gatehouse serve --listen 127.0.0.1:$MGMT_PORT --data-plane 127.0.0.1:$DP_PORT \
    --aws-endpoint "cognito-idp/$POOL=$ISSUER" > "$WORK/serve.log" 2>&1 &
GATEHOUSE_PID=$!
for _ in $(seq 1 100); do grep -q "data plane on" "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}' > "$WORK/allow.json"
./target/release/gatehouse credentials create --account-id 000000000000 --access-key-id BENCHCALLER \
    --secret-access-key benchsecret --principal arn:aws:iam::000000000000:user/bench \
    --policy-file "$WORK/allow.json" > /dev/null

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
gw="aws --endpoint-url http://127.0.0.1:$MGMT_PORT apigateway"
API=$($gw create-rest-api --name bench-auth --query id --output text)
ROOT=$($gw get-resources --rest-api-id "$API" --query 'items[0].id' --output text)
LAMBDA_AUTH=$($gw create-authorizer --rest-api-id "$API" --name lambda --type TOKEN \
    --authorizer-uri "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations" \
    --identity-source method.request.header.Authorization --authorizer-result-ttl-in-seconds 300 --query id --output text)
POOL_AUTH=$($gw create-authorizer --rest-api-id "$API" --name pool --type COGNITO_USER_POOLS \
    --provider-arns "arn:aws:cognito-idp:us-east-1:000000000000:userpool/$POOL" \
    --identity-source method.request.header.Authorization --query id --output text)
route() { # path authorization-type [authorizer-id]: a MOCK route, and the same as HTTP_PROXY at {path}-proxy
    local id; id=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part "$1" --query id --output text)
    local auth=(--authorization-type "$2"); [ -n "${3:-}" ] && auth+=(--authorizer-id "$3")
    $gw put-method --rest-api-id "$API" --resource-id "$id" --http-method GET "${auth[@]}" > /dev/null
    $gw put-integration --rest-api-id "$API" --resource-id "$id" --http-method GET --type MOCK \
        --request-templates '{"application/json":"{\"statusCode\": 200}"}' > /dev/null
    $gw put-integration-response --rest-api-id "$API" --resource-id "$id" --http-method GET --status-code 200 \
        --selection-pattern "" --response-templates '{"application/json":"{\"ok\": true}"}' > /dev/null
    id=$($gw create-resource --rest-api-id "$API" --parent-id "$ROOT" --path-part "$1-proxy" --query id --output text)
    $gw put-method --rest-api-id "$API" --resource-id "$id" --http-method GET "${auth[@]}" > /dev/null
    $gw put-integration --rest-api-id "$API" --resource-id "$id" --http-method GET --type HTTP_PROXY \
        --integration-http-method GET --uri "http://127.0.0.1:$FIX_PORT/hello" > /dev/null
}
route open NONE
route lambda CUSTOM "$LAMBDA_AUTH"
route jwt COGNITO_USER_POOLS "$POOL_AUTH"
route iam AWS_IAM
$gw create-deployment --rest-api-id "$API" --stage-name bench > /dev/null
HOST="$API.execute-api.localhost:$DP_PORT"
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "http://127.0.0.1:$DP_PORT/bench/open")" = 200 ] && break
    sleep 0.1
done
IAM_HEADERS=()
while IFS= read -r line; do IAM_HEADERS+=(-H "$line"); done < <(./target/release/examples/auth_fixtures sigv4 "http://$HOST/bench/iam" BENCHCALLER benchsecret)
declare -A EXTRA
for route in open lambda jwt iam; do
    case $route in
        lambda) args=(-H "Authorization: allow") ;;
        jwt) args=(-H "Authorization: $TOKEN") ;;
        iam) args=("${IAM_HEADERS[@]}") ;;
        *) args=() ;;
    esac
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "${args[@]}" "http://127.0.0.1:$DP_PORT/bench/$route")
    [ "$status" = 200 ] || { echo "$route answers $status"; cat "$WORK/serve.log"; exit 1; }
done

. scripts/lib/wrk-run.sh

ROUNDS=${ROUNDS:-3}
echo "wrk -t2 -c$CONNS -d$DURATION on $(nproc) cores, 1 data-plane thread; ratios: route / open in the same round"
for r in $(seq 1 "$ROUNDS"); do
    run "open-$r" bench/open
    run "lambda-$r" bench/lambda -H "Authorization: allow"
    run "jwt-$r" bench/jwt -H "Authorization: $TOKEN"
    run "iam-$r" bench/iam "${IAM_HEADERS[@]}"
    run "open-proxy-$r" bench/open-proxy
    run "lambda-proxy-$r" bench/lambda-proxy -H "Authorization: allow"
    run "jwt-proxy-$r" bench/jwt-proxy -H "Authorization: $TOKEN"
    for route in lambda jwt iam; do
        awk -v a="$(cat "$WORK/$route-$r.rps")" -v o="$(cat "$WORK/open-$r.rps")" 'BEGIN { printf "%.3f\n", a / o }' >> "$WORK/$route.ratios"
    done
    for route in lambda-proxy jwt-proxy; do
        awk -v a="$(cat "$WORK/$route-$r.rps")" -v o="$(cat "$WORK/open-proxy-$r.rps")" 'BEGIN { printf "%.3f\n", a / o }' >> "$WORK/$route.ratios"
    done
done
for route in lambda jwt iam; do
    echo "MOCK $route / open: median $(median "$WORK/$route.ratios")x ($(paste -sd' ' "$WORK/$route.ratios"))"
done
for route in lambda-proxy jwt-proxy; do
    echo "HTTP_PROXY $route / open-proxy: median $(median "$WORK/$route.ratios")x ($(paste -sd' ' "$WORK/$route.ratios"))"
done
