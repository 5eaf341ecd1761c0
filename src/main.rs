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
    /// Render a template with a JSON data file to an (unsealed) PDF, to preview a
    /// template change before the service uses it.
    Render {
        /// Template name, e.g. appendix1.typ (from templates_dir, else built in).
        #[arg(long, default_value = "appendix1.typ")]
        template: String,
        /// The data file (see templates/sample/).
        #[arg(long)]
        data: PathBuf,
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a consistent copy of the database to PATH while the service may be running
    /// (restore by pointing `database_url` at the copy, or copying it over the data file
    /// while the service is stopped).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
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
        Command::Render {
            template,
            data,
            out,
        } => {
            let renderer = kvota::render::Renderer::new(
                config.templates_dir.as_deref(),
                config.fonts_dir.as_deref(),
            )?;
            let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&data)?)?;
            let meta = kvota::render::PdfMeta {
                ident: "preview".into(),
                created: chrono::Utc::now().with_timezone(&kvota::domain::almaty()),
            };
            let pdf = renderer.render(&template, &value, "preview", &meta)?;
            std::fs::write(&out, &pdf)?;
            println!("{} ({} bytes)", out.display(), pdf.len());
            Ok(())
        }
        Command::Backup { path } => {
            let store = kvota::store::Store::open(&config.database_url()).await?;
            store.backup_to(&path).await?;
            println!("{}", path.display());
            Ok(())
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
