//! The systemd unit in `deploy/` does not restart a start that cannot
//! succeed by trying again: the exit codes the binary gives for those are
//! the ones the unit names in `RestartPreventExitStatus`.

use std::process::Stdio;

use crate::binary;
use crate::helpers::repo;

/// The exit codes the unit keeps from restarting.
fn not_restarted() -> Vec<i32> {
    let unit = std::fs::read_to_string(repo().join("deploy/facet-screen.service")).unwrap();
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix("RestartPreventExitStatus="))
        .flat_map(|codes| codes.split_whitespace().map(|c| c.parse::<i32>().unwrap()))
        .collect()
}

#[test]
fn a_configuration_error_exits_with_a_code_the_unit_does_not_restart() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary::command()
        .arg("serve")
        .env("FACET_SCREEN_DATA_DIR", dir.path().join("data"))
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_CORS_ORIGINS", "http://intake.example.org")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 0);
    let codes = not_restarted();
    assert!(
        codes.contains(&code),
        "a configuration error exits {code}; the unit restarts it every 2 s (RestartPreventExitStatus: {codes:?})"
    );
    // The first administrator key that could not be shown (exit 3, pinned
    // by first_key.rs) is not restarted either: a restart would make and
    // lose another.
    assert!(codes.contains(&3), "{codes:?}");
}
