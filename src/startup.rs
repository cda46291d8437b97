//! Building and running the application: rules loaded and checked before the
//! port is bound, so a service that listens is a service that is ready.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::{Auth, Clinic, Expiry, KeyInfo, Label, NewKey, Role, Secret};
use crate::config::Settings;
use crate::http::{self, App, AppState};
use crate::rules::RuleSet;
use crate::rules::live::LiveRules;
use crate::screening::history::ViewWindow;
use crate::service::cds::{CdsHooks, CdsSettings};
use crate::service::{Callers, Exports, Keys, Readiness, Screenings, Statistics};
use crate::store::Store;

pub struct Application {
    listener: TcpListener,
    /// Where `listener` is bound, read when it was bound.
    address: SocketAddr,
    router: axum::Router,
    limits: http::serve::Limits,
    metrics_address: Option<SocketAddr>,
    /// Shared with other instances on the same SQLite data directory; a
    /// restore cannot run while it is held.
    _data_lock: Option<crate::store::backup::DataLock>,
}

/// The first admin key: straight to the terminal, never through the logger;
/// shown once, as soon as it is stored, with the `keys create` commands that
/// reach this database from any directory.
fn first_key_text(key: &KeyInfo, secret: &Secret, db: &crate::config::Database) -> String {
    let database = db.hint();
    let with = match db.database_url {
        Some(_) => " (DATABASE_URL set as for this service)",
        None => "",
    };
    format!(
        "\nNo API key existed, so an admin key was made for clinic `{clinic}` ({id}).\n\
         It is shown this once and cannot be recovered:\n\n    {secret}\n\n\
         It sees clinic `{clinic}` only (FACET_SCREEN_CLINIC or --clinic names it on a first start).\n\
         Make the clinic's intake and clinician keys on the Keys page, or with{with}:\n    \
         facet-screen keys create {database}--clinic {clinic} --role intake --label \"front desk\"\n    \
         facet-screen keys create {database}--clinic {clinic} --role clinician --label \"Dr Okafor\"\n",
        clinic = key.clinic,
        id = key.id,
        secret = secret.expose()
    )
}

/// Shows the first-run admin key; an error if it cannot have been shown.
pub type ShowFirstKey = fn(&str) -> std::io::Result<()>;

/// In process (tests, benchmarks): `eprint!`, which the test harness
/// captures.
fn show_in_process(text: &str) -> std::io::Result<()> {
    eprint!("{text}");
    Ok(())
}

/// For the binary: on stderr, and an error when nobody can read it there.
/// A closed stderr is /dev/null by the time `main` runs (Rust's runtime
/// opens it so), and writes to it succeed: /dev/null is refused as such. A
/// write that fails (/dev/full, a closed pipe) is an error too. Written
/// through a descriptor of its own, as `std::io::stderr` takes a closed
/// descriptor's error for success.
pub fn show_on_stderr(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut stderr = std::fs::File::from(std::io::stderr().as_fd().try_clone_to_owned()?);
    let meta = stderr.metadata()?;
    let null = std::fs::metadata("/dev/null")?;
    if meta.file_type().is_char_device() && meta.rdev() == null.rdev() {
        return Err(std::io::Error::other("stderr is /dev/null or closed"));
    }
    stderr.write_all(text.as_bytes())?;
    stderr.flush()
}

/// Loads the configured rule set, or says every problem with it.
pub fn load_rules(settings: &Settings) -> anyhow::Result<RuleSet> {
    RuleSet::configured(settings.rules_dir.as_deref(), settings.profile.as_deref())
        .map_err(anyhow::Error::msg)
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is wrong (exit code 2); nothing was touched.
    #[error("{0:#}")]
    Config(anyhow::Error),
    /// Something at run time failed (exit code 1).
    #[error("{0:#}")]
    Runtime(anyhow::Error),
    /// The first-run admin key could not be shown, so none was kept (exit
    /// code 3): a key nobody saw would be lost for good.
    #[error(
        "no API key existed, and the first admin key could not be shown on stderr ({0}), so none was made. \
         Start the service once with stderr open (a terminal, or the journal under systemd) to be shown it, \
         or make an admin key yourself: facet-screen keys create --clinic <slug> --role admin --label \"...\""
    )]
    FirstKeyNotShown(std::io::Error),
}

impl Application {
    /// Checks every setting before it touches the database, so that a
    /// wrong one changes nothing; then opens the database and, on the first
    /// start of an empty one, makes the admin key and prints it in the same
    /// step (nothing after that can lose it).
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        Self::build_showing_first_key(settings, show_in_process).await
    }

    /// As `build`, showing the first-run admin key with `show`; when it
    /// cannot, the key is taken back and the start refused
    /// (`StartError::FirstKeyNotShown`).
    pub async fn build_showing_first_key(
        settings: &Settings,
        show: ShowFirstKey,
    ) -> Result<Self, StartError> {
        let config = StartError::Config;
        let rules = load_rules(settings).map_err(config)?;
        let clinic = Clinic::parse(&settings.clinic)
            .map_err(|e| config(anyhow::anyhow!("FACET_SCREEN_CLINIC (--clinic): {e}")))?;
        let cors = http::cors(&settings.cors_origins)
            .map_err(|e| config(anyhow::anyhow!("FACET_SCREEN_CORS_ORIGINS: {e}")))?;
        let url = settings.database.url().map_err(config)?;
        let data_lock = match settings.database.database_url {
            Some(_) => None,
            None => Some(
                crate::store::backup::DataLock::shared(&settings.database.data_dir)
                    .map_err(StartError::Runtime)?,
            ),
        };
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))
            .map_err(config)?;
        let address = listener.local_addr().map_err(|e| config(e.into()))?;
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => format!("http://{address}"),
        };
        let cds = CdsSettings::load(
            settings.cds_issuers.as_deref(),
            public_url,
            settings.cds_max_token_secs,
            settings.cds_rate_limit,
            settings.cds_max_sources,
        )
        .context("cannot read the trusted CDS Hooks issuers")
        .map_err(config)?;

        let store = Store::connect(&url)
            .await
            .context("cannot open the database")
            .map_err(StartError::Runtime)?;
        // PANIC SAFETY: both are constants that parse (a slug; a label of
        // plain words), as the first-run tests show on every run.
        #[allow(clippy::expect_used)]
        let (new_key, secret) = NewKey::mint(
            clinic,
            Role::Admin,
            Label::parse("first-run admin key").expect("a valid label"),
            Expiry::NEVER,
        );
        if let Some(key) = store
            .bootstrap_admin(&new_key)
            .await
            .context("cannot make the first admin key")
            .map_err(StartError::Runtime)?
            && let Err(e) = show(&first_key_text(&key, &secret, &settings.database))
        {
            store
                .undo_bootstrap_admin(&key.id)
                .await
                .with_context(|| {
                    format!("the first admin key {} could not be shown ({e}) nor taken back: revoke it with `facet-screen keys revoke {}`", key.id, key.id)
                })
                .map_err(StartError::Runtime)?;
            return Err(StartError::FirstKeyNotShown(e));
        }
        tokio::spawn(housekeeping(
            store.clone(),
            Duration::from_secs(settings.housekeeping_secs.max(1)),
        ));
        let rules = LiveRules::new(rules);
        // Registered before the service listens: from then on SIGHUP
        // reloads the rule set instead of ending the process.
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot handle SIGHUP")
            .map_err(StartError::Runtime)?;
        tokio::spawn(reload_on_hangup(
            hangup,
            settings.rules_dir.clone(),
            settings.profile.clone(),
            rules.clone(),
        ));
        let metrics_address = match settings.metrics_addr {
            None => None,
            Some(addr) => {
                crate::monitoring::check_addr(addr, settings.addr).map_err(config)?;
                let listener = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for metrics on {addr}"))
                    .map_err(StartError::Runtime)?;
                let bound = listener
                    .local_addr()
                    .map_err(|e| StartError::Runtime(e.into()))?;
                crate::monitoring::install();
                tokio::spawn(crate::monitoring::serve(
                    listener,
                    Duration::from_secs(settings.header_timeout_secs.max(1)),
                    rules.current(),
                    store.clone(),
                ));
                Some(bound)
            }
        };
        let auth = Auth::new(settings.rate_limit);
        tokio::spawn(watch_key_generation(store.clone(), auth.clone()));
        tokio::spawn(listen_for_revocations(store.clone(), auth.clone()));
        let screenings = Screenings::new(rules.clone(), store.clone())
            .with_view_window(ViewWindow::seconds(settings.view_window_secs));
        let state = AppState::new(App {
            stats: Statistics::new(store.clone()),
            exports: Exports::new(store.clone(), rules.clone(), settings.max_exports as usize),
            callers: Callers::new(auth.clone(), store.clone()),
            keys: Keys::serving(store.clone(), auth),
            screenings: screenings.clone(),
            rules,
            openapi: Default::default(),
            cds: CdsHooks::new(cds, screenings, store.clone()),
            readiness: Readiness::new(store),
            export_stall: Duration::from_secs(settings.export_stall_secs),
        });
        let router = http::router(
            state,
            Duration::from_secs(settings.request_timeout_secs),
            cors,
            metrics_address.is_some(),
        );
        let limits = http::serve::Limits::new(
            Duration::from_secs(settings.header_timeout_secs.max(1)),
            settings.max_connections,
        );
        Ok(Application {
            listener,
            address,
            router,
            limits,
            metrics_address,
            _data_lock: data_lock,
        })
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// The router with every layer, as it serves requests (for in-process
    /// benchmarks; `run_until` serves it on the listener).
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// The address actually bound (port 0 asks for any free port).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let signal = shutdown_signal()?;
        self.run_until(signal).await
    }

    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        http::serve::serve(self.listener, self.router, self.limits, signal).await
    }
}

/// On each SIGHUP, loads the rule set again and checks it as `rules check`
/// does (every profile, every worked case beside it); puts it in use if all
/// pass, and otherwise keeps the one in use and logs why. Requests already
/// running finish on the set they started with.
async fn reload_on_hangup(
    mut hangup: tokio::signal::unix::Signal,
    dir: Option<std::path::PathBuf>,
    profile: Option<String>,
    rules: LiveRules,
) {
    while hangup.recv().await.is_some() {
        let Some(dir) = dir.clone() else {
            tracing::warn!(
                "SIGHUP: the built-in rules are in use (no FACET_SCREEN_RULES_DIR): nothing to reload"
            );
            continue;
        };
        let profile = profile.clone();
        let checked = tokio::task::spawn_blocking(move || {
            crate::cases::load_checked(&dir, profile.as_deref())
        })
        .await;
        match checked {
            Ok(Ok(new)) => {
                let (version, digest) = (new.version.clone(), new.digest.clone());
                let old = rules.replace(new);
                crate::monitoring::ruleset_changed(&old, &rules.current());
                if old.digest == digest {
                    tracing::info!(version = %version, digest = %digest, "SIGHUP: rule set checked; unchanged");
                } else {
                    tracing::info!(version = %version, digest = %digest, previous_digest = %old.digest, "SIGHUP: rule set reloaded");
                }
            }
            Ok(Err(why)) => {
                tracing::error!(digest = %rules.current().digest, problems = %why, "SIGHUP: the rule set was not reloaded; the one in use stays");
            }
            Err(e) => {
                tracing::error!(error = %e, "SIGHUP: the reload failed; the rule set in use stays");
            }
        }
    }
}

/// Reads the key generation every 250 ms, so that a key revoked by another
/// process (`keys revoke`, another instance) leaves this one's cache within
/// that time. While it cannot read it, the cache goes unused after 1 s.
async fn watch_key_generation(store: Store, auth: Arc<Auth>) {
    let mut tick = tokio::time::interval(crate::auth::cache::WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match store.key_generation().await {
            Ok(generation) => {
                auth.keys.confirm(generation);
                failing = false;
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot read the key generation: keys are looked up on every request until it can");
            }
            Err(_) => {}
        }
    }
}

/// On PostgreSQL, empties the key cache as soon as any instance commits a
/// revocation (NOTIFY), and whenever the listening connection is lost.
async fn listen_for_revocations(store: Store, auth: Arc<Auth>) {
    loop {
        let mut listener = match store.key_listener().await {
            None => return,
            Some(Ok(listener)) => listener,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "cannot LISTEN for revocations; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => auth.keys.invalidate(),
                // The connection was lost: notifications may have been
                // missed, so nothing cached is trusted.
                Ok(None) => auth.keys.invalidate(),
                Err(e) => {
                    auth.keys.invalidate();
                    tracing::warn!(error = %e, "lost the LISTEN connection; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Purges what has expired, on a schedule; with several instances on one
/// database, the database lets one of them do each run.
async fn housekeeping(store: Store, every: Duration) {
    let mut tick = tokio::time::interval(every);
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::hours(1));
    loop {
        tick.tick().await;
        // Leave a little slack, so that the instance whose turn it is runs.
        match store
            .purge_expired(chrono::Utc::now(), every - every / 10)
            .await
        {
            Ok(Some(p)) => tracing::info!(
                jwt_ids = p.jwt_ids,
                idempotency_keys = p.idempotency_keys,
                "purged what had expired"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it runs again later"),
        }
    }
}

/// The stop signal: SIGTERM or Ctrl-C. The handlers are installed when this
/// is called, before anything is served: a signal that arrives once the
/// service answers is always a graceful stop, never the default action.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}
