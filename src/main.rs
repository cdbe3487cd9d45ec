use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skybook::config::Settings;
use skybook::db::backup;
use skybook::error::AppError;
use skybook::models::identity::Email;
use skybook::services::catalog::demo;
use skybook::services::identity::{self, AdminCreated, Password};
use skybook::startup::{prepare_database, Application};

#[derive(Parser)]
#[command(
    name = "skybook",
    version,
    about = "Flight reservations: API, website and jobs in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, seed the demo catalog if empty, and serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Insert the demo catalog (idempotent).
    SeedDemo,
    /// Create an admin; the password is read from stdin. An email that already has an account
    /// is refused unless --promote-existing is given.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Make the existing account with this email admin, set its password to the one read
        /// from stdin and revoke every token issued to it before.
        #[arg(long)]
        promote_existing: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server keeps serving.
    Backup {
        /// Where the copy goes; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// A bad setting is exit code 2, as for a bad command line.
const EXIT_BAD_SETTING: u8 = 2;

/// mimalloc instead of glibc's malloc: glibc gives each allocating thread an arena of its own
/// and returns little of it (the 1,000-connection race peaked at 110 MB), and capping the
/// arenas made the threads queue on the arena locks (seen in perf as futex waits). mimalloc
/// keeps small per-thread heaps without such locks and returns freed pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Option numbers of the bundled mimalloc v3 (`mi_option_e` in its include/mimalloc.h); the
/// crate names only some. `option_numbers_match_mimalloc` checks them by their defaults.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Commit memory as it is used and give freed pages back at once. Measured against mimalloc's
/// defaults (same build, no_thp in both): idle after seeding the demo catalog 45 MB instead of
/// 60 MB, the 1,000-connection race's peak 92 MB instead of 106 MB, and 62 MB instead of
/// 105 MB right after it, for the same throughput.
fn tune_allocator() {
    // SAFETY: setting an option is a plain store into mimalloc's option table.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(start()),
        Err(err) => {
            eprintln!("skybook: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("skybook: {err}");
            return ExitCode::from(EXIT_BAD_SETTING);
        }
    };
    skybook::telemetry::init(&settings.log);
    let command = match cli.command.unwrap_or(Command::Serve) {
        Command::Backup { to } => return run_backup(&settings, &to).await,
        command => command,
    };
    match run(command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("skybook: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `backup` has exit codes of its own (API.md §1): 2 on a server database, 1 on failure.
async fn run_backup(settings: &Settings, to: &std::path::Path) -> ExitCode {
    let url = settings.database_url.expose();
    match backup::backup(settings.database_kind, url, to).await {
        Ok(done) => {
            println!(
                "backup written to {} ({} bytes in {} ms)",
                to.display(),
                done.bytes,
                done.took.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("skybook: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        // Run by `run_backup`, for its exit codes.
        Command::Backup { to } => anyhow::bail!("backup --to {} was not run", to.display()),
        Command::Serve => {
            let app = Application::build(settings).await?;
            let bind = app.state().settings.bind;
            println!("listening on http://{}:{}", bind.ip(), app.port());
            app.run_until_stopped().await
        }
        Command::Migrate => {
            prepare_database(&settings).await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            let db = prepare_database(&settings).await?;
            let summary = demo::seed(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "demo catalog: {} cities, {} airports, {} airplanes, {} flights added",
                summary.cities, summary.airports, summary.airplanes, summary.flights
            );
            db.close().await;
            Ok(())
        }
        Command::CreateAdmin {
            email,
            promote_existing,
            ..
        } => {
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            // One trailing newline is what `echo` or a here-string adds.
            if password.ends_with('\n') {
                password.pop();
                if password.ends_with('\r') {
                    password.pop();
                }
            }
            let password =
                Password::parse(password).map_err(|e| anyhow::anyhow!("password {e}"))?;
            // Before the database is touched: a refused password changes nothing at all.
            identity::check_strength(password.expose(), email.as_str())
                .map_err(|weak| anyhow::anyhow!("the password {}", weak.message()))?;
            let db = prepare_database(&settings).await?;
            let address = email.to_string();
            let done = if promote_existing {
                identity::create_or_promote_admin(&db, email, password).await
            } else {
                identity::create_admin(&db, email, password)
                    .await
                    .map(AdminCreated::Created)
            };
            db.close().await;
            match done {
                Ok(AdminCreated::Created(user)) => {
                    println!("created admin {} (id {})", user.email, user.id)
                }
                Ok(AdminCreated::Promoted(user)) => println!(
                    "promoted {} (id {}) to admin with the new password; its earlier tokens are revoked",
                    user.email, user.id
                ),
                Err(AppError::EmailTaken) => anyhow::bail!(
                    "an account with email {address} already exists; nothing changed (add --promote-existing to make it admin with this password)"
                ),
                Err(AppError::WeakPassword(weak)) => {
                    anyhow::bail!("the password {}", weak.message)
                }
                Err(other) => anyhow::bail!("{other}"),
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MI_OPTION_ARENA_EAGER_COMMIT, MI_OPTION_PURGE_DELAY};

    #[test]
    fn option_numbers_match_mimalloc() {
        // Their defaults in this version: arena_eager_commit 2, purge_delay 1,000 ms.
        // SAFETY: reading an option has no preconditions.
        let (eager, delay) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            )
        };
        assert_eq!((eager, delay), (2, 1000));
    }
}
