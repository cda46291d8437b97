use std::path::{Path, PathBuf};

use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
use facet_screen::config::Settings;
use facet_screen::startup::Application;
use facet_screen::store::Store;
use serde_json::Value;

/// The database a test app uses: a fresh SQLite directory by default, or a
/// fresh schema of the PostgreSQL named by `FACET_SCREEN_TEST_POSTGRES`.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("FACET_SCREEN_TEST_POSTGRES") {
            Ok(base) if !base.is_empty() => {
                // `t_<run>_<uuid>`: a run that names itself
                // (FACET_SCREEN_TEST_RUN, as .ci/run does) drops its own
                // schemas at its end and no other run's.
                let run = std::env::var("FACET_SCREEN_TEST_RUN")
                    .ok()
                    .filter(|r| {
                        !r.is_empty()
                            && r.len() <= 24
                            && r.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    })
                    .map(|r| format!("{r}_"))
                    .unwrap_or_default();
                let schema = format!("t_{run}{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&base).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {base} is required by FACET_SCREEN_TEST_POSTGRES: {e}")
                });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                TestDb {
                    url: facet_screen::store::sqlite_url(dir.path()).unwrap(),
                    _dir: Some(dir),
                }
            }
        }
    }

    /// A database that exists already (say, one just restored).
    pub fn existing(url: String) -> TestDb {
        TestDb { url, _dir: None }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// A direct connection, for checks the API cannot make.
    pub async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }
}

/// A key of each role, for one clinic.
#[derive(Clone)]
pub struct Keys {
    pub intake: String,
    pub clinician: String,
    pub admin: String,
}

impl Keys {
    pub async fn make(db: &TestDb, clinic: &str) -> Keys {
        let store = Store::connect(&db.url).await.unwrap();
        let clinic = Clinic::parse(clinic).unwrap();
        let make = async |role: Role| {
            let label = format!("{} test key", role.as_str());
            let (new, secret) = NewKey::mint(
                clinic.clone(),
                role,
                Label::parse(&label).unwrap(),
                Expiry::NEVER,
            );
            store.insert_key(&new).await.unwrap();
            secret.expose().to_string()
        };
        Keys {
            intake: make(Role::Intake).await,
            clinician: make(Role::Clinician).await,
            admin: make(Role::Admin).await,
        }
    }

    pub fn of(&self, role: Role) -> &str {
        match role {
            Role::Intake => &self.intake,
            Role::Clinician => &self.clinician,
            Role::Admin => &self.admin,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: std::sync::Arc<TestDb>,
    /// Keys of clinic `default`.
    pub keys: Keys,
}

/// Starts the application with the built-in rules on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts the application with settings changed by `configure`.
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(std::sync::Arc::new(TestDb::new().await), configure).await
}

/// Starts an application on an existing database (a second instance).
pub async fn spawn_on(
    db: std::sync::Arc<TestDb>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::from_env();
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.rules_dir = None;
    settings.profile = None;
    settings.database.database_url = Some(db.url.clone());
    configure(&mut settings);
    let app = Application::build(&settings).await.expect("the app builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until(std::future::pending()));
    let keys = Keys::make(&db, "default").await;
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        keys,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn evaluate(&self, answers: &Value) -> reqwest::Response {
        self.post("/v1/evaluations", answers).await
    }

    /// POST as intake.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post_as(&self.keys.intake, path, body).await
    }

    pub async fn post_as(&self, key: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// GET as a clinician.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(&self.keys.clinician, path).await
    }

    pub async fn get_as(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a screening and returns its record.
    pub async fn create_screening(&self, answers: &Value) -> Value {
        let res = self.post("/v1/screenings", answers).await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
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

/// How long a test waits for a condition before it fails: generous, so
/// that a loaded machine is only slower, never wrong.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Polls `done` until it holds, failing the test with `what` after
/// `PATIENCE`: in place of a sleep that guesses how long something takes.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
