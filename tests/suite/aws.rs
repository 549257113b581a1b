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

/// The moto server's own API (sent mail, reset).
pub fn moto_url(path: &str) -> String {
    format!("{}{path}", endpoint("POSTBODE_TEST_MOTO"))
}
