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
    /// Set a new password (read from standard input) and end all of the user's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
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
            Command::User {
                command: UserCommand::ResetPassword { email },
            } => {
                let mut password = String::new();
                std::io::stdin().lock().read_line(&mut password)?;
                let password = password.trim_end_matches(['\r', '\n']);
                let catalog = Catalog::open(&config, &discover_pg(&config)).await?;
                let result = async {
                    catalog::migrate(&catalog.db).await?;
                    pgward_server::features::auth::service::reset_password(
                        &catalog.db,
                        &email,
                        password,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
                }
                .await;
                catalog.close().await;
                result?;
                eprintln!("password changed; existing sessions ended");
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
            Command::Openapi { .. } => Ok(()),
        }
    })
}
