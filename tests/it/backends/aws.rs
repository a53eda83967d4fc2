//! Fakes of the AWS services integrations call: STS, SQS (query protocol), S3, and the
//! services of the JSON protocol (SQS, EventBridge, Kinesis, Step Functions, DynamoDB), with
//! SSM's GetParameter.

use super::*;

/// What a fake AWS service received: path, parameters (query and form body merged) and
/// whether the call was signed for the service.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub params: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub signed: bool,
    /// Signed with the credentials [`fake_sts`] hands out for a role.
    pub signed_by_role: bool,
    pub session_token: Option<String>,
}

/// The secret of the credentials [`fake_sts`] hands out.
pub const ROLE_SECRET: &str = "role-secret";

/// STS's AssumeRole (query API): answers temporary credentials (secret [`ROLE_SECRET`]) for any
/// role, to callers signed with the tests' secret; counts the calls.
pub async fn fake_sts() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let counter = counter.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let params = gatehouse::domain::query::parse(&String::from_utf8_lossy(&body));
            let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if !signed_for(&parts, &body, "sts") || param("Action").as_deref() != Some("AssumeRole") {
                return Response::builder().status(403).body(Full::new(Bytes::from_static(b"<ErrorResponse/>"))).unwrap();
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiration = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
            let role = param("RoleArn").unwrap_or_default();
            let xml = format!(
                "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>{role}</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>role-token</SessionToken><Expiration>{expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
            );
            Response::builder().header("content-type", "text/xml").body(Full::new(Bytes::from(xml))).unwrap()
        }
    })
    .await;
    (addr, calls)
}

/// SQS's query API, enough for SendMessage: answers XML as SQS does (JSON to `Accept:
/// application/json`), 400 `MissingParameter` without a MessageBody; everything received is
/// kept.
pub async fn fake_sqs() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = received.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let mut params = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            params.extend(gatehouse::domain::query::parse(&String::from_utf8_lossy(&body)));
            let got = Received {
                path: parts.uri.path().to_owned(),
                session_token: parts
                    .headers
                    .get("x-amz-security-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                signed_by_role: signed_with(&parts, &body, "sqs", ROLE_SECRET),
                content_type: parts
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                signed: signed_for(&parts, &body, "sqs"),
                params,
            };
            let message = got.params.iter().find(|(k, _)| k == "MessageBody").map(|(_, v)| v.clone());
            // The query API answers JSON to `Accept: application/json` (as API Gateway asks by
            // default: AWS's recorded templates read `$input.path('$.SendMessageResponse')`),
            // else XML.
            let wants_json = parts
                .headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/json"));
            let n = {
                let mut log = log.lock().unwrap();
                log.push(got);
                log.len()
            };
            let request_id = uuid::Uuid::new_v4().to_string();
            const MISSING: &str = "The request must contain the parameter MessageBody.";
            let (status, content_type, answer): (u16, &str, String) = match (message, wants_json) {
                (Some(message), false) => (
                    200,
                    "text/xml",
                    format!(
                        "<SendMessageResponse><SendMessageResult><MessageId>msg-{n}</MessageId><MD5OfMessageBody>{}</MD5OfMessageBody></SendMessageResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></SendMessageResponse>",
                        md5_hex(message.as_bytes())
                    ),
                ),
                (Some(message), true) => (
                    200,
                    "application/json",
                    json!({"SendMessageResponse": {
                        "ResponseMetadata": {"RequestId": request_id},
                        "SendMessageResult": {"MD5OfMessageAttributes": null, "MD5OfMessageBody": md5_hex(message.as_bytes()),
                            "MD5OfMessageSystemAttributes": null, "MessageId": format!("msg-{n}"), "SequenceNumber": null}}})
                    .to_string(),
                ),
                (None, false) => (
                    400,
                    "text/xml",
                    format!("<ErrorResponse><Error><Type>Sender</Type><Code>MissingParameter</Code><Message>{MISSING}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"),
                ),
                (None, true) => (
                    400,
                    "application/json",
                    json!({"Error": {"Type": "Sender", "Code": "MissingParameter", "Message": MISSING}, "RequestId": request_id})
                        .to_string(),
                ),
            };
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(answer)))
                .unwrap()
        }
    })
    .await;
    (addr, received)
}

/// Objects a fake S3 holds: key (`bucket/key`) → body and Content-Type.
pub type Objects = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (Bytes, String)>>>;

/// S3's object API, enough for PUT, GET and DELETE: GET answers `response-content-type` as
/// the Content-Type when asked (as S3 does); objects have the ETag S3 gives a single-part
/// upload (their MD5); a missing key is 404 `NoSuchKey`, with S3's XML error (its `HostId`
/// [`S3_HOST_ID`]). Bucket `apigw-binary-objects` holds from the start the objects AWS's
/// recorded binary response tests (test_apigateway_s3) put with S3's own PutObject:
/// `binary-raw` (gzip bytes, not UTF-8), `binary-encoded` (their base64) and `text`.
pub async fn fake_s3() -> (SocketAddr, Objects) {
    let objects: Objects = Default::default();
    {
        use base64::Engine;
        let raw = hex::decode("1f8b0800146cee6302ff4bcecf2d284a2d2e4e4d5148492c49d45128cec82fcd4951484a55c8cc2b4bccc94c51080d71d3b550282e29cacc4b0700b83910572f000000").unwrap();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(&raw)
            .into_bytes();
        let text = b"this is a UTF8 text typed object".to_vec();
        let mut seeded = objects.lock().unwrap();
        for (key, body) in [("binary-raw", raw), ("binary-encoded", encoded), ("text", text)] {
            seeded.insert(
                format!("apigw-binary-objects/{key}"),
                (Bytes::from(body), "binary/octet-stream".to_owned()),
            );
        }
    }
    let store = objects.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let store = store.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let key = percent_encoding::percent_decode_str(parts.uri.path().trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned();
            let etag = |b: &[u8]| format!("\"{}\"", md5_hex(b));
            if parts.method == http::Method::DELETE {
                store.lock().unwrap().remove(&key);
                return Response::builder()
                    .status(204)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
            }
            if parts.method == http::Method::PUT {
                let content_type = parts
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("binary/octet-stream")
                    .to_owned();
                let tag = etag(&body);
                store.lock().unwrap().insert(key, (body, content_type));
                return Response::builder()
                    .header("etag", tag)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
            }
            let query = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            let found = store.lock().unwrap().get(&key).cloned();
            match found {
                Some((body, stored_type)) => {
                    let content_type = query
                        .iter()
                        .find(|(k, _)| k == "response-content-type")
                        .map(|(_, v)| v.clone())
                        .unwrap_or(stored_type);
                    Response::builder()
                        .header("content-type", content_type)
                        .header("etag", etag(&body))
                        .body(Full::new(body))
                        .unwrap()
                }
                None => {
                    let object = key
                        .split_once('/')
                        .map_or("", |(_, k)| k)
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;");
                    let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase();
                    let xml = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{object}</Key><RequestId>{request_id}</RequestId><HostId>{S3_HOST_ID}</HostId></Error>"
                    );
                    Response::builder()
                        .status(404)
                        .header("content-type", "application/xml")
                        .body(Full::new(Bytes::from(xml)))
                        .unwrap()
                }
            }
        }
    })
    .await;
    (addr, objects)
}

/// A call to an AWS service's JSON protocol: the action (`X-Amz-Target`), its body, and
/// which service it was signed for by an assumed role.
#[derive(Debug, Clone)]
pub struct JsonCall {
    pub target: String,
    pub content_type: String,
    pub body: serde_json::Value,
    pub signed_as: Option<&'static str>,
    pub path: String,
}

/// AWS services on the JSON protocol (SQS, EventBridge, Kinesis, Step Functions, DynamoDB), and
/// SSM's GetParameter on its query protocol, enough to answer each action as the service does.
/// The action is the `X-Amz-Target` header's or, without one, the `Action` query parameter of
/// API Gateway's `action/{Action}` integrations: AWS's recordings (test_apigateway_kinesis,
/// _dynamodb, _stepfunctions, _ssm) show Kinesis, DynamoDB, Step Functions and SSM answering
/// those without a target, EventBridge needing one (its recorded template sets it). A queue
/// named `missing` is SQS's `QueueDoesNotExist` (400). Every DynamoDB table exists, keyed by
/// `id`, holding at first the items the recorded test put in ([`dynamodb`]); the one SSM
/// parameter is the recorded `param-test-123` ([`ssm_get_parameter`]). Every call is kept.
pub async fn fake_aws_json() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<JsonCall>>>) {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let tables: DynamoTables = Default::default();
    let sequence = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let (log, tables, sequence) = (log.clone(), tables.clone(), sequence.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let header = |n: &str| {
                parts
                    .headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            // Signed as an assumed role (the secret [`fake_sts`] hands out).
            let signed_as = ["sqs", "events", "kinesis", "states", "appconfig", "dynamodb", "ssm"]
                .into_iter()
                .find(|s| signed_with(&parts, &body, s, ROLE_SECRET));
            let parsed = serde_json::from_slice::<Value>(&body);
            let call = JsonCall {
                target: header("x-amz-target"),
                content_type: header("content-type"),
                body: parsed.as_ref().map_or(Value::Null, Value::clone),
                signed_as,
                path: parts.uri.to_string(),
            };
            let mut params = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            if call.content_type.starts_with("application/x-www-form-urlencoded") {
                params.extend(gatehouse::domain::query::parse(&String::from_utf8_lossy(&body)));
            }
            let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let action = if call.target.is_empty() {
                param("Action").unwrap_or_default()
            } else {
                String::new()
            };
            let operation = match action.as_str() {
                "PutRecord" | "PutRecords" => format!("Kinesis_20131202.{action}"),
                "StartExecution" | "DeleteStateMachine" => format!("AWSStepFunctions.{action}"),
                "PutItem" | "Query" | "Scan" => format!("DynamoDB_20120810.{action}"),
                _ => call.target.clone(),
            };
            let (status, content_type, answer): (u16, &str, String) = if action == "GetParameter" {
                let wants_json = header("accept").contains("application/json");
                ssm_get_parameter(param("Name").as_deref(), wants_json)
            } else {
                let input = &call.body;
                let (status, answer) = match operation.as_str() {
                    _ if !body.is_empty() && parsed.is_err() => (
                        400,
                        aws_error("SerializationException", "The request body is not valid JSON."),
                    ),
                    "AmazonSQS.SendMessage" if input["QueueUrl"].as_str().is_some_and(|q| q.ends_with("/missing")) => (
                        400,
                        aws_error("com.amazonaws.sqs#QueueDoesNotExist", "The specified queue does not exist."),
                    ),
                    "AmazonSQS.SendMessage" => (
                        200,
                        json!({"MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e", "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274"}),
                    ),
                    "AWSEvents.PutEvents" => put_events(input),
                    "Kinesis_20131202.PutRecord" => kinesis_put(input, &sequence, false),
                    "Kinesis_20131202.PutRecords" => kinesis_put(input, &sequence, true),
                    "AWSStepFunctions.StartExecution" => step_functions("StartExecution", input),
                    "AWSStepFunctions.DeleteStateMachine" => step_functions("DeleteStateMachine", input),
                    "DynamoDB_20120810.PutItem" => dynamodb("PutItem", input, &tables),
                    "DynamoDB_20120810.Query" => dynamodb("Query", input, &tables),
                    "DynamoDB_20120810.Scan" => dynamodb("Scan", input, &tables),
                    _ => (400, json!({"__type": "UnknownOperationException"})),
                };
                (status, "application/x-amz-json-1.0", answer.to_string())
            };
            log.lock().unwrap().push(call);
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(answer)))
                .unwrap()
        }
    })
    .await;
    (addr, calls)
}

/// The `HostId` of [`fake_s3`]'s errors (one host answers them all).
pub const S3_HOST_ID: &str = "RmFrZVMzSG9zdC8xMjM0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=";

/// MD5 of `data`, in hex: S3's ETag of a single-part upload, SQS's MD5OfMessageBody.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// An error of AWS's JSON protocol.
fn aws_error(kind: &str, message: &str) -> Value {
    json!({"__type": kind, "message": message})
}

/// EventBridge's PutEvents: an EventId for each entry whose Detail is a JSON object, the
/// `MalformedDetail` error for the others.
fn put_events(input: &Value) -> (u16, Value) {
    let Some(entries) = input["Entries"].as_array() else {
        return (
            400,
            aws_error(
                "ValidationException",
                "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
            ),
        );
    };
    let mut failed = 0;
    let results: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let detail = entry["Detail"].as_str();
            if detail.is_none_or(|d| serde_json::from_str::<Value>(d).is_ok_and(|v| v.is_object())) {
                json!({"EventId": uuid::Uuid::new_v4().to_string()})
            } else {
                failed += 1;
                json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
            }
        })
        .collect();
    (200, json!({"Entries": results, "FailedEntryCount": failed}))
}

/// Why Kinesis refuses a record of `request` (PutRecord's request is its one record): no
/// stream named, no partition key, data that is not base64.
fn kinesis_refusal(request: &Value, record: &Value) -> Option<Value> {
    use base64::Engine;
    if request["StreamName"].as_str().is_none() && request["StreamARN"].as_str().is_none() {
        return Some(aws_error(
            "InvalidArgumentException",
            "Either StreamName or StreamARN should be provided.",
        ));
    }
    let key = record["PartitionKey"].as_str().unwrap_or_default();
    if key.is_empty() || key.len() > 256 {
        return Some(aws_error(
            "ValidationException",
            "1 validation error detected: Value at 'partitionKey' failed to satisfy constraint: Member must have length between 1 and 256",
        ));
    }
    match record["Data"].as_str() {
        None => Some(aws_error(
            "ValidationException",
            "1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must not be null",
        )),
        Some(data) if base64::engine::general_purpose::STANDARD.decode(data).is_err() => Some(aws_error(
            "SerializationException",
            "Base64 encoded data is not valid.",
        )),
        Some(_) => None,
    }
}

/// Kinesis's PutRecord, and PutRecords (`many`), to a stream of one shard: each record gets
/// the next sequence number.
fn kinesis_put(request: &Value, sequence: &std::sync::atomic::AtomicU64, many: bool) -> (u16, Value) {
    let shard = "shardId-000000000000";
    let next = || {
        let n = sequence.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        format!("4963{n:052}")
    };
    if !many {
        return match kinesis_refusal(request, request) {
            Some(refusal) => (400, refusal),
            None => (200, json!({"SequenceNumber": next(), "ShardId": shard})),
        };
    }
    let records = request["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if records.is_empty() || records.len() > 500 {
        return (
            400,
            aws_error(
                "ValidationException",
                "1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and 500",
            ),
        );
    }
    if let Some(refusal) = records.iter().find_map(|r| kinesis_refusal(request, r)) {
        return (400, refusal);
    }
    let answers: Vec<Value> = records
        .iter()
        .map(|_| json!({"SequenceNumber": next(), "ShardId": shard}))
        .collect();
    (200, json!({"FailedRecordCount": 0, "Records": answers}))
}

/// Step Functions' StartExecution (its `input` must be JSON) and DeleteStateMachine, of any
/// state machine.
fn step_functions(action: &str, request: &Value) -> (u16, Value) {
    let Some(machine) = request["stateMachineArn"]
        .as_str()
        .filter(|a| a.starts_with("arn:aws:states:") && a.contains(":stateMachine:"))
    else {
        return (
            400,
            aws_error(
                "InvalidArn",
                &format!(
                    "Invalid Arn: '{}'",
                    request["stateMachineArn"].as_str().unwrap_or_default()
                ),
            ),
        );
    };
    if action == "DeleteStateMachine" {
        return (200, json!({}));
    }
    match request.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(input)) if serde_json::from_str::<Value>(input).is_ok() => {}
        Some(Value::String(_)) => {
            return (
                400,
                aws_error(
                    "InvalidExecutionInput",
                    "Invalid State Machine Execution Input: not JSON",
                ),
            );
        }
        Some(_) => {
            return (
                400,
                aws_error("SerializationException", "Expected a string for 'input'"),
            );
        }
    }
    let name = request["name"]
        .as_str()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let execution = format!("{}:{name}", machine.replacen(":stateMachine:", ":execution:", 1));
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    (
        200,
        json!({"executionArn": execution, "startDate": millis as f64 / 1000.0}),
    )
}

/// [`fake_aws_json`]'s DynamoDB tables: name → items by their `id` (a string).
type DynamoTables = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, std::collections::BTreeMap<String, Value>>>,
>;

/// DynamoDB's PutItem, Query (a key condition `id = :value`) and Scan. A table exists once
/// named, holding at first the items `test`, `test2` and `test 3` (what AWS's recorded
/// test_apigateway_dynamodb put in before calling the API); items come in `id` order.
fn dynamodb(action: &str, request: &Value, tables: &DynamoTables) -> (u16, Value) {
    const INVALID: &str = "com.amazon.coral.validate#ValidationException";
    let Some(table) = request["TableName"].as_str() else {
        return (
            400,
            aws_error(
                INVALID,
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
            ),
        );
    };
    let mut tables = tables.lock().unwrap();
    let items = tables.entry(table.to_owned()).or_insert_with(|| {
        ["test", "test2", "test 3"]
            .into_iter()
            .map(|id| (id.to_owned(), json!({"id": {"S": id}})))
            .collect()
    });
    let found = |matching: Vec<Value>| {
        let count = matching.len();
        (
            200,
            json!({"Count": count, "Items": matching, "ScannedCount": count}),
        )
    };
    match action {
        "PutItem" => match request["Item"]["id"]["S"].as_str() {
            Some(id) => {
                items.insert(id.to_owned(), request["Item"].clone());
                (200, json!({}))
            }
            None => (
                400,
                aws_error(
                    INVALID,
                    "One or more parameter values were invalid: Missing the key id in the item",
                ),
            ),
        },
        "Scan" => found(items.values().cloned().collect()),
        _ => {
            let condition = request["KeyConditionExpression"].as_str().unwrap_or_default();
            let wanted = condition
                .split_once('=')
                .filter(|(attribute, _)| attribute.trim() == "id")
                .map(|(_, name)| &request["ExpressionAttributeValues"][name.trim()])
                .filter(|v| !v.is_null());
            match wanted {
                Some(wanted) => found(
                    items
                        .values()
                        .filter(|item| item["id"] == *wanted)
                        .cloned()
                        .collect(),
                ),
                None => (400, aws_error(INVALID, "Invalid KeyConditionExpression")),
            }
        }
    }
}

/// SSM's GetParameter on its query protocol, as API Gateway's `ssm:action/GetParameter`
/// integrations call it: JSON when asked for (`wants_json`), else XML. The one parameter is
/// the `param-test-123` (`123`) AWS's recorded test_apigateway_ssm created.
fn ssm_get_parameter(name: Option<&str>, wants_json: bool) -> (u16, &'static str, String) {
    let request_id = uuid::Uuid::new_v4().to_string();
    match name {
        Some(name @ "param-test-123") => {
            let arn = format!("arn:aws:ssm:us-east-1:111111111111:parameter/{name}");
            if wants_json {
                let answer = json!({"GetParameterResponse": {
                    "GetParameterResult": {"Parameter": {
                        "ARN": arn, "DataType": "text", "LastModifiedDate": 1720811630.12, "Name": name,
                        "Selector": null, "SourceResult": null, "Type": "String", "Value": "123", "Version": 1}},
                    "ResponseMetadata": {"RequestId": request_id}}});
                (200, "application/json", answer.to_string())
            } else {
                let xml = format!(
                    "<GetParameterResponse xmlns=\"http://ssm.amazonaws.com/doc/2014-11-06/\"><GetParameterResult><Parameter><ARN>{arn}</ARN><DataType>text</DataType><LastModifiedDate>2024-07-12T19:13:50.120Z</LastModifiedDate><Name>{name}</Name><Type>String</Type><Value>123</Value><Version>1</Version></Parameter></GetParameterResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetParameterResponse>"
                );
                (200, "text/xml", xml)
            }
        }
        _ if wants_json => {
            let answer = json!({"Error": {"Code": "ParameterNotFound", "Message": null, "Type": "Sender"}, "RequestId": request_id});
            (400, "application/json", answer.to_string())
        }
        _ => {
            let xml = format!(
                "<ErrorResponse xmlns=\"http://ssm.amazonaws.com/doc/2014-11-06/\"><Error><Type>Sender</Type><Code>ParameterNotFound</Code></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            );
            (400, "text/xml", xml)
        }
    }
}
