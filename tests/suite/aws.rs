//! Clients for the stand-ins that `infra/test-all` starts: DynamoDB Local and moto (SES API).
//! Run outside that script, these tests fail with a message saying so; they never skip.

use postbode::store::dynamodb::DynamoStore;

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run the tests with ./infra/test-all, which starts DynamoDB Local and the SES API server"
        )
    })
}

pub async fn config() -> aws_config::SdkConfig {
    endpoint("AWS_ENDPOINT_URL_DYNAMODB");
    endpoint("AWS_ENDPOINT_URL_SESV2");
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config().await)
}

/// A store on a fresh table of its own in DynamoDB Local.
pub async fn dynamo_store() -> (DynamoStore, aws_sdk_dynamodb::Client, String) {
    let client = dynamodb().await;
    let table = format!("postbode-test-{}", uuid::Uuid::new_v4().simple());
    DynamoStore::create_table(&client, &table).await.expect("DynamoDB Local creates the table");
    (DynamoStore::new(client.clone(), &table), client, table)
}

pub async fn sesv2() -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(&config().await)
}

/// The domain the test settings send from.
pub const SENDER_DOMAIN: &str = "postbode.example";

/// A client on the SES API server, whose sender domain is verified there (again: it may be).
pub async fn verified_sesv2() -> aws_sdk_sesv2::Client {
    let client = sesv2().await;
    client.create_email_identity().email_identity(SENDER_DOMAIN).send().await.expect("moto creates the identity");
    client
}

/// Every raw message the SES API server has received, this test's and earlier ones'.
pub async fn ses_raw_messages() -> Vec<String> {
    let data = moto_json("/moto-api/data.json").await;
    data["ses"]["RawMessage"]
        .as_array()
        .map(|messages| messages.iter().filter_map(|m| m["raw_data"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// GETs a path of the moto server's own API (`/moto-api/data.json`: everything it holds,
/// sent mail included) as JSON. Plain HTTP/1.0 over loopback: no HTTP client crate, whose
/// features would change how the AWS SDK's dependencies are built for tests.
pub async fn moto_json(path: &str) -> serde_json::Value {
    let base = endpoint("POSTBODE_TEST_MOTO");
    let host = base.trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&host).expect("moto is listening");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.") && head.contains(" 200 "), "{head}");
        serde_json::from_str(body).expect("JSON from moto")
    })
    .await
    .unwrap()
}
