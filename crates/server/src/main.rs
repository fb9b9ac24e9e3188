//! The `pgward` binary: a thin CLI over the library.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pgward_server::startup::{Catalog, discover_pg};
use pgward_server::{Application, Config, catalog, telemetry};

#[derive(Parser)]
#[command(name = "pgward", version, about = "PostgreSQL backups you can trust")]
struct Cli {
    /// TOML configuration file (settings can also come from PGWARD_* variables).
    #[arg(long, short, global = true, env = "PGWARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server and the SPA (starts the embedded catalog when no catalog URL is set).
    Serve,
    /// Run the workers (backups, webhook deliveries, health checks) and the scheduler only (no HTTP),
    /// against the shared catalog (catalog.url).
    Worker,
    /// Apply catalog migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Back up one database now, straight to local disk or S3, without the catalog.
    Dump(pgward_server::cli::dump::DumpArgs),
    /// Restore one backup file into a database now (verified stream, ON_ERROR_STOP / --exit-on-error),
    /// without the catalog.
    Restore(pgward_server::cli::restore::RestoreArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the secrets key.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Recover pgward's catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Record again every backup whose manifest lies on a destination (registered in this catalog: add
    /// it again first if the catalog was lost). Prints what it found and did, as JSON. Running it twice
    /// changes nothing.
    Rebuild {
        /// The destination's id or name.
        #[arg(long = "from")]
        from: String,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-encrypt every stored secret under a new key, in one transaction, and print the new key.
    /// With the key in <data_dir>/secret.key the file is replaced; with secrets.key configured, put the
    /// printed key there before the next start. Sessions end (their signing key derives from it).
    RotateKey,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// admin, operator or viewer.
        #[arg(long, default_value = "viewer", value_parser = parse_role)]
        role: pgward_api_types::Role,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a new password (read from standard input) and end all of the user's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Change a user's role (never the last active admin's to a lower one).
    SetRole {
        #[arg(long)]
        email: String,
        /// admin, operator or viewer.
        #[arg(long, value_parser = parse_role)]
        role: pgward_api_types::Role,
    },
}

fn parse_role(s: &str) -> Result<pgward_api_types::Role, String> {
    pgward_api_types::Role::parse(s).ok_or_else(|| "one of admin, operator, viewer".into())
}

/// Runs `f` on a migrated catalog, and closes it whatever happened.
async fn with_catalog<T>(
    config: &Config,
    f: impl AsyncFnOnce(&sea_orm::DatabaseConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let catalog = Catalog::open(config, &discover_pg(config)).await?;
    let result = async {
        catalog::migrate(&catalog.db).await?;
        f(&catalog.db).await
    }
    .await;
    catalog.close().await;
    result
}

fn read_password() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi { output } = &cli.command {
        let json = pgward_server::openapi::spec_json();
        match output {
            Some(p) => {
                std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?
            }
            None => print!("{json}"),
        }
        return Ok(());
    }
    let config =
        Config::load(cli.config.as_deref()).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    telemetry::init(&config.log, std::io::stderr);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve => Application::build(config).await?.run_until_stopped().await,
            Command::Worker => pgward_server::startup::run_worker(config).await,
            Command::Migrate => {
                let catalog = Catalog::open(&config, &discover_pg(&config)).await?;
                let result = catalog::migrate(&catalog.db).await;
                catalog.close().await;
                result?;
                eprintln!("catalog is up to date");
                Ok(())
            }
            Command::User { command } => {
                let message = with_catalog(&config, async |db| {
                    use pgward_server::features::{auth, users};
                    let err = |e: pgward_server::error::AppError| anyhow::anyhow!("{e}");
                    match command {
                        UserCommand::Create { email, role, name } => {
                            let req = pgward_api_types::CreateUserRequest {
                                email,
                                password: read_password()?,
                                name,
                                role,
                            };
                            let user = users::service::create(db, req).await.map_err(err)?;
                            Ok(format!("user {} created ({})", user.email, role.as_str()))
                        }
                        UserCommand::ResetPassword { email } => {
                            auth::service::reset_password(db, &email, &read_password()?)
                                .await
                                .map_err(err)?;
                            Ok("password changed; existing sessions ended".into())
                        }
                        UserCommand::SetRole { email, role } => {
                            users::service::set_role_by_email(db, &email, role)
                                .await
                                .map_err(err)?;
                            Ok(format!("{email} is now {}", role.as_str()))
                        }
                    }
                })
                .await?;
                eprintln!("{message}");
                Ok(())
            }
            Command::Dump(args) => {
                pgward_server::cli::dump::run(args, &config.postgres.bin_dirs).await
            }
            Command::Restore(args) => {
                pgward_server::cli::restore::run(args, &config.postgres.bin_dirs).await
            }
            Command::Secrets {
                command: SecretsCommand::RotateKey,
            } => {
                let r = pgward_server::cli::secrets::rotate_key(&config, &discover_pg(&config)).await?;
                println!("{}", r.new_key.to_base64());
                match r.key_file {
                    Some(p) => eprintln!(
                        "{} secrets re-encrypted; the new key (above) is in {}: back it up",
                        r.resealed,
                        p.display()
                    ),
                    None => eprintln!(
                        "{} secrets re-encrypted; set secrets.key (PGWARD_SECRETS__KEY) to the new key \
                         (above) in every pgward sharing this catalog before they start again",
                        r.resealed
                    ),
                }
                Ok(())
            }
            Command::Catalog {
                command: CatalogCommand::Rebuild { from },
            } => {
                let (state, catalog) = pgward_server::startup::background_state(config).await?;
                let result = async {
                    use pgward_server::features::{destinations, executions};
                    let err = |e: pgward_server::error::AppError| anyhow::anyhow!("{e}");
                    let id = match uuid::Uuid::parse_str(&from) {
                        Ok(id) => id,
                        Err(_) => destinations::service::list(&state)
                            .await
                            .map_err(err)?
                            .into_iter()
                            .find(|d| d.name == from)
                            .map(|d| d.id)
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "no destination named \"{from}\": register it again (same bucket or \
                                     directory), then rebuild from it"
                                )
                            })?,
                    };
                    let report = executions::service::rebuild_catalog_from(&state, id)
                        .await
                        .map_err(err)?;
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    eprintln!(
                        "{} backups recorded again, {} copies added, {} already known, {} left out",
                        report.recreated,
                        report.copies_added,
                        report.already_known,
                        report.skipped.len()
                    );
                    anyhow::Ok(())
                }
                .await;
                catalog.close().await;
                result
            }
            Command::Openapi { .. } => Ok(()),
        }
    })
}
