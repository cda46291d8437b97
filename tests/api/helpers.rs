use std::path::{Path, PathBuf};

use facet_screen::config::Settings;
use facet_screen::startup::Application;
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

/// Starts the application with the built-in rules on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts the application with settings changed by `configure`.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::from_env();
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.rules_dir = None;
    settings.profile = None;
    configure(&mut settings);
    let app = Application::build(&settings).await.expect("the app builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::new(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn evaluate(&self, answers: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/evaluations"))
            .json(answers)
            .send()
            .await
            .expect("request sent")
    }
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn rules_dir() -> PathBuf {
    repo().join("rules/v1")
}

/// The worked cases kept beside the rules.
pub fn cases() -> Vec<facet_screen::cases::Case> {
    facet_screen::cases::read_cases(&rules_dir().join("cases"))
        .expect("the worked cases read")
        .into_iter()
        .map(|(_, c)| c)
        .collect()
}

pub fn case_answers(id: &str) -> Value {
    cases()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .answers
}

/// A copy of the built-in rule set in a temporary directory, to edit.
pub fn rules_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in facet_screen::rules::FILES {
        std::fs::copy(rules_dir().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}
