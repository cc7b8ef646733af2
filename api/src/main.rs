//! `keel`: the single binary. With no subcommand it serves (API + SPA).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keel_api::config::Config;
use keel_api::{db, server};

#[derive(Parser)]
#[command(name = "keel", version, about = "Billing, automation and customer portal for web hosts")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and serve the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator account (prints a generated password unless --password is given).
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// At least 10 characters; generated when omitted.
        #[arg(long, env = "KEEL_NEW_ADMIN_PASSWORD")]
        password: Option<String>,
        #[arg(long, default_value = "Keel")]
        first_name: String,
        #[arg(long, default_value = "Admin")]
        last_name: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Run job workers and the scheduler only (no HTTP), for scale-out.
    Worker {
        /// Worker threads (default: KEEL_WORKERS, at least 1).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Automation: run due scheduled tasks now.
    Automation {
        #[command(subcommand)]
        command: AutomationCommand,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum AutomationCommand {
    /// Start the tasks due as of a time and run the queue until it is empty.
    Run {
        /// A date (YYYY-MM-DD, meaning 23:59 UTC that day) or an RFC 3339 time; default now.
        #[arg(long)]
        as_of: Option<String>,
        /// Report what would run and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Enqueue N no-op jobs and drain them with W workers; prints jobs/second.
    Jobs {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        #[arg(long, default_value_t = 2)]
        workers: usize,
        #[arg(long, default_value_t = 100)]
        batch: i64,
    },
    /// Concurrent registrations and log-ins per second (argon2id included).
    Auth {
        #[arg(long, default_value_t = 200)]
        users: usize,
        #[arg(long, default_value_t = 8)]
        threads: usize,
    },
    /// N parallel log-ins for unknown e-mails through the app; prints statuses and peak memory.
    LoginFlood {
        #[arg(long, default_value_t = 600)]
        parallel: usize,
    },
    /// Quotes per second for a 10-line cart (pure calculation, and the service with its promo
    /// lookup); `--cart-json` prints that cart's request body instead.
    Quote {
        #[arg(long, default_value_t = 100_000)]
        runs: usize,
        #[arg(long)]
        cart_json: bool,
    },
    /// Invoice PDFs per second (a 10-line invoice rendered in-process; no database).
    Pdf {
        #[arg(long, default_value_t = 20_000)]
        runs: usize,
    },
    /// Checkouts per second of a 10-line cart, one verified client per thread.
    Checkout {
        #[arg(long, default_value_t = 2_000)]
        orders: usize,
        #[arg(long, default_value_t = 4)]
        threads: usize,
    },
    /// From a paid order to its hosting account active on a WHM stand-in (p50/p99 per order).
    Provision {
        #[arg(long, default_value_t = 100)]
        orders: usize,
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Seed the back office's lists and time their pages (p50/p99 per case).
    Lists {
        /// Client accounts to seed.
        #[arg(long, default_value_t = 100_000)]
        clients: usize,
        /// Audit-log entries to seed.
        #[arg(long, default_value_t = 1_000_000)]
        audit: usize,
        /// Times each case runs.
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KEEL_LOG").unwrap_or_else(|_| EnvFilter::new("info,diesel=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", keel_api::http::openapi::document());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keel: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_json);
    match run(cli.command.unwrap_or(Command::Serve), config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keel: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `2026-12-01` (end of that day, UTC) or an RFC 3339 time.
fn parse_as_of(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("--as-of: '{s}' is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => {
            let state = server::prepare(config, server::system_clock())?;
            server::first_start(&state)?;
            actix_web::rt::System::new().block_on(server::serve(state)).map_err(|e| format!("KEEL_BIND: {e}"))
        }
        Command::Migrate => {
            // connect() applies the migrations; the shipped scheduled tasks are installed too.
            let pool = db::connect(&config.database_url, 1).map_err(|e| format!("DATABASE_URL: {e}"))?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            let tasks = keel_api::compose::registry();
            keel_api::automation::scheduler::install(&mut conn, chrono::Utc::now(), tasks.tasks()).map_err(|e| e.to_string())?;
            println!("migrations applied ({})", config.database_url.backend.name());
            Ok(())
        }
        Command::CreateAdmin { email, password, first_name, last_name } => {
            keel_shared::validation::email(&email).map_err(|_| format!("--email: '{email}' is not an e-mail address"))?;
            if let Some(p) = &password {
                keel_shared::validation::password(p).map_err(|_| "--password: must be 10 to 128 characters".to_string())?;
            }
            let state = server::prepare(config, server::system_clock())?;
            let mut conn = state.pool.get().map_err(|e| e.to_string())?;
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (keel_api::bootstrap::generate_password(), true),
            };
            let hashed = keel_api::identity::password::hash(&password).map_err(|e| e.to_string())?;
            keel_api::accounts::users::create_user(
                &mut conn,
                state.clock.now(),
                &email,
                &hashed,
                &first_name,
                &last_name,
                keel_shared::auth::Role::Admin,
            )
            .map_err(|e| format!("--email: {e}"))?;
            println!("administrator {email} created");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Openapi => unreachable!("handled before configuration"),
        Command::Worker { concurrency } => {
            let mut config = config;
            if let Some(n) = concurrency {
                config.workers = n;
            }
            let state = server::prepare(config, server::system_clock())?;
            server::first_start(&state)?;
            server::run_workers(state)
        }
        Command::Automation { command: AutomationCommand::Run { as_of, dry_run } } => {
            let clock: keel_api::clock::SharedClock = match as_of {
                Some(s) => std::sync::Arc::new(keel_api::clock::FixedClock::new(parse_as_of(&s)?)),
                None => server::system_clock(),
            };
            let state = server::prepare(config, clock)?;
            keel_api::automation::runner::run(&state.pool, state.deps.as_ref(), &state.jobs, &server::worker_config(&state.config), dry_run)
        }
        Command::Bench { command: BenchCommand::Auth { users, threads } } => {
            let state = server::prepare(config, server::system_clock())?;
            keel_api::identity::bench::auth(&state, users, threads)
        }
        Command::Bench { command: BenchCommand::LoginFlood { parallel } } => {
            let state = server::prepare(config, server::system_clock())?;
            keel_api::identity::bench::login_flood(state, parallel)
        }
        Command::Bench { command: BenchCommand::Quote { runs, cart_json } } => {
            let state = server::prepare(config, server::system_clock())?;
            server::first_start(&state)?;
            if cart_json {
                keel_api::commerce::bench::cart_json(&state.pool)
            } else {
                keel_api::commerce::bench::quote(&state.pool, runs.max(1))
            }
        }
        Command::Bench { command: BenchCommand::Pdf { runs } } => {
            let runs = runs.max(1);
            let bytes = keel_api::billing::pdf::render(&keel_api::billing::pdf::sample_invoice(10)).len();
            let per_second = keel_api::billing::pdf::bench(runs);
            println!("invoice PDF (10 lines, {bytes} bytes): {per_second:.0} PDFs/s over {runs} renders");
            Ok(())
        }
        Command::Bench { command: BenchCommand::Checkout { orders, threads } } => {
            let state = server::prepare(config, server::system_clock())?;
            server::first_start(&state)?;
            keel_api::commerce::bench::checkout(&state, orders, threads)
        }
        Command::Bench { command: BenchCommand::Provision { orders, workers } } => {
            keel_api::provisioning::bench::provision(config, orders.max(1), workers)
        }
        Command::Bench { command: BenchCommand::Lists { clients, audit, runs } } => {
            let pool = db::connect(&config.database_url, 2).map_err(|e| format!("DATABASE_URL: {e}"))?;
            keel_api::admin::bench::lists(&pool, clients, audit, runs.max(1))
        }
        Command::Bench { command: BenchCommand::Jobs { jobs, workers, batch } } => {
            let state = server::prepare(config, server::system_clock())?;
            let cfg = keel_api::automation::worker::WorkerConfig { batch, ..server::worker_config(&state.config) };
            keel_api::automation::bench::jobs(&state.pool, state.deps.clone(), state.jobs.clone(), jobs, workers, cfg)
        }
    }
}
