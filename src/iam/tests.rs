use super::*;

const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets/1";

fn no_keys(_: &str) -> Option<String> {
    None
}

fn eval(policy: &str, caller: Caller<'_>, resource: &str, keys: &dyn Fn(&str) -> Option<String>) -> Decision {
    Policy::parse(policy).unwrap().evaluate(&Request {
        caller,
        action: "execute-api:Invoke",
        resource,
        keys,
    })
}

fn allow_deny(effects: &[(&str, &str)]) -> String {
    let statements: Vec<String> = effects
        .iter()
        .map(|(effect, resource)| {
            format!(r#"{{"Effect":"{effect}","Action":"execute-api:Invoke","Resource":"{resource}"}}"#)
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

#[test]
fn an_explicit_deny_wins_over_any_allow() {
    let p = allow_deny(&[("Allow", "*"), ("Deny", ARN)]);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::ExplicitDeny);
    let other = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets/2";
    assert_eq!(eval(&p, Caller::Anonymous, other, &no_keys), Decision::Allow);
}

#[test]
fn a_policy_for_another_method_does_not_open_this_one() {
    let p = allow_deny(&[(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/pets/1",
    )]);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::ImplicitDeny);
    let p = allow_deny(&[(
        "Allow",
        "arn:aws:execute-api:us-east-1:123456789012:abc/dev/*/pets/*",
    )]);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
}

#[test]
fn statements_may_be_one_object_and_elements_lists() {
    let p = r#"{"Statement":{"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["x",""#.to_owned()
        + ARN
        + r#""]}}"#;
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
}

#[test]
fn not_action_and_not_resource_invert_their_match() {
    let p = format!(r#"{{"Statement":[{{"Effect":"Allow","NotAction":"s3:*","NotResource":"{ARN}"}}]}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::ImplicitDeny);
    let other = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/x";
    assert_eq!(eval(&p, Caller::Anonymous, other, &no_keys), Decision::Allow);
}

#[test]
fn the_execute_api_shorthand_stands_for_this_api() {
    let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/dev/GET/*"}]}"#;
    assert_eq!(eval(p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
    let post = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/pets";
    assert_eq!(eval(p, Caller::Anonymous, post, &no_keys), Decision::ImplicitDeny);
}

#[test]
fn principals_name_everyone_an_account_a_user_or_a_roles_sessions() {
    let policy = |p: &str| {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{p},"Action":"execute-api:Invoke","Resource":"*"}}]}}"#
        )
    };
    let user = Caller::Iam {
        account: "111111111111",
        arn: "arn:aws:iam::111111111111:user/alice",
    };
    let session = Caller::Iam {
        account: "111111111111",
        arn: "arn:aws:sts::111111111111:assumed-role/reader/s1",
    };
    let everyone = policy(r#"{"AWS":"*"}"#);
    assert_eq!(eval(&everyone, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
    // An account principal delegates to the account's identity policies.
    let account = policy(r#"{"AWS":"arn:aws:iam::111111111111:root"}"#);
    assert_eq!(eval(&account, user, ARN, &no_keys), Decision::AccountAllow);
    let account_id = policy(r#"{"AWS":"111111111111"}"#);
    assert_eq!(eval(&account_id, session, ARN, &no_keys), Decision::AccountAllow);
    let both = policy(r#"{"AWS":["111111111111","arn:aws:iam::111111111111:user/alice"]}"#);
    assert_eq!(eval(&both, user, ARN, &no_keys), Decision::Allow);
    // A Deny to the account is a Deny to each of its callers.
    let deny =
        r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}]}"#;
    assert_eq!(eval(deny, session, ARN, &no_keys), Decision::ExplicitDeny);
    assert_eq!(
        eval(&account, Caller::Anonymous, ARN, &no_keys),
        Decision::ImplicitDeny
    );
    let other_account = policy(r#"{"AWS":["222222222222"]}"#);
    assert_eq!(eval(&other_account, user, ARN, &no_keys), Decision::ImplicitDeny);
    let role = policy(r#"{"AWS":"arn:aws:iam::111111111111:role/reader"}"#);
    assert_eq!(eval(&role, session, ARN, &no_keys), Decision::Allow);
    assert_eq!(eval(&role, user, ARN, &no_keys), Decision::ImplicitDeny);
}

#[test]
fn source_ip_conditions_take_cidr_blocks() {
    let p = r#"{"Statement":[
        {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"},
        {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.1.7"]}}}]}"#;
    let from = |ip: &'static str| move |k: &str| (k == "aws:sourceip").then(|| ip.to_owned());
    assert_eq!(
        eval(p, Caller::Anonymous, ARN, &from("10.2.3.4")),
        Decision::Allow
    );
    assert_eq!(
        eval(p, Caller::Anonymous, ARN, &from("192.168.1.7")),
        Decision::Allow
    );
    assert_eq!(
        eval(p, Caller::Anonymous, ARN, &from("192.168.1.8")),
        Decision::ExplicitDeny
    );
    assert_eq!(
        eval(p, Caller::Anonymous, ARN, &from("::ffff:10.0.0.1")),
        Decision::Allow
    );
}

#[test]
fn missing_keys_fail_positive_operators_and_satisfy_negated_ones() {
    let cond = |c: &str| {
        format!(r#"{{"Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{c}}}]}}"#)
    };
    let p = cond(r#"{"StringEquals":{"aws:SourceVpc":"vpc-1"}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::ImplicitDeny);
    let p = cond(r#"{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
    let p = cond(r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
    let p = cond(r#"{"Null":{"aws:SourceVpc":"true"}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &no_keys), Decision::Allow);
    let vpc = |k: &str| (k == "aws:sourcevpc").then(|| "vpc-1".to_owned());
    let p = cond(r#"{"StringLike":{"aws:SOURCEVPC":"vpc-*"}}"#);
    assert_eq!(eval(&p, Caller::Anonymous, ARN, &vpc), Decision::Allow);
}

#[test]
fn what_cannot_be_evaluated_faithfully_is_refused() {
    for bad in [
        "not json",
        "[]",
        r#"{"Statement":[]}"#.replace("[]", "3").as_str(),
        r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThanish":{"a":"b"}}}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}"#,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":{"a":1}}]}"#,
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}}]}"#,
    ] {
        assert!(Policy::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_role_sessions_principal_arn_is_its_roles() {
    assert_eq!(
        principal_arn("arn:aws:sts::1:assumed-role/reader/s1"),
        "arn:aws:iam::1:role/reader"
    );
    assert_eq!(principal_arn("arn:aws:iam::1:user/a"), "arn:aws:iam::1:user/a");
}

#[test]
fn method_arns_name_region_account_api_stage_verb_and_path() {
    assert_eq!(
        method_arn("eu-west-1", "123", "abc", "dev", "GET", "/pets/1"),
        "arn:aws:execute-api:eu-west-1:123:abc/dev/GET/pets/1"
    );
    assert_eq!(
        method_arn("r", "a", "i", "s", "POST", "/"),
        "arn:aws:execute-api:r:a:i/s/POST/"
    );
}
