use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use facet_screen::auth::{Clinic, Expiry, Label, NewKey, Role};
use facet_screen::config::{Cli, Command, Database, KeysCommand, RulesCommand, Settings};
use facet_screen::rules::{RuleFiles, RuleSet};
use facet_screen::service::{KeyError, Keys};
use facet_screen::startup::{self, Application, StartError};
use facet_screen::store::Store;
use facet_screen::{cases, http, telemetry};

/// jemalloc instead of glibc's malloc: measured on POST /v1/evaluations on
/// the 2-core machine, server CPU per request 33 µs → 27 µs and +20%
/// throughput, for +1 MiB at rest and +5 MiB peak under load (mimalloc had
/// cost 24 MiB at rest). See docs/benchmarks-history.md.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(Settings::from_env()),
        Some(Command::Serve(settings)) => serve(settings),
        Some(Command::Rules(RulesCommand::Check { dir, profile })) => rules_check(&dir, profile),
        Some(Command::Rules(RulesCommand::Diff { old, new, format })) => {
            rules_diff(&old, &new, &format)
        }
        Some(Command::Rules(RulesCommand::Doc { dir })) => rules_doc(&dir),
        Some(Command::Rules(RulesCommand::Impact {
            draft,
            profile,
            from,
            clinic,
            format,
            rules_dir,
            in_use_profile,
            database,
        })) => rules_impact(
            &draft,
            profile.or(in_use_profile.clone()),
            from.as_deref(),
            clinic.as_deref(),
            &format,
            (rules_dir.as_deref(), in_use_profile.as_deref()),
            &database,
        ),
        Some(Command::Rules(RulesCommand::Explain {
            answers,
            rules_dir,
            profile,
            format,
        })) => rules_explain(&answers, rules_dir.as_deref(), profile.as_deref(), &format),
        Some(Command::Keys {
            database,
            create_database,
            command,
        }) => keys(&database, create_database, command),
        Some(Command::Backup { database, dest }) => {
            if let Err(e) = database.require_database() {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
            backup_or_restore(&database, |dir| async move {
                let inventory = facet_screen::store::backup::backup(&dir, &dest).await?;
                println!(
                    "backed up {inventory} to {} (checked: integrity ok)",
                    dest.display()
                );
                anyhow::Ok(())
            })
        }
        Some(Command::Restore {
            database,
            src,
            force,
        }) => backup_or_restore(&database, |dir| async move {
            // A directory that is not there is a mistake to say (a wrong
            // --data-dir), not one to make: restore into the service's.
            if !dir.is_dir() {
                anyhow::bail!(
                    "the data directory {} does not exist: point --data-dir (or FACET_SCREEN_DATA_DIR) at the \
                     service's, or make it first (mkdir -m 700)",
                    facet_screen::config::absolute(&dir).display()
                );
            }
            let restored = facet_screen::store::restore::restore(&dir, &src, force).await?;
            let migrations = match restored.migrated {
                Some((from, to)) => format!(" (migrated forward from {from} to {to})"),
                None => " (up to date)".into(),
            };
            println!(
                "restored {restored} from {} into {} (checked in a copy before it was put in place: integrity ok, migrations run{migrations}, schema as expected)",
                src.display(),
                dir.display()
            );
            anyhow::Ok(())
        }),
        Some(Command::Openapi) => match http::openapi::committed_document() {
            Ok(doc) => {
                print!("{doc}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(settings: Settings) -> ExitCode {
    // Log lines go to stdout from a thread of their own, in batches: a
    // request never waits on the terminal or the pipe, nor wakes a thread
    // for its line. Past 4 MiB waiting (a pipe nobody reads), lines are
    // dropped and counted, never waited for. The guard writes what is left
    // at exit, waiting 2 s at most for a stalled output.
    let (stdout, _flush_at_exit) = telemetry::batched::writer(std::io::stdout());
    telemetry::init(settings.log_format, stdout);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let app =
            match Application::build_showing_first_key(&settings, startup::show_on_stderr).await {
                Ok(app) => app,
                Err(e @ StartError::Config(_)) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
                Err(e @ StartError::FirstKeyNotShown(_)) => {
                    // Stderr cannot be read: said on the log (stdout) too.
                    tracing::error!("{e}");
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    return ExitCode::from(3);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
        if let Some(metrics) = app.metrics_address() {
            tracing::info!(metrics = %metrics, "metrics at /metrics");
        }
        tracing::info!(address = %app.address(), "facet-screen listening");
        match app.run_until_stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Runs a backup or a restore of the SQLite data directory.
fn backup_or_restore<F, Fut>(database: &Database, run: F) -> ExitCode
where
    F: FnOnce(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    if database.database_url.is_some() {
        eprintln!(
            "error: DATABASE_URL names PostgreSQL: use pg_dump and pg_restore (see docs/operations.md, backups)"
        );
        return ExitCode::from(2);
    }
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(database.data_dir.clone())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn keys(database: &Database, create_database: bool, command: KeysCommand) -> ExitCode {
    let run = async {
        let keys = Keys::new(Store::connect(&database.existing_url(create_database)?).await?);
        match command {
            KeysCommand::Create {
                clinic,
                role,
                label,
                expires,
                new_clinic,
            } => {
                let clinic = Clinic::parse(&clinic).map_err(anyhow::Error::msg)?;
                if !new_clinic {
                    let all = keys.list_all().await?;
                    let mut clinics: Vec<&str> = all.iter().map(|k| k.clinic.as_str()).collect();
                    clinics.sort_unstable();
                    clinics.dedup();
                    if !clinics.is_empty() && !clinics.contains(&clinic.as_str()) {
                        anyhow::bail!(
                            "no key of this database belongs to clinic `{clinic}` (its clinics: {}). \
                             Check the spelling, or pass --new-clinic to start a new clinic. No key was made.",
                            clinics.join(", ")
                        );
                    }
                }
                let label = Label::parse(&label).map_err(anyhow::Error::msg)?;
                let expires = match expires {
                    None => Expiry::NEVER,
                    Some(raw) => Expiry::parse(&raw, chrono::Utc::now())
                        .map_err(|e| anyhow::anyhow!("--expires: {e}"))?,
                };
                let (new, secret) = NewKey::mint(clinic, role, label, expires);
                let key = keys.create(&new).await?;
                println!("{}", secret.expose());
                eprintln!(
                    "made {} for clinic `{}`, role {} ({}). The key above is shown once: keep it now.",
                    key.id,
                    key.clinic,
                    key.role.as_str(),
                    key.label
                );
            }
            KeysCommand::List => {
                println!(
                    "{:<38} {:<16} {:<10} {:<28} {:<28} {:<28} {:<28} label",
                    "id", "clinic", "role", "created", "last used", "expires", "revoked"
                );
                for k in keys.list_all().await? {
                    println!(
                        "{:<38} {:<16} {:<10} {:<28} {:<28} {:<28} {:<28} {}",
                        k.id,
                        k.clinic,
                        k.role.as_str(),
                        k.created_at,
                        k.last_used_at.as_deref().unwrap_or("-"),
                        k.expires_at.as_deref().unwrap_or("never"),
                        k.revoked_at.as_deref().unwrap_or("-"),
                        k.label
                    );
                }
            }
            KeysCommand::Revoke { id, force } => {
                let key = match keys.revoke_any(&id, force).await {
                    Ok(key) => key,
                    Err(KeyError::NotFound) => anyhow::bail!("no key {id}"),
                    Err(KeyError::LastAdmin(clinic)) => {
                        anyhow::bail!(
                            "{id} is the last active administrator key of clinic `{clinic}`: make another first \
                             (keys create --clinic {clinic} --role admin --label ...), or pass --force to revoke it \
                             all the same (say, a key that leaked)"
                        )
                    }
                    Err(e) => return Err(e.into()),
                };
                println!(
                    "revoked {} ({}) at {}",
                    key.id,
                    key.label,
                    key.revoked_at.as_deref().unwrap_or_default()
                );
                if key.role == Role::Admin && !keys.has_active_admin(&key.clinic).await? {
                    eprintln!(
                        "clinic `{0}` has no active administrator key left: make one with \
                         keys create --clinic {0} --role admin --label ...",
                        key.clinic
                    );
                }
            }
        }
        anyhow::Ok(())
    };
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn rules_doc(dir: &std::path::Path) -> ExitCode {
    match RuleFiles::read_dir(dir).and_then(|f| facet_screen::rules::doc::contract_markdown(&f)) {
        Ok(md) => {
            print!("{md}");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            ExitCode::FAILURE
        }
    }
}

fn rules_impact(
    draft: &std::path::Path,
    profile: Option<String>,
    from: Option<&str>,
    clinic: Option<&str>,
    format: &str,
    (in_use_dir, in_use_profile): (Option<&std::path::Path>, Option<&str>),
    database: &Database,
) -> ExitCode {
    let run = async {
        let in_use = RuleSet::configured(in_use_dir, in_use_profile).map_err(anyhow::Error::msg)?;
        let draft = RuleFiles::read_dir(draft)
            .and_then(|files| RuleSet::load(&files, profile.as_deref()))
            .map_err(|p| anyhow::anyhow!("the draft in {}:\n{p}", draft.display()))?;
        // A date is midnight UTC.
        let from = from.map(|f| match chrono::NaiveDate::parse_from_str(f, "%Y-%m-%d") {
            Ok(_) => format!("{f}T00:00:00Z"),
            Err(_) => f.to_string(),
        });
        let mut errors = Vec::new();
        let period = facet_screen::screening::Period::parse(from.as_deref(), None, &mut errors);
        if let Some(e) = errors.first() {
            anyhow::bail!("--from: {}", e.message);
        }
        // Read only: a data directory with no database is a mistake to
        // say, not an empty one to make.
        let store = Store::connect(&database.existing_url(false)?).await?;
        let mut impact = facet_screen::screening::impact::ImpactBuilder::new(&in_use, &draft);
        store
            .replay(clinic, &period, |s| {
                impact.add(s.id, s.answers, s.suggested)
            })
            .await?;
        let impact = impact.finish();
        Ok(if format == "json" {
            serde_json::to_string_pretty(&impact)? + "\n"
        } else {
            impact.to_string()
        })
    };
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run));
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn rules_explain(
    answers: &std::path::Path,
    dir: Option<&std::path::Path>,
    profile: Option<&str>,
    format: &str,
) -> ExitCode {
    let run = || -> Result<String, String> {
        let rules = RuleSet::configured(dir, profile)?;
        let text =
            std::fs::read_to_string(answers).map_err(|e| format!("{}: {e}", answers.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", answers.display()))?;
        let parsed = facet_screen::questionnaire::Answers::parse(&rules.fields, &json).map_err(
            |errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {}: {}", answers.display(), e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        )?;
        let explanation =
            facet_screen::screening::explain::explain(&rules, &parsed, chrono::Utc::now());
        Ok(if format == "json" {
            serde_json::to_string_pretty(&explanation)
                .map_err(|e| format!("cannot write the explanation as JSON: {e}"))?
                + "\n"
        } else {
            explanation.to_string()
        })
    };
    match run() {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Checks every profile of the rule set in `dir` (or one), then runs the
/// worked cases in `dir/cases`.
fn rules_diff(old: &std::path::Path, new: &std::path::Path, format: &str) -> ExitCode {
    let diff = RuleFiles::read_dir(old)
        .and_then(|o| RuleFiles::read_dir(new).map(|n| (o, n)))
        .and_then(|(o, n)| facet_screen::rules::diff::diff(&o, &n));
    match diff {
        Ok(d) if format == "json" => match serde_json::to_string_pretty(&d) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write the diff as JSON: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(d) => {
            print!("{d}");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("{problems}");
            ExitCode::FAILURE
        }
    }
}

fn rules_check(dir: &std::path::Path, profile: Option<String>) -> ExitCode {
    let files = match RuleFiles::read_dir(dir) {
        Ok(f) => f,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::FAILURE;
        }
    };
    let default = match RuleSet::load(&files, profile.as_deref()) {
        Ok(rules) => rules,
        Err(problems) => {
            eprintln!("{problems}");
            return ExitCode::FAILURE;
        }
    };
    let profiles = match profile {
        Some(p) => vec![p],
        None => default.profiles.clone(),
    };
    for p in &profiles {
        if let Err(problems) = RuleSet::load(&files, Some(p)) {
            eprintln!("profile {p}:\n{problems}");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "{}: questionnaire {} ({} questions), rule set {} ({} rules), profiles {}, digest {}",
        dir.display(),
        default.questionnaire.version,
        default.fields.len(),
        default.version,
        default.rules.len(),
        profiles.join(", "),
        default.digest
    );
    println!("no problems found");
    let cases_dir = dir.join("cases");
    if !cases_dir.is_dir() {
        println!("no worked cases ({} not found)", cases_dir.display());
        return ExitCode::SUCCESS;
    }
    let cases = match cases::read_cases(&cases_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let results = cases::run(&files, &cases, chrono::Utc::now());
    let mut failed = 0;
    for r in &results {
        if r.failures.is_empty() {
            println!("ok   {}", r.id);
        } else {
            failed += 1;
            println!("FAIL {} ({})", r.id, r.file);
            for f in &r.failures {
                println!("       {f}");
            }
        }
    }
    println!("{} passed, {} failed", results.len() - failed, failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
