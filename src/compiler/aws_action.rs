//! HTTP APIs' AWS service integrations (`AWS_PROXY` with an `integrationSubtype`): one AWS
//! action each (SQS-SendMessage, EventBridge-PutEvents, Kinesis-PutRecord,
//! StepFunctions-StartExecution, ...), whose parameters the integration's `requestParameters`
//! map from the request (`"QueueUrl": "$request.header.queue"`, `"MessageBody":
//! "$request.body"`). This module is AWS's table of subtypes and their parameters (what
//! management checks and workers call), and a subtype's parameters compiled.

use std::collections::BTreeMap;

use super::http_mapping::{self, Value};

/// How a parameter's text goes into the action's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A JSON string.
    Text,
    /// A JSON number (the text must be an integer).
    Integer,
    /// A JSON array of strings, from comma-separated text.
    List,
    /// A JSON object or array, from its JSON text.
    Json,
    /// A blob: the text's bytes, base64-encoded on the wire (Kinesis' `Data`).
    Blob,
    /// A timestamp: epoch seconds, or an ISO 8601 date turned into them.
    Time,
}

#[derive(Debug)]
pub struct Param {
    /// The key in `requestParameters`, as AWS names it.
    pub name: &'static str,
    /// The field of the action's JSON request (Step Functions' are lower camel case).
    pub wire: &'static str,
    pub required: bool,
    pub shape: Shape,
}

/// How the action is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS's JSON protocol: `POST /` with `X-Amz-Target` and the parameters as one object;
    /// `entries` puts them in `{"Entries": [...]}` (EventBridge's PutEvents).
    Json {
        version: &'static str,
        target: &'static str,
        entries: bool,
    },
    /// AppConfig's GetConfiguration: `GET` of the configuration's path.
    AppConfigGet,
}

#[derive(Debug)]
pub struct Subtype {
    pub name: &'static str,
    /// The service's endpoint name (`--aws-endpoint` key) and SigV4 signing name.
    pub service: &'static str,
    /// The endpoint's own host name at AWS (`sync-states` for Step Functions' synchronous
    /// executions), when it is not the service's.
    pub host: Option<&'static str>,
    pub protocol: Protocol,
    pub params: &'static [Param],
}

const fn p(name: &'static str, required: bool, shape: Shape) -> Param {
    Param {
        name,
        wire: name,
        required,
        shape,
    }
}

const fn w(name: &'static str, wire: &'static str, required: bool, shape: Shape) -> Param {
    Param {
        name,
        wire,
        required,
        shape,
    }
}

const fn json(version: &'static str, target: &'static str) -> Protocol {
    Protocol::Json {
        version,
        target,
        entries: false,
    }
}

use Shape::{Blob, Integer, Json, List, Text, Time};

/// Every subtype AWS documents, with its parameters (each also takes `Region`).
pub const SUBTYPES: &[Subtype] = &[
    Subtype {
        name: "EventBridge-PutEvents",
        service: "events",
        host: None,
        protocol: Protocol::Json {
            version: "1.1",
            target: "AWSEvents.PutEvents",
            entries: true,
        },
        params: &[
            p("Detail", true, Text),
            p("DetailType", true, Text),
            p("Source", true, Text),
            p("Time", false, Time),
            p("EventBusName", false, Text),
            p("Resources", false, List),
            p("TraceHeader", false, Text),
        ],
    },
    Subtype {
        name: "SQS-SendMessage",
        service: "sqs",
        host: None,
        protocol: json("1.0", "AmazonSQS.SendMessage"),
        params: &[
            p("QueueUrl", true, Text),
            p("MessageBody", true, Text),
            p("DelaySeconds", false, Integer),
            p("MessageAttributes", false, Json),
            p("MessageDeduplicationId", false, Text),
            p("MessageGroupId", false, Text),
            p("MessageSystemAttributes", false, Json),
        ],
    },
    Subtype {
        name: "SQS-ReceiveMessage",
        service: "sqs",
        host: None,
        protocol: json("1.0", "AmazonSQS.ReceiveMessage"),
        params: &[
            p("QueueUrl", true, Text),
            p("AttributeNames", false, List),
            p("MaxNumberOfMessages", false, Integer),
            p("MessageAttributeNames", false, List),
            p("ReceiveRequestAttemptId", false, Text),
            p("VisibilityTimeout", false, Integer),
            p("WaitTimeSeconds", false, Integer),
        ],
    },
    Subtype {
        name: "SQS-DeleteMessage",
        service: "sqs",
        host: None,
        protocol: json("1.0", "AmazonSQS.DeleteMessage"),
        params: &[p("ReceiptHandle", true, Text), p("QueueUrl", true, Text)],
    },
    Subtype {
        name: "SQS-PurgeQueue",
        service: "sqs",
        host: None,
        protocol: json("1.0", "AmazonSQS.PurgeQueue"),
        params: &[p("QueueUrl", true, Text)],
    },
    Subtype {
        name: "AppConfig-GetConfiguration",
        service: "appconfig",
        host: None,
        protocol: Protocol::AppConfigGet,
        params: &[
            p("Application", true, Text),
            p("Environment", true, Text),
            p("Configuration", true, Text),
            w("ClientId", "client_id", true, Text),
            w(
                "ClientConfigurationVersion",
                "client_configuration_version",
                false,
                Text,
            ),
        ],
    },
    Subtype {
        name: "Kinesis-PutRecord",
        service: "kinesis",
        host: None,
        protocol: json("1.1", "Kinesis_20131202.PutRecord"),
        params: &[
            p("StreamName", true, Text),
            p("Data", true, Blob),
            p("PartitionKey", true, Text),
            p("SequenceNumberForOrdering", false, Text),
            p("ExplicitHashKey", false, Text),
        ],
    },
    Subtype {
        name: "StepFunctions-StartExecution",
        service: "states",
        host: None,
        protocol: json("1.0", "AWSStepFunctions.StartExecution"),
        params: &[
            w("StateMachineArn", "stateMachineArn", true, Text),
            w("Name", "name", false, Text),
            w("Input", "input", false, Text),
        ],
    },
    Subtype {
        name: "StepFunctions-StartSyncExecution",
        service: "states",
        host: Some("sync-states"),
        protocol: json("1.0", "AWSStepFunctions.StartSyncExecution"),
        params: &[
            w("StateMachineArn", "stateMachineArn", true, Text),
            w("Name", "name", false, Text),
            w("Input", "input", false, Text),
            w("TraceHeader", "traceHeader", false, Text),
        ],
    },
    Subtype {
        name: "StepFunctions-StopExecution",
        service: "states",
        host: None,
        protocol: json("1.0", "AWSStepFunctions.StopExecution"),
        params: &[
            w("ExecutionArn", "executionArn", true, Text),
            w("Cause", "cause", false, Text),
            w("Error", "error", false, Text),
        ],
    },
];

/// The parameter every subtype takes: the region to call the service in (else the API's).
pub const REGION: &str = "Region";

/// Whether `region` is a region's name (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`): it
/// becomes part of the host called, so nothing else may pass.
pub fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

pub fn subtype(name: &str) -> Option<&'static Subtype> {
    SUBTYPES.iter().find(|s| s.name == name)
}

/// A subtype's integration, compiled: each parameter with where its value comes from.
#[derive(Debug)]
pub struct CompiledAction {
    pub subtype: &'static Subtype,
    pub params: Vec<(&'static Param, Value)>,
    pub region: Option<Value>,
}

impl CompiledAction {
    /// Whether a parameter reads the request's body (which must then be read first).
    pub fn reads_body(&self) -> bool {
        self.params
            .iter()
            .map(|(_, v)| v)
            .chain(&self.region)
            .any(Value::reads_body)
    }
}

/// Compiles (and checks, as AWS does when the integration is written) a subtype's parameters:
/// each a parameter of the subtype, every required one given, each value a static text or a
/// request selection.
pub fn compile(name: &str, params: &BTreeMap<String, String>) -> Result<CompiledAction, String> {
    let subtype = subtype(name).ok_or_else(|| {
        format!(
            "Operation: {name} is not supported. Expected one of {}",
            SUBTYPES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        )
    })?;
    let mut compiled = CompiledAction {
        subtype,
        params: Vec::new(),
        region: None,
    };
    for (key, raw) in params {
        let value = http_mapping::value(raw, false)?;
        if key == REGION {
            if let Value::Request(super::ParamSource::Static(r)) = &value
                && !valid_region(r)
            {
                return Err(format!(
                    "Invalid Region {r}: expected a region's name, such as us-east-1"
                ));
            }
            compiled.region = Some(value);
            continue;
        }
        let param = subtype
            .params
            .iter()
            .find(|p| p.name == key)
            .ok_or_else(|| format!("Parameter: {key} does not fit schema for Operation: {name}."))?;
        compiled.params.push((param, value));
    }
    if let Some(missing) = subtype
        .params
        .iter()
        .find(|p| p.required && !params.contains_key(p.name))
    {
        return Err(format!(
            "Parameter: {} is required for Operation: {name}.",
            missing.name
        ));
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_are_checked_against_the_subtype() {
        let ok = compile(
            "SQS-SendMessage",
            &params(&[
                ("QueueUrl", "$request.header.queue"),
                ("MessageBody", "$request.body"),
                ("Region", "eu-west-1"),
            ]),
        )
        .unwrap();
        assert_eq!(ok.params.len(), 2);
        assert!(ok.reads_body());
        assert!(ok.region.is_some());
        let e = compile("SQS-SendMessage", &params(&[("QueueUrl", "q")])).unwrap_err();
        assert_eq!(
            e,
            "Parameter: MessageBody is required for Operation: SQS-SendMessage."
        );
        let e = compile(
            "StepFunctions-StartExecution",
            &params(&[("stateMachineArn", "arn")]),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Parameter: stateMachineArn does not fit schema for Operation: StepFunctions-StartExecution."
        );
        assert!(
            compile("SQS-Nope", &params(&[]))
                .unwrap_err()
                .starts_with("Operation: SQS-Nope is not supported.")
        );
        assert!(compile("SQS-PurgeQueue", &params(&[("QueueUrl", "$request.nope")])).is_err());
    }

    #[test]
    fn regions_are_region_names_only() {
        for ok in ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"] {
            assert!(valid_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "evil.example/",
            "x@10.0.0.1/",
            "US-EAST-1",
            "us-east-1a",
            "us--1",
        ] {
            assert!(!valid_region(bad), "{bad}");
        }
        assert!(
            compile(
                "SQS-PurgeQueue",
                &params(&[("QueueUrl", "q"), ("Region", "a.b/")])
            )
            .is_err()
        );
    }

    #[test]
    fn every_subtype_names_its_parameters_once() {
        for s in SUBTYPES {
            let mut names: Vec<_> = s.params.iter().map(|p| p.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), s.params.len(), "{}", s.name);
            assert!(s.params.iter().any(|p| p.required), "{}", s.name);
        }
    }
}
