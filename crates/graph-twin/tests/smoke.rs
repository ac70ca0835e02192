//! The serving path end to end: sign in, read the profile and presence, write and clear the
//! app session.

mod common;

use common::{pair, Harness};
use reqwest::StatusCode;

#[tokio::test]
async fn sign_in_then_presence_round_trip() {
    let harness = Harness::start().await;
    let (token, _refresh) = harness.sign_in().await;

    let me = harness.get_with("v1.0/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(
        me.json()["userPrincipalName"],
        "adele.vance@contoso.example"
    );

    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
    let set = harness
        .set_presence(&token, "Busy", "InACall", Some("PT5M"))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.text, "");
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "InACall"));
    let cleared = harness.clear_presence(&token).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
}
