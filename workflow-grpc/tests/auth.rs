//! Token digests, scopes and the configuration's checks, through the public API.
#![allow(clippy::unwrap_used, missing_docs)] // tests

use workflow_core::{directory::Actor, directory::Classification, directory::Role};
use workflow_grpc::auth::Authenticator;
use workflow_grpc::{ActsFor, ServiceConfig, SystemConfig, sha256};

fn hex(d: [u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn system(name: &str, token: &str) -> SystemConfig {
    SystemConfig {
        name: name.into(),
        token_sha256: Some(hex(sha256(token))),
        acts_for: Some(vec!["*".into()]),
        ..SystemConfig::default()
    }
}

fn config(systems: Vec<SystemConfig>) -> ServiceConfig {
    ServiceConfig {
        systems,
        tls: None,
        reminder_interval_hours: 24,
    }
}

#[test]
fn a_token_finds_its_system_by_digest_among_many() {
    let systems: Vec<_> = (0..50)
        .map(|i| system(&format!("s{i}"), &format!("token-number-{i}")))
        .collect();
    let auth = Authenticator::new(&systems, false);
    assert_eq!(auth.system_of("token-number-0").unwrap().name, "s0");
    assert_eq!(auth.system_of("token-number-49").unwrap().name, "s49");
    assert!(auth.system_of("token-number-50").is_none());
    // The digest is not a token.
    assert!(auth.system_of(&hex(sha256("token-number-3"))).is_none());
    // A plaintext token is hashed the same way.
    let plain = SystemConfig {
        name: "dev".into(),
        token: Some("dev-token-123".into()),
        ..SystemConfig::default()
    };
    let auth = Authenticator::new(&[plain], false);
    assert_eq!(auth.system_of("dev-token-123").unwrap().name, "dev");
}

#[test]
fn the_configuration_refuses_unusable_systems_by_name() {
    let refused = |s: SystemConfig| config(vec![s]).validate().unwrap_err().0;
    let mut both = system("both", "a-long-token");
    both.token = Some("a-long-token".into());
    assert!(refused(both).contains("not both"));
    let mut short_hex = system("short", "x");
    short_hex.token_sha256 = Some("abc".into());
    assert!(refused(short_hex).contains("64 hex digits"));
    let none = SystemConfig {
        name: "none".into(),
        ..SystemConfig::default()
    };
    assert!(refused(none).contains("workflow token new --system none"));
    let mut star = system("star", "a-long-token");
    star.acts_for = Some(vec!["*".into(), "JWC".into()]);
    assert!(refused(star).contains("stands alone"));
    let twice = config(vec![system("a", "token-one-1"), system("b", "token-one-1")]);
    assert!(twice.validate().unwrap_err().0.contains("another system"));
    let same_name = config(vec![system("a", "token-one-1"), system("a", "token-two-2")]);
    assert!(same_name.validate().unwrap_err().0.contains("twice"));
}

#[test]
fn plaintext_tokens_and_unscoped_systems_are_warned_about() {
    let mut dev = system("dev", "x");
    dev.token_sha256 = None;
    dev.token = Some("dev-token-123".into());
    dev.acts_for = None;
    let c = config(vec![dev, system("ok", "a-long-token")]);
    c.validate().unwrap();
    let w = c.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w.iter().all(|w| w.contains("system dev")), "{w:?}");
}

#[test]
fn acts_for_covers_actors_by_unit_or_role() {
    let scope = ActsFor::parse(&["Archivist".into(), "RSC".into()]).unwrap();
    assert_eq!(scope.roles, [Role::Archivist]);
    assert_eq!(scope.units, ["RSC".into()]);
    let actor = |unit: &str, role: Role| Actor {
        reach: Vec::new(),
        id: "x".into(),
        name: "X".into(),
        unit: unit.into(),
        roles: [role].into(),
        clearance: Classification::None,
    };
    assert!(scope.covers(&actor("DAS", Role::Archivist)));
    assert!(scope.covers(&actor("RSC", Role::Countersigner)));
    assert!(!scope.covers(&actor("JWC", Role::Drafter)));
    assert!(!ActsFor::default().covers(&actor("DAS", Role::Archivist)));
    assert_eq!(scope.to_string(), "unit RSC, role Archivist");
}
