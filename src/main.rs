use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use kvota::clock::Clock;
use kvota::config::Config;
use kvota::startup::{Application, shutdown_signal};
use kvota::store::Store;

/// Typst's layout allocates and frees many small objects on every core (a long form is
/// laid out in parts in parallel); mimalloc returns freed pages to the system, where
/// glibc's per-thread arenas kept a long form's peak resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        /// Also write the data as the template reads it (Appendix 2's cells prepared),
        /// to compile the same template with the typst CLI.
        #[arg(long)]
        data_out: Option<PathBuf>,
    },
    /// Write a consistent copy of the database to PATH while the service may be running
    /// (restore by pointing `database_url` at the copy, or copying it over the data file
    /// while the service is stopped).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// The principal registry: which certificate identities act for the state bodies.
    Principals {
        #[command(subcommand)]
        command: PrincipalsCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Apply the database's migrations and exit: SQLite's (`database_url`, by default the
    /// data directory's file) or PostgreSQL's for a `postgres://…` URL.
    Migrate,
    /// Copy a SQLite installation into an empty PostgreSQL database (migrated first) and
    /// verify it: row counts, the audit chain, every document's SHA-256. Stop the service
    /// first; point `database_url` at PostgreSQL after.
    Copy {
        /// sqlite://… (the service's database_url by default)
        #[arg(long)]
        from: Option<String>,
        /// postgres://…
        #[arg(long)]
        to: String,
    },
    /// One pass of the archive job (PAdES B-LTA): extends published decisions not yet
    /// extended and renews document timestamps whose certificate expires within
    /// `archive.margin_days`; `serve` also runs it every `archive.interval_minutes`.
    /// Exits 1 when a document could not be handled now.
    Archive,
    /// Certificates.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
}

#[derive(Subcommand)]
enum PrincipalsCommand {
    /// Register an identity in a role. With --iin, one person (at --bin only, if given);
    /// with --bin alone, every certificate of that organisation.
    Add {
        #[arg(long)]
        iin: Option<String>,
        #[arg(long)]
        bin: Option<String>,
        /// EMPLOYER, REGIONAL_BODY, COMMISSION, CENTRAL_BODY or MINISTRY.
        #[arg(long)]
        role: String,
        /// KATO code of the region, for REGIONAL_BODY and COMMISSION.
        #[arg(long)]
        region: Option<String>,
        /// Free text: who this is, on whose order.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List the registry.
    List,
    /// Remove an entry by its id (from `list`).
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole hash chain; exits 1 naming the first broken record.
    Verify,
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

fn main() -> Result<()> {
    kvota::startup::tune_allocator();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("the async runtime")?
        .block_on(run())
}

async fn run() -> Result<()> {
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
            data_out,
        } => {
            let renderer = kvota::render::Renderer::new(
                config.templates_dir.as_deref(),
                config.fonts_dir.as_deref(),
            )?;
            let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&data)?)?;
            let meta = kvota::render::PdfMeta {
                ident: "preview".into(),
                created: service_clock(&config)?
                    .now()
                    .with_timezone(&kvota::domain::almaty()),
            };
            if let Some(path) = &data_out {
                let prepared = renderer.template_data(&template, &value);
                std::fs::write(path, serde_json::to_vec(&prepared)?)?;
            }
            let pdf = renderer.render(&template, &value, "preview", &meta)?;
            std::fs::write(&out, &pdf)?;
            println!("{} ({} bytes)", out.display(), pdf.len());
            Ok(())
        }
        Command::Backup { path } => {
            let store = existing_store(&config).await?;
            store.backup_to(&path).await?;
            println!("{}", path.display());
            Ok(())
        }
        Command::Principals { command } => principals(&config, command).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = existing_store(&config).await?;
            let (held, broken) = store.verify_audit_chain().await?;
            match broken {
                None => {
                    println!("audit chain intact: {held} records");
                    Ok(())
                }
                Some(b) => {
                    println!(
                        "audit chain broken at record {}: {} ({held} records before it hold)",
                        b.seq, b.reason
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Migrate => {
            let url = config.database_url();
            if !kvota::store::is_postgres(&url) {
                std::fs::create_dir_all(&config.data_dir)?;
            }
            let n = Store::migrate(&url)
                .await
                .with_context(|| format!("migrating {url}"))?;
            println!("{n} migrations applied");
            Ok(())
        }
        Command::Copy { from, to } => {
            let from = from.unwrap_or_else(|| config.database_url());
            let report = kvota::store::copy::sqlite_to_postgres(&from, &to)
                .await
                .with_context(|| format!("copying {from} to PostgreSQL"))?;
            for (table, rows) in &report.tables {
                println!("{table}: {rows} rows");
            }
            println!(
                "copied and verified: {} tables, {} rows, audit chain of {} records intact, {} documents match their SHA-256",
                report.tables.len(),
                report.tables.iter().map(|t| t.1).sum::<i64>(),
                report.audit_records,
                report.documents
            );
            Ok(())
        }
        Command::Archive => {
            // The service's state without its listeners (it may be running beside).
            let mut quiet = config.clone();
            quiet.listen = "127.0.0.1:0".into();
            quiet.http_listen = String::new();
            quiet.transport = kvota::config::Transport::Development;
            let app = Application::build(&quiet).await?;
            let policy = kvota::process::archive::ArchivePolicy {
                margin: chrono::Duration::days(i64::from(config.archive.margin_days)),
            };
            let summary = kvota::process::archive::archive_pass(app.state(), &policy).await?;
            for id in &summary.extended {
                println!("extended documents/{id}");
            }
            for id in &summary.renewed {
                println!("renewed documents/{id}");
            }
            for (id, why) in &summary.failed {
                println!("not now documents/{id}: {why}");
            }
            println!(
                "archive pass: {} extended, {} renewed, {} not now",
                summary.extended.len(),
                summary.renewed.len(),
                summary.failed.len()
            );
            if !summary.failed.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Certs {
            command: CertsCommand::Dev { dir, force },
        } => {
            let dir = dir.unwrap_or_else(|| config.data_dir.join("certs"));
            if force && dir.exists() {
                kvota::sign::dev::remove_dev_pki(&dir)?;
            }
            let pki = kvota::sign::dev::ensure_dev_pki_with(
                &dir,
                &config.signing.dev_bin,
                config.dev_crl_url().as_deref(),
            )?;
            println!("root CA:          {}", pki.root_pem.display());
            println!("seal certificate: {}", pki.seal_cert_pem.display());
            println!("seal key:         {}", pki.seal_key_pem.display());
            if let Some(url) = config.dev_crl_url() {
                println!("root CRL:         {url} (issued by `kvota serve`)");
            }
            Ok(())
        }
    }
}

/// The clock the service would run on: the audit trail of a command agrees with it.
fn service_clock(config: &Config) -> Result<Clock> {
    Ok(config.fixed_clock()?.map_or(Clock::System, Clock::Fixed))
}

/// The database of a command that only reads one (`backup`, `audit verify`): a missing
/// one means a wrong data directory, so it is named rather than created empty.
async fn existing_store(config: &Config) -> Result<Store> {
    let url = config.database_url();
    if let Some(file) = Store::database_file(&url)?
        && !file.exists()
    {
        eprintln!(
            "no database at {} (set data_dir or KVOTA_DATA_DIR, or database_url, to the service's)",
            file.display()
        );
        std::process::exit(1);
    }
    Store::open(&url)
        .await
        .with_context(|| format!("opening database {url}"))
}

/// The database of a command that writes (`principals`), created and migrated as `serve`
/// does: the ministry is registered before the service first starts.
async fn writable_store(config: &Config) -> Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let url = config.database_url();
    Store::open(&url)
        .await
        .with_context(|| format!("opening database {url}"))
}

async fn principals(config: &Config, command: PrincipalsCommand) -> Result<()> {
    use kvota::auth::Role;
    use kvota::store::principals::PrincipalRow;
    let store = writable_store(config).await?;
    let clock = service_clock(config)?;
    let operator = kvota::identity::Caller {
        subject: format!(
            "kvota principals (user {})",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
        ..kvota::identity::Caller::public()
    };
    let actor = kvota::store::audit::Actor::caller(&operator, "cli/principals", clock);
    let show = |p: &PrincipalRow| {
        println!(
            "{:>4}  {:<13}  IIN {:<12}  BIN {:<12}  region {:<9}  {}",
            p.id,
            p.role.as_str(),
            p.iin.as_deref().unwrap_or("-"),
            p.bin.as_deref().unwrap_or("-"),
            p.region.as_deref().unwrap_or("-"),
            p.note
        )
    };
    match command {
        PrincipalsCommand::Add {
            iin,
            bin,
            role,
            region,
            note,
        } => {
            let role = Role::parse(&role)
                .filter(|r| *r != Role::Public)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--role must be one of EMPLOYER, REGIONAL_BODY, COMMISSION, CENTRAL_BODY, MINISTRY"
                    )
                })?;
            if let Some(i) = &iin {
                kvota::domain::Bin::parse(i).map_err(|e| anyhow::anyhow!("--iin: {e}"))?;
            }
            if let Some(b) = &bin {
                kvota::domain::Bin::parse(b).map_err(|e| anyhow::anyhow!("--bin: {e}"))?;
            }
            if iin.is_none() && bin.is_none() {
                anyhow::bail!("give --iin, --bin or both");
            }
            match (&region, role.is_regional()) {
                (None, true) => anyhow::bail!("--region is required for {role}"),
                (Some(_), false) => {
                    anyhow::bail!("--region applies to REGIONAL_BODY and COMMISSION only")
                }
                (Some(r), true) if store.get_region(r).await.is_err() => {
                    anyhow::bail!("--region: {r:?} is not the KATO code of one of the 20 regions")
                }
                _ => {}
            }
            let row = PrincipalRow {
                id: 0,
                iin,
                bin,
                role,
                region,
                note,
            };
            let added = store.add_principal(&actor, &row, clock.now()).await?;
            show(&added);
        }
        PrincipalsCommand::List => {
            for p in store.list_principals().await? {
                show(&p);
            }
        }
        PrincipalsCommand::Remove { id } => {
            let removed = store.remove_principal(&actor, id).await?;
            show(&removed);
        }
    }
    Ok(())
}
