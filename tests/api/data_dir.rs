//! The first hour over the real binary: the first start names the clinic of
//! its admin key and prints the `keys create` commands that reach the same
//! database; the commands that act on a service's data refuse a data
//! directory that holds no database (naming it and how to point at the
//! right one) instead of making an empty one wherever they run; `serve`
//! still makes it.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::binary;
use crate::helpers::wait_until;

/// The binary run in `cwd` with `args`, the data directory left at its
/// default (`data`, relative to `cwd`).
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    binary::command()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn commands_on_a_services_data_refuse_a_directory_without_a_database() {
    let cwd = tempfile::tempdir().unwrap();
    let data = cwd.path().join("data");
    let named = format!("no database in {}", data.display());
    let backup = cwd.path().join("backup.db");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/v1");
    for args in [
        &["keys", "list"][..],
        &[
            "keys", "create", "--clinic", "st-marys", "--role", "intake", "--label", "desk",
        ],
        &["keys", "revoke", "key_x"],
        &["backup", backup.to_str().unwrap()],
        &["rules", "impact", rules],
    ] {
        let out = run_in(cwd.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let said = stderr(&out);
        assert!(
            said.contains(&named) && said.contains("--data-dir") && said.contains("DATABASE_URL"),
            "{args:?} names the directory and how to point at the service's: {said}"
        );
        assert!(!data.exists(), "{args:?} made {}", data.display());
        assert!(!backup.exists(), "{args:?}");
    }

    // A restore goes into the service's data directory: one that is not
    // there is a wrong --data-dir, said as such and not made.
    let out = run_in(cwd.path(), &["restore", "backup.db"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "the data directory {} does not exist",
            data.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(!data.exists());

    // Keys made before the service's first start, when asked for.
    let out = run_in(
        cwd.path(),
        &[
            "keys",
            "create",
            "--create-database",
            "--clinic",
            "st-marys",
            "--role",
            "admin",
            "--label",
            "it",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(data.join("facet-screen.db").exists());
    let out = run_in(cwd.path(), &["keys", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("st-marys"));
}

#[test]
fn a_backup_into_a_folder_that_does_not_exist_says_so() {
    let cwd = tempfile::tempdir().unwrap();
    let made = run_in(
        cwd.path(),
        &[
            "keys",
            "create",
            "--create-database",
            "--clinic",
            "c",
            "--role",
            "admin",
            "--label",
            "a",
        ],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let dest = cwd.path().join("backups/facet.db");
    let out = run_in(cwd.path(), &["backup", dest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "the folder {} does not exist",
            cwd.path().join("backups").display()
        )) && !said.contains("must not exist"),
        "{said}"
    );
    std::fs::create_dir(cwd.path().join("backups")).unwrap();
    let out = run_in(cwd.path(), &["backup", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = run_in(cwd.path(), &["backup", dest.to_str().unwrap()]);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

/// The words of `keys create` the first start printed, as a shell would
/// split them (the label is the one quoted word).
fn printed_command(text: &str, role: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.contains("keys create") && l.contains(&format!("--role {role}")))
        .unwrap_or_else(|| panic!("no `keys create --role {role}` in:\n{text}"));
    let (words, label) = line.trim().split_once(" \"").unwrap();
    let mut words: Vec<String> = words.split_whitespace().map(String::from).collect();
    assert_eq!(words.remove(0), "facet-screen");
    words.push(label.trim_end_matches('"').to_string());
    words
}

#[tokio::test]
async fn the_first_start_names_its_clinic_and_the_commands_it_prints_reach_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("service-data");
    let server = binary::serve(&[
        ("FACET_SCREEN_DATA_DIR", data.to_str().unwrap()),
        ("FACET_SCREEN_CLINIC", "st-marys"),
    ]);
    wait_until("the first key shown", || server.stderr().contains("fsk_")).await;
    let text = server.stderr();
    assert!(
        text.contains("admin key was made for clinic `st-marys`"),
        "{text}"
    );
    let admin = text
        .split_whitespace()
        .find(|w| w.starts_with("fsk_"))
        .unwrap()
        .to_string();

    // The printed command, run as printed from another directory, makes a
    // key the running service accepts, in the admin's clinic.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = binary::command()
        .current_dir(elsewhere.path())
        .args(printed_command(&text, "intake"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let intake = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!elsewhere.path().join("data").exists());

    let client = reqwest::Client::new();
    let created = client
        .post(server.url("/v1/screenings"))
        .bearer_auth(&intake)
        .json(&json!({"red_flags": {"significant_trauma": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // The admin sees it: one clinic.
    let listed: Value = client
        .get(server.url("/v1/screenings"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    // And makes a clinician key of its clinic over HTTP, as the Keys page does.
    let made: Value = client
        .post(server.url("/v1/keys"))
        .bearer_auth(&admin)
        .json(&json!({"role": "clinician", "label": "Dr Okafor"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made["info"]["clinic"], "st-marys", "{made}");
    server.kill();

    // A clinic that is not a slug stops the start before anything is made.
    let fresh = dir.path().join("other");
    let out = binary::command()
        .arg("serve")
        .env("FACET_SCREEN_DATA_DIR", &fresh)
        .env("FACET_SCREEN_ADDR", "127.0.0.1:0")
        .env("FACET_SCREEN_CLINIC", "St Marys")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("FACET_SCREEN_CLINIC"));
    assert!(!fresh.exists());
}

/// A clinic misspelled on the command line is refused, naming the clinics
/// the database has, and makes no key: its screenings would reach no
/// clinician of the real clinic. `--new-clinic` starts one on purpose; the
/// first key of an empty database needs no flag.
#[test]
fn a_key_for_a_clinic_no_key_belongs_to_is_refused_unless_it_is_new() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let create = |clinic: &str, extra: &[&str]| {
        binary::command()
            .args(["keys", "create", "--data-dir", dir, "--clinic", clinic])
            .args(["--role", "intake", "--label", "desk"])
            .args(extra)
            .output()
            .unwrap()
    };
    let first = create("st-marys", &["--create-database"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let count = || {
        let out = binary::command()
            .args(["keys", "list", "--data-dir", dir])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count() - 1
    };
    assert_eq!(count(), 1);

    let typo = create("st-mary", &[]);
    assert_eq!(typo.status.code(), Some(1), "{}", stderr(&typo));
    let said = stderr(&typo);
    assert!(
        said.contains("clinic `st-mary`")
            && said.contains("its clinics: st-marys")
            && said.contains("--new-clinic"),
        "{said}"
    );
    assert!(typo.stdout.is_empty(), "no key is printed");
    assert_eq!(count(), 1, "no key was made");

    // The clinic's own keys need no flag; a new clinic, said so, is made.
    assert!(create("st-marys", &[]).status.success());
    let new = create("st-marys-east", &["--new-clinic"]);
    assert!(new.status.success(), "{}", stderr(&new));
    assert_eq!(count(), 3);
}
