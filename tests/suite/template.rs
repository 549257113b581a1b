//! The deployed shape, read from `template.yaml`: which address every link in mail uses, that
//! the stack routes it (the API's own host, or the custom domain with its certificate,
//! mapping and alias record), and that the From address cannot leave the verified domain.
//!
//! The template is evaluated for given parameters with a small interpreter of the intrinsic
//! functions it uses (`!Ref`, `!Sub`, `!If`, `!Equals`, `!Not`, `!And`, `!Condition`,
//! `!GetAtt`); references to resources stay symbolic (`{HttpApi}`, `{ApiDomain.RegionalDomainName}`).

use std::collections::BTreeMap;

use serde_norway::Value;

use crate::helpers::repo_path;

const REGION: &str = "eu-west-1";

struct Stack {
    template: Value,
    params: BTreeMap<String, String>,
}

fn tag_name(tagged: &serde_norway::value::TaggedValue) -> String {
    tagged.tag.to_string().trim_start_matches('!').to_owned()
}

fn seq(value: &Value) -> &Vec<Value> {
    value.as_sequence().unwrap_or_else(|| panic!("a list: {value:?}"))
}

impl Stack {
    /// The template with these parameter values (the rest at their defaults).
    fn deploy(values: &[(&str, &str)]) -> Stack {
        let text = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
        let template: Value = serde_norway::from_str(&text).unwrap();
        let mut params = BTreeMap::new();
        for (name, spec) in template["Parameters"].as_mapping().unwrap() {
            if let Some(default) = spec.get("Default") {
                let default = match default {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap().to_owned(),
                };
                params.insert(name.as_str().unwrap().to_owned(), default);
            }
        }
        let required =
            [("SenderName", "René Rensen"), ("SenderDomain", "voorbeeld.nl"), ("AlertEmail", "rene@rensen.nl")];
        for (k, v) in required.iter().chain(values) {
            assert!(template["Parameters"].get(*k).is_some(), "no parameter {k}");
            params.insert((*k).to_owned(), (*v).to_owned());
        }
        Stack { template, params }
    }

    fn condition(&self, name: &str) -> bool {
        let value = self.eval(&self.template["Conditions"][name]);
        value.as_bool().unwrap_or_else(|| panic!("condition {name}: {value:?}"))
    }

    fn resource(&self, name: &str) -> Option<&Value> {
        let resource = self.template["Resources"].get(name)?;
        match resource.get("Condition").and_then(Value::as_str) {
            Some(condition) if !self.condition(condition) => None,
            _ => Some(resource),
        }
    }

    /// A property of a resource that exists in this deployment, evaluated.
    fn property(&self, resource: &str, path: &[&str]) -> Value {
        let mut value = &self.resource(resource).unwrap_or_else(|| panic!("{resource} is not deployed"))["Properties"];
        for key in path {
            value = &value[*key];
        }
        self.eval(value)
    }

    fn eval(&self, value: &Value) -> Value {
        match value {
            Value::Tagged(tagged) => self.intrinsic(&tag_name(tagged), &tagged.value),
            Value::Sequence(items) => Value::Sequence(items.iter().map(|v| self.eval(v)).collect()),
            Value::Mapping(map) => {
                if map.len() == 1 {
                    let (k, v) = map.iter().next().unwrap();
                    if let Some(name) = k.as_str().and_then(|k| k.strip_prefix("Fn::")) {
                        return self.intrinsic(name, v);
                    }
                }
                Value::Mapping(map.iter().map(|(k, v)| (k.clone(), self.eval(v))).collect())
            }
            other => other.clone(),
        }
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::Region" => REGION.into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::Partition" => "aws".into(),
            "AWS::AccountId" => "123456789012".into(),
            "AWS::StackName" => "postbode".into(),
            name => match self.params.get(name) {
                Some(value) => value.clone(),
                None => {
                    assert!(
                        self.template["Resources"].get(name.split('.').next().unwrap()).is_some(),
                        "unknown {name}"
                    );
                    format!("{{{name}}}")
                }
            },
        }
    }

    fn intrinsic(&self, name: &str, arg: &Value) -> Value {
        match name {
            "Ref" if arg.as_str() == Some("AWS::NoValue") => Value::Null,
            "Ref" => Value::String(self.reference(arg.as_str().unwrap())),
            "GetAtt" => Value::String(format!("{{{}}}", arg.as_str().unwrap())),
            "Sub" => {
                let mut text = arg.as_str().unwrap().to_owned();
                while let Some(start) = text.find("${") {
                    let end = start + text[start..].find('}').unwrap();
                    let value = self.reference(&text[start + 2..end]);
                    text.replace_range(start..=end, &value);
                }
                Value::String(text)
            }
            "If" => {
                let args = seq(arg);
                let branch = if self.condition(args[0].as_str().unwrap()) { &args[1] } else { &args[2] };
                self.eval(branch)
            }
            "Condition" => Value::Bool(self.condition(arg.as_str().unwrap())),
            "Equals" => {
                let args = seq(arg);
                Value::Bool(self.eval(&args[0]) == self.eval(&args[1]))
            }
            "Not" => Value::Bool(!self.eval(&seq(arg)[0]).as_bool().unwrap()),
            "And" => Value::Bool(seq(arg).iter().all(|v| self.eval(v).as_bool().unwrap())),
            other => panic!("the test's interpreter does not know !{other}"),
        }
    }

    /// The environment every function gets (Globals), evaluated.
    fn global_env(&self, name: &str) -> Value {
        self.eval(&self.template["Globals"]["Function"]["Environment"]["Variables"][name])
    }

    fn output(&self, name: &str) -> Value {
        self.eval(&self.template["Outputs"][name]["Value"])
    }

    fn functions(&self) -> Vec<&str> {
        let resources = self.template["Resources"].as_mapping().unwrap();
        resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .map(|(name, _)| name.as_str().unwrap())
            .collect()
    }
}

fn s(value: &str) -> Value {
    Value::String(value.to_owned())
}

#[test]
fn no_parameter_can_point_links_elsewhere() {
    let stack = Stack::deploy(&[]);
    let params = stack.template["Parameters"].as_mapping().unwrap();
    assert!(params.get("SiteBaseUrl").is_none(), "the base URL is derived, never typed");
    // No function overrides the derived address.
    for function in stack.functions() {
        let env = &stack.template["Resources"][function]["Properties"]["Environment"]["Variables"];
        assert!(env.get("POSTBODE_BASE_URL").is_none(), "{function} overrides POSTBODE_BASE_URL");
    }
    assert_eq!(stack.functions().len(), 4);
}

#[test]
fn without_a_domain_links_use_the_apis_own_address_and_it_is_routed() {
    let stack = Stack::deploy(&[]);
    let base = s("https://{HttpApi}.execute-api.eu-west-1.amazonaws.com");
    assert_eq!(stack.global_env("POSTBODE_BASE_URL"), base);
    assert_eq!(stack.output("PublicUrl"), base);
    assert_eq!(stack.resource("HttpApi").unwrap()["Type"].as_str(), Some("AWS::ApiGatewayV2::Api"));
    assert_eq!(stack.property("HttpApi", &["DisableExecuteApiEndpoint"]), Value::Bool(false));
    for resource in ["Certificate", "ApiDomain", "ApiMapping", "DomainAliasA", "DomainAliasAAAA"] {
        assert!(stack.resource(resource).is_none(), "{resource} without a domain");
    }
    assert_routes_every_request_to_the_api_function(&stack);
}

/// The API's `$default` route sends every method and path (CORS preflights too) to the api
/// function, on the auto-deployed `$default` stage, and API Gateway may invoke it.
fn assert_routes_every_request_to_the_api_function(stack: &Stack) {
    assert_eq!(stack.property("ApiDefaultRoute", &["RouteKey"]), s("$default"));
    assert_eq!(stack.property("ApiDefaultRoute", &["ApiId"]), s("{HttpApi}"));
    assert_eq!(stack.property("ApiDefaultRoute", &["Target"]), s("integrations/{ApiIntegration}"));
    assert_eq!(stack.property("ApiIntegration", &["IntegrationUri"]), s("{ApiFunction.Arn}"));
    assert_eq!(stack.property("ApiIntegration", &["IntegrationType"]), s("AWS_PROXY"));
    assert_eq!(stack.property("ApiIntegration", &["PayloadFormatVersion"]), s("2.0"));
    assert_eq!(stack.property("ApiStage", &["StageName"]), s("$default"));
    assert_eq!(stack.property("ApiStage", &["AutoDeploy"]), Value::Bool(true));
    assert_eq!(stack.property("ApiInvokePermission", &["FunctionName"]), s("{ApiFunction}"));
    assert_eq!(stack.property("ApiInvokePermission", &["Principal"]), s("apigateway.amazonaws.com"));
    assert_eq!(
        stack.property("ApiInvokePermission", &["SourceArn"]),
        s("arn:aws:execute-api:eu-west-1:123456789012:{HttpApi}/*")
    );
}

/// Only postbode's own mail feeds its breaker: the identity has no default configuration set
/// (other mail of the domain publishes no events here), and only this stack's configuration
/// set may publish to the events topic.
#[test]
fn only_this_stacks_configuration_set_publishes_events() {
    let stack = Stack::deploy(&[]);
    assert_eq!(stack.property("EmailIdentity", &["ConfigurationSetAttributes"]), Value::Null);
    let statements = stack.property("SesEventsTopicPolicy", &["PolicyDocument", "Statement"]);
    let statements = seq(&statements);
    assert_eq!(statements.len(), 1);
    let condition = &statements[0]["Condition"];
    assert_eq!(
        condition["StringEquals"]["AWS:SourceArn"],
        s("arn:aws:ses:eu-west-1:123456789012:configuration-set/{ConfigurationSet}")
    );
    assert_eq!(condition.get("ArnLike"), None, "no wildcard over the account's configuration sets");
}

#[test]
fn with_a_domain_and_zone_the_stack_makes_certificate_mapping_and_alias() {
    let stack = Stack::deploy(&[("DomainName", "nieuwsbrief.voorbeeld.nl"), ("HostedZoneId", "Z0123456789ABC")]);
    let base = s("https://nieuwsbrief.voorbeeld.nl");
    assert_eq!(stack.global_env("POSTBODE_BASE_URL"), base);
    assert_eq!(stack.output("PublicUrl"), base);
    // The certificate, validated through the zone.
    assert_eq!(stack.property("Certificate", &["DomainName"]), s("nieuwsbrief.voorbeeld.nl"));
    assert_eq!(stack.property("Certificate", &["ValidationMethod"]), s("DNS"));
    let validation = stack.property("Certificate", &["DomainValidationOptions"]);
    assert_eq!(validation[0]["HostedZoneId"], s("Z0123456789ABC"));
    assert_eq!(validation[0]["DomainName"], s("nieuwsbrief.voorbeeld.nl"));
    // The custom domain with that certificate, mapped to this API's stage.
    assert_eq!(stack.property("ApiDomain", &["DomainName"]), s("nieuwsbrief.voorbeeld.nl"));
    let config = &stack.property("ApiDomain", &["DomainNameConfigurations"])[0];
    assert_eq!(config["CertificateArn"], s("{Certificate}"));
    assert_eq!(config["EndpointType"], s("REGIONAL"));
    assert_eq!(config["SecurityPolicy"], s("TLS_1_2"));
    assert_eq!(stack.property("ApiMapping", &["ApiId"]), s("{HttpApi}"));
    assert_eq!(stack.property("ApiMapping", &["DomainName"]), s("{ApiDomain}"));
    assert_eq!(stack.property("ApiMapping", &["Stage"]), s("{ApiStage}"));
    // DNS: A and AAAA aliases of the domain to the API's regional endpoint.
    for alias in ["DomainAliasA", "DomainAliasAAAA"] {
        assert_eq!(stack.property(alias, &["HostedZoneId"]), s("Z0123456789ABC"));
        assert_eq!(stack.property(alias, &["Name"]), s("nieuwsbrief.voorbeeld.nl"));
        let target = stack.property(alias, &["AliasTarget"]);
        assert_eq!(target["DNSName"], s("{ApiDomain.RegionalDomainName}"));
        assert_eq!(target["HostedZoneId"], s("{ApiDomain.RegionalHostedZoneId}"));
    }
    // One address: the execute-api host is switched off, so no mail can name it.
    assert_eq!(stack.property("HttpApi", &["DisableExecuteApiEndpoint"]), Value::Bool(true));
    assert_routes_every_request_to_the_api_function(&stack);
}

#[test]
fn with_a_domain_but_no_zone_the_records_are_added_by_hand() {
    let stack = Stack::deploy(&[("DomainName", "nieuwsbrief.voorbeeld.nl")]);
    assert_eq!(stack.global_env("POSTBODE_BASE_URL"), s("https://nieuwsbrief.voorbeeld.nl"));
    assert_eq!(stack.property("Certificate", &["DomainValidationOptions"]), Value::Null);
    assert!(stack.resource("DomainAliasA").is_none() && stack.resource("DomainAliasAAAA").is_none());
    assert!(stack.resource("ApiMapping").is_some());
    // The output names the record to add.
    assert_eq!(stack.output("DomainTarget"), s("nieuwsbrief.voorbeeld.nl CNAME {ApiDomain.RegionalDomainName}"));
}

#[test]
fn with_an_existing_certificate_none_is_made() {
    let arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b5e4a1c-1111-2222-3333-444455556666";
    let stack = Stack::deploy(&[("DomainName", "nieuwsbrief.voorbeeld.nl"), ("CertificateArn", arn)]);
    assert!(stack.resource("Certificate").is_none());
    assert_eq!(stack.property("ApiDomain", &["DomainNameConfigurations"])[0]["CertificateArn"], s(arn));
}

#[test]
fn zone_or_certificate_without_a_domain_is_refused_by_a_rule() {
    let stack = Stack::deploy(&[]);
    let rule = &stack.template["Rules"]["DomainSettingsNeedADomain"];
    // The rule applies when DomainName is empty, and asserts that both others are empty too.
    assert_eq!(stack.eval(&rule["RuleCondition"]), Value::Bool(true));
    let asserts = |values: &[(&str, &str)]| {
        let stack = Stack::deploy(values);
        stack.eval(&rule["Assertions"][0]["Assert"]).as_bool().unwrap()
    };
    assert!(asserts(&[]));
    assert!(!asserts(&[("HostedZoneId", "Z0123456789ABC")]));
    assert!(!asserts(&[("CertificateArn", "arn:aws:acm:eu-west-1:123456789012:certificate/ab-cd")]));
}

#[test]
fn the_from_address_is_always_on_the_verified_sending_domain() {
    let stack = Stack::deploy(&[("SenderLocalPart", "post")]);
    assert_eq!(stack.global_env("POSTBODE_FROM"), s("René Rensen <post@voorbeeld.nl>"));
    let params = stack.template["Parameters"].as_mapping().unwrap();
    assert!(params.get("SenderAddress").is_none(), "no free From address that could leave the domain");
    // The identity SES verifies (DKIM) and the IAM grant are that same domain.
    assert_eq!(stack.property("EmailIdentity", &["EmailIdentity"]), s("voorbeeld.nl"));
    for function in ["ApiFunction", "SenderFunction"] {
        let policies = stack.eval(&stack.template["Resources"][function]["Properties"]["Policies"]);
        let grants = serde_norway::to_string(&policies).unwrap();
        assert!(grants.contains("identity/voorbeeld.nl"), "{function}: {grants}");
    }
}

#[test]
fn reply_to_is_set_only_when_given() {
    let without = Stack::deploy(&[]);
    assert_eq!(without.global_env("POSTBODE_REPLY_TO"), Value::Null);
    let with = Stack::deploy(&[("ReplyToAddress", "rene@voorbeeld.nl")]);
    assert_eq!(with.global_env("POSTBODE_REPLY_TO"), s("rene@voorbeeld.nl"));
}

/// The guide explains every parameter a first deploy asks for, and runs `postbode smoke`
/// after each deploy.
#[test]
fn the_deploy_guide_covers_every_parameter_and_runs_smoke_after_deploying() {
    let guide = std::fs::read_to_string(repo_path("docs/deploy.md")).unwrap();
    let stack = Stack::deploy(&[]);
    for (name, _) in stack.template["Parameters"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        assert!(guide.contains(name), "docs/deploy.md does not explain {name}");
    }
    for deploy in guide.match_indices("sam deploy").filter(|(i, _)| guide[*i..].starts_with("sam deploy\n")) {
        let after = &guide[deploy.0..];
        let next_block_end = after.find("```").unwrap();
        assert!(after[..next_block_end].contains("smoke"), "no smoke right after:\n{}", &after[..next_block_end]);
    }
    assert!(guide.contains("postbode smoke https://"), "the smoke step");
    assert!(!guide.contains("SiteBaseUrl"));
}

/// Each route's throttling in the stage is the table `postbode dev` enforces locally, and
/// every throttled route goes to the api function.
#[test]
fn routes_are_throttled_apart_as_in_local_mode() {
    use postbode::http::route_limits::ROUTE_LIMITS;
    let stack = Stack::deploy(&[]);
    let settings = stack.property("ApiStage", &["RouteSettings"]);
    let default = stack.property("ApiStage", &["DefaultRouteSettings"]);
    let resources = stack.template["Resources"].as_mapping().unwrap();
    for limit in ROUTE_LIMITS {
        let configured = if limit.route == "$default" { &default } else { &settings[limit.route] };
        assert_eq!(configured["ThrottlingRateLimit"].as_f64(), Some(limit.rate), "{}", limit.route);
        assert_eq!(configured["ThrottlingBurstLimit"].as_u64(), Some(u64::from(limit.burst)), "{}", limit.route);
        let route = resources
            .iter()
            .find(|(_, r)| {
                r["Type"].as_str() == Some("AWS::ApiGatewayV2::Route")
                    && r["Properties"]["RouteKey"].as_str() == Some(limit.route)
            })
            .unwrap_or_else(|| panic!("no route {}", limit.route));
        let name = route.0.as_str().unwrap();
        assert_eq!(stack.property(name, &["Target"]), s("integrations/{ApiIntegration}"), "{name}");
    }
    assert_eq!(settings.as_mapping().unwrap().len(), ROUTE_LIMITS.len() - 1, "no route without its figure here");
}

/// One build serves all four functions: the same CodeUri and build metadata (SAM then builds
/// once), and each Handler names a function the binary knows.
#[test]
fn one_binary_serves_every_function_by_its_handler() {
    let stack = Stack::deploy(&[]);
    assert_eq!(stack.template["Globals"]["Function"]["CodeUri"], s("lambda"));
    let mut handlers = Vec::new();
    let mut metadata = None;
    for (name, resource) in stack.template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != s("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        assert!(resource["Properties"].get("CodeUri").is_none(), "{name} builds apart");
        assert_eq!(resource["Metadata"]["BuildMethod"], s("rust-cargolambda"), "{name}");
        assert_eq!(resource["Metadata"]["BuildProperties"]["Binary"], s("lambda"), "{name}");
        // SAM makes one build per distinct (CodeUri, Metadata, ...); with `parallel = true`
        // several builds of the one in-source cargo target race to move the same binary (a CI
        // run failed so). Equal Metadata, checkov skips included, make it one build.
        let first = metadata.get_or_insert(&resource["Metadata"]);
        assert_eq!(*first, &resource["Metadata"], "{name}'s Metadata differs: SAM would build it apart");
        let handler = resource["Properties"]["Handler"].as_str().unwrap();
        postbode::lambda::Function::parse(handler).unwrap_or_else(|e| panic!("{name}: {e}"));
        handlers.push(handler.to_owned());
    }
    handlers.sort();
    let mut known: Vec<String> = postbode::lambda::Function::ALL.iter().map(|(n, _)| (*n).to_owned()).collect();
    known.sort();
    assert_eq!(handlers, known, "every function deployed, each once");
    let lambda = std::fs::read_to_string(repo_path("lambda/Cargo.toml")).unwrap();
    assert!(lambda.contains("name = \"lambda\""), "the binary SAM builds is lambda/'s `lambda`");
}

/// Recorded subscribe intents wake the confirmations function through the table's stream,
/// with retries and a dead-letter queue; the filter matches where the store writes them.
#[test]
fn intents_wake_the_confirmations_function() {
    let stack = Stack::deploy(&[]);
    assert_eq!(stack.property("Table", &["StreamSpecification", "StreamViewType"]), s("NEW_IMAGE"));
    let function = stack.resource("ConfirmationsFunction").unwrap();
    assert_eq!(function["Properties"]["Handler"].as_str(), Some("confirmations"));
    let event = stack.eval(&function["Properties"]["Events"]["Intents"]);
    assert_eq!(event["Type"], s("DynamoDB"));
    assert_eq!(event["Properties"]["Stream"], s("{Table.StreamArn}"));
    assert!(event["Properties"]["MaximumRetryAttempts"].as_u64().unwrap() >= 1);
    assert_eq!(
        event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"],
        s("{ConfirmationsDeadLetters.Arn}")
    );
    let pattern: serde_json::Value =
        serde_json::from_str(event["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"],
        serde_json::json!([postbode::store::dynamodb::INTENT_PARTITION])
    );
    let policies = serde_norway::to_string(&stack.eval(&function["Properties"]["Policies"])).unwrap();
    for action in ["ses:SendRawEmail", "dynamodb:PutItem", "ssm:GetParameter", "sqs:SendMessage"] {
        assert!(policies.contains(action), "{action} in {policies}");
    }
}

/// What settles and what keeps the sender's outcomes, as deployed: the configuration set
/// publishes `send` events to the topic `ses-events` listens on; the sender and `ses-events`
/// are invoked asynchronously with the retries the design needs (none for the sender: the
/// next run continues; two for the idempotent events handler) and a dead-letter queue for
/// what still fails, which `postbode sending status` is pointed at through an output.
#[test]
fn send_events_are_published_and_failures_land_in_the_dead_letter_queue() {
    let stack = Stack::deploy(&[]);
    let events = stack.property("ConfigurationSetEvents", &["EventDestination"]);
    assert!(seq(&events["MatchingEventTypes"]).contains(&s("send")), "{events:?}");
    assert_eq!(events["SnsDestination"]["TopicARN"], s("{SesEventsTopic}"));
    let sns = stack.property("SesEventsFunction", &["Events", "SesNotifications"]);
    assert_eq!((sns["Type"].clone(), sns["Properties"]["Topic"].clone()), (s("SNS"), s("{SesEventsTopic}")));
    for (function, retries) in [("SenderFunction", 0), ("SesEventsFunction", 2)] {
        let config = stack.property(function, &["EventInvokeConfig"]);
        assert_eq!(config["MaximumRetryAttempts"].as_u64(), Some(retries), "{function}");
        assert_eq!(config["DestinationConfig"]["OnFailure"]["Type"], s("SQS"), "{function}");
        assert_eq!(config["DestinationConfig"]["OnFailure"]["Destination"], s("{DeadLetters.Arn}"), "{function}");
    }
    let schedule = stack.property("SenderFunction", &["Events", "Schedule", "Properties"]);
    assert_eq!(schedule["RetryPolicy"]["MaximumRetryAttempts"].as_u64(), Some(0));
    assert_eq!(schedule["DeadLetterConfig"]["Arn"], s("{DeadLetters.Arn}"));
    assert_eq!(stack.output("DeadLetterQueue"), s("{DeadLetters}"));
    // The claim's transaction checks the subscriber: the sender may do that, and only that more.
    let policies = serde_norway::to_string(&stack.property("SenderFunction", &["Policies"])).unwrap();
    assert!(policies.contains("dynamodb:ConditionCheckItem"), "{policies}");
}

/// The resources of a type that exist in this deployment, by name.
fn resources_of_type<'a>(stack: &'a Stack, kind: &str) -> Vec<(&'a str, &'a Value)> {
    let resources = stack.template["Resources"].as_mapping().unwrap();
    resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(name, r)| (name.as_str().unwrap(), r))
        .collect()
}

/// Every alarm the issue asks for exists with its metric and threshold, mails AlertEmail
/// through an encrypted topic CloudWatch may publish to, and says in Dutch what to do; every
/// metric of postbode's own namespace is one the code writes.
#[test]
fn every_alarm_reaches_the_author_with_its_metric_and_threshold() {
    let stack = Stack::deploy(&[]);
    let alarms: BTreeMap<&str, Value> = resources_of_type(&stack, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(name, _)| (name, stack.property(name, &[])))
        .collect();
    let own = "postbode/postbode";
    let single = |alarm: &Value| -> (String, String, String, f64, String) {
        let dimension = alarm["Dimensions"]
            .as_sequence()
            .and_then(|d| d.first())
            .map_or(String::new(), |d| d["Value"].as_str().unwrap().to_owned());
        (
            alarm["Namespace"].as_str().unwrap().to_owned(),
            alarm["MetricName"].as_str().unwrap().to_owned(),
            dimension,
            alarm["Threshold"].as_f64().unwrap(),
            alarm["ComparisonOperator"].as_str().unwrap().to_owned(),
        )
    };
    let at_least = "GreaterThanOrEqualToThreshold".to_owned();
    let mut expected: Vec<(String, String, String, f64, String)> = vec![
        (own.into(), "SendingPaused".into(), "sender".into(), 1.0, at_least.clone()),
        (own.into(), "SendingStopped".into(), "sender".into(), 1.0, at_least.clone()),
        (own.into(), "IntakeThrottled".into(), "sender".into(), 1.0, at_least.clone()),
        (own.into(), "SenderRunSucceeded".into(), "sender".into(), 1.0, "LessThanThreshold".into()),
        ("AWS/SES".into(), "Reputation.BounceRate".into(), String::new(), 0.02, at_least.clone()),
        ("AWS/SES".into(), "Reputation.ComplaintRate".into(), String::new(), 0.0005, at_least.clone()),
    ];
    // Every dead-letter queue, and the errors of every function.
    for (queue, _) in resources_of_type(&stack, "AWS::SQS::Queue") {
        expected.push((
            "AWS/SQS".into(),
            "ApproximateNumberOfMessagesVisible".into(),
            format!("{{{queue}.QueueName}}"),
            1.0,
            at_least.clone(),
        ));
    }
    for function in stack.functions() {
        expected.push(("AWS/Lambda".into(), "Errors".into(), format!("{{{function}}}"), 1.0, at_least.clone()));
    }
    let found: Vec<_> = alarms.values().filter(|a| a.get("MetricName").is_some()).map(single).collect();
    for want in &expected {
        assert!(found.contains(want), "no alarm {want:?} among {found:#?}");
    }
    // The HTTP API's 5xx rate: a share of its requests, not a count.
    let api = &alarms["ApiServerErrorsAlarm"];
    let metrics = seq(&api["Metrics"]);
    let names: Vec<&str> = metrics.iter().filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str()).collect();
    assert_eq!(names, ["5xx", "Count"]);
    assert!(
        metrics
            .iter()
            .all(|m| m.get("MetricStat").is_none_or(|s| s["Metric"]["Dimensions"][0]["Value"] == "{HttpApi}"))
    );
    let expression = metrics.iter().find_map(|m| m["Expression"].as_str()).unwrap();
    assert!(expression.contains("100 * errors / requests"), "{expression}");
    assert_eq!((api["Threshold"].as_f64(), api["ComparisonOperator"].as_str()), (Some(5.0), Some(at_least.as_str())));
    // No successful run for 2 hours: missing data is the alarm.
    let silent = &alarms["SenderSilentAlarm"];
    assert_eq!(silent["TreatMissingData"], "breaching");
    assert_eq!(silent["Period"].as_u64().unwrap() * silent["EvaluationPeriods"].as_u64().unwrap(), 7200);

    for (name, alarm) in &alarms {
        assert_eq!(alarm["AlarmActions"], Value::Sequence(vec![s("{AlertsTopic}")]), "{name} mails the author");
        assert_eq!(alarm["OKActions"], alarm["AlarmActions"], "{name} says when it is over too");
        let description = alarm["AlarmDescription"].as_str().unwrap();
        assert!(description.starts_with("postbode: "), "{name}: {description}");
        // Dutch, and saying what to do: a command, a console or a log to look at.
        assert!(
            [" je ", " de ", " het "].iter().any(|w| description.contains(w))
                && ["`postbode ", "console", "/postbode/"].iter().any(|w| description.contains(w)),
            "{name}: {description}"
        );
    }
    // Every metric of postbode's own namespace is written by the code, with the dimension the
    // alarm asks for.
    let written: Vec<&str> = postbode::app::sender::Report::default().metrics().iter().map(|(n, _)| *n).collect();
    let line = postbode::telemetry::metrics_line(own, "sender", &postbode::app::sender::Report::default().metrics(), 0);
    for alarm in alarms.values().filter(|a| a["Namespace"] == own) {
        let metric = alarm["MetricName"].as_str().unwrap();
        assert!(written.contains(&metric), "{metric} is not written by the sender: {written:?}");
        assert_eq!(line["Function"].as_str(), alarm["Dimensions"][0]["Value"].as_str());
        assert!(line.get(metric).is_some(), "{line}");
    }
    assert_eq!(stack.global_env("POSTBODE_METRICS_NAMESPACE"), s(own));

    // The topic: encrypted with a key CloudWatch may use, mailed to AlertEmail.
    assert_eq!(stack.property("AlertsTopic", &["Subscription"])[0]["Endpoint"], s("rene@rensen.nl"));
    assert_eq!(stack.property("AlertsTopic", &["Subscription"])[0]["Protocol"], s("email"));
    assert_eq!(stack.property("AlertsTopic", &["KmsMasterKeyId"]), s("{TopicsKey}"));
    assert_eq!(stack.property("SesEventsTopic", &["KmsMasterKeyId"]), s("{TopicsKey}"));
    let policy = stack.property("TopicsKey", &["KeyPolicy", "Statement"]);
    for service in ["cloudwatch.amazonaws.com", "ses.amazonaws.com"] {
        let statement = seq(&policy).iter().find(|st| st["Principal"]["Service"] == service).unwrap();
        let actions = seq(&statement["Action"]);
        assert!(actions.contains(&s("kms:Decrypt")) && actions.contains(&s("kms:GenerateDataKey*")), "{service}");
    }
}

/// What a scanner asks of the deployed posture: access logs without tokens, a ceiling on the
/// concurrency each function can take, encrypted queues.
#[test]
fn the_api_logs_routes_and_no_function_can_take_the_whole_account() {
    let stack = Stack::deploy(&[]);
    let access = stack.property("ApiStage", &["AccessLogSettings"]);
    assert_eq!(access["DestinationArn"], s("{ApiAccessLogGroup.Arn}"));
    let format: serde_json::Value = serde_json::from_str(access["Format"].as_str().unwrap()).unwrap();
    assert_eq!(format["route"], "$context.routeKey");
    let raw = access["Format"].as_str().unwrap();
    assert!(!raw.contains("$context.path") && !raw.contains("$context.requestPath"), "no token-bearing path: {raw}");
    // The log holds client addresses: its retention is what the privacy statement promises.
    let retention = stack.property("ApiAccessLogGroup", &["RetentionInDays"]);
    assert_eq!(retention.as_u64(), Some(30), "{retention:?}");
    let privacy = std::fs::read_to_string(crate::helpers::repo_path("content/privacy.md")).unwrap();
    assert!(
        privacy.replace('\n', " ").contains("na 30 dagen automatisch gewist"),
        "privacy.md names the log's retention"
    );
    for function in stack.functions() {
        let reserved = stack.property(function, &["ReservedConcurrentExecutions"]);
        assert!(reserved.as_u64().is_some_and(|n| (1..=20).contains(&n)), "{function}: {reserved:?}");
    }
    for (queue, _) in resources_of_type(&stack, "AWS::SQS::Queue") {
        assert_eq!(stack.property(queue, &["SqsManagedSseEnabled"]), Value::Bool(true), "{queue}");
    }
}

/// What `content/privacy.md` says of AWS holds for the stack as deployed: processed in
/// Ireland (a rule refuses another region; `samconfig.toml` deploys there), and no tracker:
/// SES records neither opens nor clicks (no such events, no tracking options, no engagement
/// metrics), so no pixel or rewritten link is ever added to a mail.
#[test]
fn what_the_privacy_statement_says_of_aws_holds() {
    let stack = Stack::deploy(&[]);
    let privacy = std::fs::read_to_string(repo_path("content/privacy.md")).unwrap().replace('\n', " ");
    assert!(privacy.contains("in de Europese Unie (Ierland)"), "the statement names the place");
    let rule = &stack.template["Rules"]["ProcessedWherePrivacyStatementSays"]["Assertions"][0]["Assert"];
    let equals = match rule {
        Value::Tagged(tagged) if tag_name(tagged) == "Equals" => seq(&tagged.value).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(stack.eval(&equals[0]), s("eu-west-1"), "the region is what the rule compares");
    assert_eq!(equals[1], s("eu-west-1"));
    let samconfig: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo_path("samconfig.toml")).unwrap()).unwrap();
    assert_eq!(samconfig["default"]["deploy"]["parameters"]["region"].as_str(), Some("eu-west-1"));

    // "De logboeken van de server: 30 dagen": every log group, whatever the deployer chooses.
    assert!(privacy.contains("- **de logboeken van de server**: 30 dagen."));
    let allowed = seq(&stack.template["Parameters"]["LogRetentionDays"]["AllowedValues"]).clone();
    for days in &allowed {
        let stack = Stack::deploy(&[("LogRetentionDays", &days.as_u64().unwrap().to_string())]);
        let groups = resources_of_type(&stack, "AWS::Logs::LogGroup");
        assert!(groups.len() >= 5, "{}", groups.len());
        for (group, _) in groups {
            let retention = stack.property(group, &["RetentionInDays"]);
            let days = retention.as_u64().or_else(|| retention.as_str().and_then(|d| d.parse().ok()));
            assert!(days.is_some_and(|d| (1..=30).contains(&d)), "{group}: {retention:?}");
        }
    }
    // No function writes to a group of Lambda's own making (kept for ever).
    for function in stack.functions() {
        let group = stack.property(function, &["LoggingConfig", "LogGroup"]);
        let name = group.as_str().unwrap_or_default().trim_matches(['{', '}']);
        assert!(stack.resource(name).is_some_and(|r| r["Type"] == s("AWS::Logs::LogGroup")), "{function}: {group:?}");
    }

    let configuration_set = stack.resource("ConfigurationSet").unwrap()["Properties"].clone();
    for tracking in ["TrackingOptions", "VdmOptions"] {
        assert!(configuration_set.get(tracking).is_none(), "{tracking}: {configuration_set:?}");
    }
    let events = stack.property("ConfigurationSetEvents", &["EventDestination", "MatchingEventTypes"]);
    for event in seq(&events) {
        let event = event.as_str().unwrap().to_lowercase();
        assert!(event != "open" && event != "click", "{event}");
    }
}

/// A finding of the scanner (checkov, run by `infra/test-all`) is only ever skipped with the
/// reason written next to it.
#[test]
fn every_skipped_scanner_finding_says_why() {
    let stack = Stack::deploy(&[]);
    let mut skipped = 0;
    for (name, resource) in stack.template["Resources"].as_mapping().unwrap() {
        let Some(skips) = resource.get("Metadata").and_then(|m| m.get("checkov")).map(|c| seq(&c["skip"])) else {
            continue;
        };
        for skip in skips {
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(comment.split_whitespace().count() >= 8, "{name:?} skips {:?} without a reason", skip["id"]);
            skipped += 1;
        }
    }
    assert!(skipped > 0);
}
