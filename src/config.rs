//! Typed settings from command-line flags and environment variables, with
//! defaults that need no set-up. Nothing else reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "facet-screen",
    version,
    about = "Screens patients as candidates for endoscopic medial branch neurectomy: a suggestion for a clinician to confirm."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve(Settings),
    /// Manage API keys.
    Keys {
        #[command(flatten)]
        database: Database,
        /// Make the database when the data directory holds none (say, to
        /// make keys before the service's first start); without it, a
        /// directory with no database is refused.
        #[arg(long, global = true)]
        create_database: bool,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check rule sets and run their worked cases.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print the OpenAPI document generated from the code and the built-in rules.
    Openapi,
    /// Copy the SQLite database to DEST (a new file, 0600) while the service
    /// runs, and check the copy. For PostgreSQL use pg_dump (docs/operations.md).
    Backup {
        #[command(flatten)]
        database: Database,
        /// The file to write: a new file, in a folder that exists.
        dest: PathBuf,
    },
    /// Put a backup in place as the SQLite database: a copy of it is checked
    /// (integrity, its migrations against this binary's, the schema) and
    /// migrated forward first, and renamed into place only then; on any
    /// failure nothing is changed. Refused while a service uses the data
    /// directory, and over existing data unless --force.
    Restore {
        #[command(flatten)]
        database: Database,
        /// The backup file, from `backup`.
        src: PathBuf,
        /// Replace a database that already holds data.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check every file of a rule set and run the worked cases beside it.
    /// Prints each problem with its file and rule, then `N passed, M failed`.
    Check {
        /// The rule set's directory.
        #[arg(default_value = "rules/v1")]
        dir: PathBuf,
        /// Check against this profile only (default: every profile).
        #[arg(long)]
        profile: Option<String>,
    },
    /// What NEW changes from OLD: criteria added, removed or changed,
    /// parameters changed per profile, questions added or removed.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// `text` (the default) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// What a draft rule set would change: every stored screening's current
    /// answers evaluated with the rule set in use and with the draft, counted
    /// as transitions between outcomes with the criteria responsible.
    Impact {
        /// The draft rule set's directory.
        draft: PathBuf,
        /// The draft's profile (default: the profile in use, else the draft's default).
        #[arg(long)]
        profile: Option<String>,
        /// Only screenings created from this date (YYYY-MM-DD, UTC) or time (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Only this clinic's screenings (default: every clinic).
        #[arg(long)]
        clinic: Option<String>,
        /// `table` (the default) or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// The rule set in use, as `serve` reads it; the built-in rules when unset.
        #[arg(long, env = "FACET_SCREEN_RULES_DIR")]
        rules_dir: Option<PathBuf>,
        /// The profile in use, as `serve` reads it.
        #[arg(long, env = "FACET_SCREEN_PROFILE")]
        in_use_profile: Option<String>,
        #[command(flatten)]
        database: Database,
    },
    /// Print CONTRACT.md for the rule set in DIR, generated from its files.
    Doc {
        #[arg(default_value = "rules/v1")]
        dir: PathBuf,
    },
    /// Evaluate the answers in a JSON file and show every rule's truth value
    /// (true, false or unknown), the answers it read, and why the outcome is
    /// what it is.
    Explain {
        /// A JSON file of answers, as sent to POST /v1/evaluations.
        answers: PathBuf,
        /// The rule set's directory; the built-in rules when unset.
        #[arg(long, env = "FACET_SCREEN_RULES_DIR")]
        rules_dir: Option<PathBuf>,
        /// The profile (the rule set's default when unset).
        #[arg(long, env = "FACET_SCREEN_PROFILE")]
        profile: Option<String>,
        /// `text` (the default) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it, once.
    Create {
        /// The clinic the key belongs to (a slug: a-z, 0-9, -).
        #[arg(long)]
        clinic: String,
        #[arg(long, value_enum)]
        role: crate::auth::Role,
        /// What the key is for, shown in `keys list` and in the history.
        #[arg(long)]
        label: String,
        /// When the key stops working (RFC 3339, such as
        /// 2027-01-31T17:00:00Z). Left out: until revoked.
        #[arg(long)]
        expires: Option<String>,
        /// Start a clinic that no key of this database belongs to yet.
        /// Without it such a clinic is refused (a typo would otherwise make
        /// keys whose screenings no clinician of the real clinic sees),
        /// except for the first key of an empty database.
        #[arg(long)]
        new_clinic: bool,
    },
    /// List keys: ids, labels, roles, clinics, times; never the key.
    List,
    /// End a key at once. A clinic's last active administrator key is kept
    /// unless --force.
    Revoke {
        /// The key's id (`key_...`), from `keys list`.
        id: String,
        /// Revoke it even if it is its clinic's last active administrator
        /// key (say, one that leaked); `keys create` makes another.
        #[arg(long)]
        force: bool,
    },
}

/// Where screenings and keys are kept.
#[derive(Debug, Clone, Args)]
pub struct Database {
    /// Directory of the SQLite database (`serve` creates it on its first
    /// start; the other commands use the one a service already uses).
    #[arg(
        long,
        env = "FACET_SCREEN_DATA_DIR",
        default_value = "data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// A `postgres://` URL: use PostgreSQL instead of SQLite.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
}

impl Database {
    /// The URL to connect to, for `serve`: the SQLite database is made in
    /// the data directory when it holds none (zero set-up).
    pub fn url(&self) -> anyhow::Result<String> {
        use anyhow::Context;
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => crate::store::sqlite_url(&self.data_dir)
                .with_context(|| format!("cannot create {}", self.data_dir.display())),
        }
    }

    /// The URL of a database a service already uses, for the commands that
    /// act on its data (keys, impact): a SQLite data directory that holds
    /// no database is refused, naming the directory and how to point at
    /// the right one, rather than a new, empty database made wherever the
    /// command happens to run. `create` (`keys --create-database`) makes it.
    pub fn existing_url(&self, create: bool) -> anyhow::Result<String> {
        if !create {
            self.require_database()?;
        }
        self.url()
    }

    /// An error naming the data directory when it holds no SQLite database
    /// (and DATABASE_URL is unset).
    pub fn require_database(&self) -> anyhow::Result<()> {
        let file = self.data_dir.join(crate::store::SQLITE_FILE);
        if self.database_url.is_some() || file.exists() {
            return Ok(());
        }
        anyhow::bail!(
            "no database in {} ({} not found). This command acts on the data of a service: \
             point it at that service's data directory with --data-dir DIR or FACET_SCREEN_DATA_DIR \
             (the default, `data`, is relative to the current directory), or set DATABASE_URL as the \
             service has it. `serve` makes the database on its first start.",
            absolute(&self.data_dir).display(),
            crate::store::SQLITE_FILE
        )
    }

    /// How to name this database to another command: `--data-dir` with the
    /// absolute directory and a space, or nothing for DATABASE_URL (never
    /// written out: it may hold a password).
    pub fn hint(&self) -> String {
        match self.database_url {
            Some(_) => String::new(),
            None => format!("--data-dir {} ", absolute(&self.data_dir).display()),
        }
    }
}

/// `path` from the root, for messages; as given when it cannot be made so.
pub fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How the service runs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "FACET_SCREEN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Rule set directory; the rules built into the binary when unset.
    #[arg(long, env = "FACET_SCREEN_RULES_DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Threshold profile (`cms_lcd`, `asra_2020`); the rule set's default when unset.
    #[arg(long, env = "FACET_SCREEN_PROFILE")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub database: Database,
    /// The clinic of the admin key made on the first start of an empty
    /// database (a slug: a-z, 0-9, -); its keys see only its screenings.
    #[arg(long, env = "FACET_SCREEN_CLINIC", default_value = "default")]
    pub clinic: String,
    /// Requests a minute allowed per API key; over it, 429 with Retry-After.
    #[arg(long, env = "FACET_SCREEN_RATE_LIMIT", default_value_t = 600)]
    pub rate_limit: u32,
    /// Origins allowed to call the API from a browser (comma-separated), each
    /// https://host[:port]; http:// only for localhost, 127.0.0.1 or [::1].
    /// None when unset.
    #[arg(long, env = "FACET_SCREEN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// A JSON file of trusted CDS Hooks clients:
    /// `[{"iss": ..., "clinic": ..., "alg": "ES384", "public_key_pem": ...}]`.
    #[arg(long, env = "FACET_SCREEN_CDS_ISSUERS")]
    pub cds_issuers: Option<PathBuf>,
    /// The service's public URL (CDS Hooks audience, links in cards);
    /// `http://<addr>` when unset.
    #[arg(long, env = "FACET_SCREEN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format.
    #[arg(
        long,
        env = "FACET_SCREEN_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "FACET_SCREEN_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    pub request_timeout_secs: u64,
    /// How often expired CDS JWT ids and idempotency keys (after 24 hours)
    /// are purged; one instance does each run.
    #[arg(long, env = "FACET_SCREEN_HOUSEKEEPING_SECS", default_value_t = 3600)]
    pub housekeeping_secs: u64,
    /// A client must send a request's headers within this many seconds, and
    /// an idle kept-alive connection is closed after as long.
    #[arg(long, env = "FACET_SCREEN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Open connections at most (0: derived from the descriptor limit,
    /// leaving room for the database and files).
    #[arg(long, env = "FACET_SCREEN_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
    /// The longest a CDS Hooks token may still be valid for, in seconds.
    #[arg(long, env = "FACET_SCREEN_CDS_MAX_TOKEN_SECS", default_value_t = 300)]
    pub cds_max_token_secs: u64,
    /// CDS Hooks requests a minute per client address (counted before
    /// anything is decoded), and signed calls a minute per issuer.
    #[arg(long, env = "FACET_SCREEN_CDS_RATE_LIMIT", default_value_t = 600)]
    pub cds_rate_limit: u32,
    /// Client addresses the CDS Hooks rate limit counts at once (each is
    /// forgotten once its quota is back in full); when that many are
    /// counted, a request from a new address is refused 429.
    #[arg(long, env = "FACET_SCREEN_CDS_MAX_SOURCES", default_value_t = 10_000)]
    pub cds_max_sources: usize,
    /// Exports (`GET /v1/export`) that may run at once; one more is
    /// answered 429 with Retry-After. Together they hold at most all but
    /// one of the database pool's connections, one each at a time.
    #[arg(long, env = "FACET_SCREEN_MAX_EXPORTS", default_value_t = 2,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub max_exports: u32,
    /// Seconds an export waits for its client to read anything before its
    /// connection is cut (and its slot freed).
    #[arg(long, env = "FACET_SCREEN_EXPORT_STALL_SECS", default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub export_stall_secs: u64,
    /// A key's reads of a record less than this many seconds apart (and
    /// with no change in between) are one `viewed` event with a count, the
    /// first and the last time; 0 keeps every read apart. At most a day.
    #[arg(long, env = "FACET_SCREEN_VIEW_WINDOW_SECS", default_value_t = crate::screening::history::ViewWindow::DEFAULT_SECONDS,
        value_parser = clap::value_parser!(u64).range(0..=crate::screening::history::ViewWindow::MAX_SECONDS))]
    pub view_window_secs: u64,
    /// Serve Prometheus metrics at `/metrics` on this address, apart from
    /// the API (say 127.0.0.1:9464); off when unset.
    #[arg(long, env = "FACET_SCREEN_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

impl Settings {
    /// The defaults, overridden by the environment.
    pub fn from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        Only::parse_from(["facet-screen"]).settings
    }
}
