//! How many operations of the botocore models Gatehouse knows, found as a user would find it:
//! each operation of `apigateway` and `apigatewayv2` (`tests/data/operations.json`, written by
//! `scripts/operations.py` from the models) is sent, signed, with made-up ids and an empty
//! JSON body, and counts as known unless the answer is `UnknownOperationException` or 405. An
//! operation told apart from another only by its query string (`?mode=import`) counts as
//! known when its path and method are. The README's feature table states these figures; this
//! fails when they change, so that it stays true.

use std::collections::BTreeMap;

use serde_json::json;

use crate::conformance::SignedClient;
use crate::helpers::*;

/// The figures the README states: operations known, of the models' 124 and 103.
const KNOWN: (usize, usize) = (124, 72);

/// `uri` with each `{label}` (and greedy `{label+}`) replaced by a made-up value.
fn with_made_up_ids(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str("gh-none");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_operations_gatehouse_knows_are_counted() {
    let app = spawn_app().await;
    let client = SignedClient::new(&app);
    let models: BTreeMap<String, Vec<(String, String, String)>> =
        serde_json::from_str(include_str!("../data/operations.json")).unwrap();
    let mut unknown: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (service, operations) in &models {
        for (name, method, uri) in operations {
            let body = matches!(method.as_str(), "POST" | "PUT" | "PATCH").then(|| json!({}));
            let answer = client.send(method, &with_made_up_ids(uri), body.as_ref()).await;
            let known =
                answer.status != 405 && answer.error_type.as_deref() != Some("UnknownOperationException");
            if !known {
                unknown.entry(service).or_default().push(name);
            }
        }
    }
    let known = |s: &str| models[s].len() - unknown.get(s).map_or(0, Vec::len);
    assert_eq!(
        (known("apigateway"), known("apigatewayv2")),
        KNOWN,
        "update KNOWN and the README's figures; not known: {unknown:#?}"
    );
}
