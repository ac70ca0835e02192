//! "Sign in with a code" through the app core against the Graph twin, whose demo mode approves
//! a pending code after a few seconds as a user on another device would.

use std::time::Duration;

use bridge::Command;
use e2e::scenario::{RunConfig, Start};
use e2e::world::World;

fn signed_out_start() -> (RunConfig, Start) {
    let config = RunConfig {
        poll_interval: Duration::from_secs(2),
        speaking_substitute: "Away".into(),
    };
    let start = Start {
        teams: ("Available".into(), "Available".into()),
        teams_preferred: None,
        teams_out_of_office: false,
        swyx: "Available".into(),
        app_running: true,
        signed_in: false,
        expect_always: Vec::new(),
    };
    (config, start)
}

fn run(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

#[test]
fn code_shown_then_signed_in() {
    run(async {
        let (config, start) = signed_out_start();
        let mut world = World::start(&config, &start).await.unwrap();
        assert!(
            world.snapshot().unwrap().account.is_none(),
            "starts signed out"
        );

        world.send(Command::SignInWithCode).unwrap();
        world.advance_to(Duration::from_millis(100)).await.unwrap();
        let waiting = world.snapshot().unwrap();
        let code = waiting
            .device_code
            .expect("the code is shown while the sign-in waits");
        assert!(!code.user_code.is_empty());
        assert!(
            code.verification_uri.starts_with("http://127.0.0.1"),
            "{}",
            code.verification_uri
        );
        assert!(waiting.signing_in);

        world.advance_to(Duration::from_secs(15)).await.unwrap();
        let done = world.snapshot().unwrap();
        assert!(
            done.device_code.is_none(),
            "the code goes away after the sign-in"
        );
        assert!(
            done.account.is_some(),
            "signed in: {:?}",
            done.sign_in_error
        );
        assert_eq!(done.view.health_teams, engine::Health::Ok);
        assert!(world
            .observe()
            .requests
            .iter()
            .any(|request| request.endpoint == "devicecode"));
        world.shut_down().await;
    });
}

#[test]
fn cancelled_code_sign_in_stays_signed_out() {
    run(async {
        let (config, start) = signed_out_start();
        let mut world = World::start(&config, &start).await.unwrap();
        world.send(Command::SignInWithCode).unwrap();
        world.advance_to(Duration::from_millis(500)).await.unwrap();
        assert!(world.snapshot().unwrap().device_code.is_some());

        world.send(Command::CancelSignIn).unwrap();
        world.advance_to(Duration::from_secs(15)).await.unwrap();
        let after = world.snapshot().unwrap();
        assert!(after.device_code.is_none());
        assert!(
            after.account.is_none(),
            "a cancelled sign-in does not sign in"
        );
        assert!(!after.signing_in);
        world.shut_down().await;
    });
}
