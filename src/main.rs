use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use kvota::config::Config;
use kvota::startup::{Application, shutdown_signal};

/// Kvota: foreign-labour quota applications, forms and sealed documents over gRPC.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file (defaults < file < KVOTA_* environment).
    #[arg(long, short, env = "KVOTA_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC service.
    Serve,
    /// Certificates.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Create a development root CA and seal certificate (never for production).
    Dev {
        /// Where to write them; defaults to {data_dir}/certs.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Replace certificates that already exist.
        #[arg(long)]
        force: bool,
    },
}

fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config.log_format);
    match cli.command {
        Command::Serve => {
            let app = Application::build(&config).await?;
            app.run_until(shutdown_signal()).await
        }
        Command::Certs {
            command: CertsCommand::Dev { dir, force },
        } => {
            let dir = dir.unwrap_or_else(|| config.data_dir.join("certs"));
            if force && dir.exists() {
                kvota::sign::dev::remove_dev_pki(&dir)?;
            }
            let pki = kvota::sign::dev::ensure_dev_pki(&dir, &config.signing.dev_bin)?;
            println!("root CA:          {}", pki.root_pem.display());
            println!("seal certificate: {}", pki.seal_cert_pem.display());
            println!("seal key:         {}", pki.seal_key_pem.display());
            Ok(())
        }
    }
}
