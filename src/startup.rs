//! Building the application: database, migrations, demo data, secrets and the HTTP server.
//! Tests and `main` use the same builder; tests bind port 0.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use rand::distributions::Alphanumeric;
use rand::Rng;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::Settings;
use crate::controllers::{self, docs::ApiDoc, RateLimits};
use crate::db::Database;
use crate::drain::{self, Drain};
use crate::error::AppError;
use crate::jobs;
use crate::jobs::delivery::Delivery;
use crate::metrics::Metrics;
use crate::services::booking::provider::SandboxProvider;
use crate::services::catalog::demo;
use crate::services::identity::{ResetKey, TokenKeys};
use crate::services::notify::mailer::Mailer;
use crate::state::AppState;
use crate::views::templates;
use crate::web::csrf::CsrfKey;
use crate::web::{
    compression, give_up, input, methods, metrics as web_metrics, rate_limit, request_id,
};

const OPENAPI_PATH: &str = "/api/openapi.json";

/// The serialized OpenAPI document, built by the first request for it and shared by every
/// worker. Building it at start cost 1.8 MB of idle RSS (the tree's leftovers on the heap and
/// the pages of every schema's code); the document as a tree, cloned into each worker's
/// Swagger UI, was ~1 MB of heap per worker.
fn openapi_json() -> Result<&'static web::Bytes, &'static str> {
    static DOCUMENT: std::sync::OnceLock<Result<web::Bytes, String>> = std::sync::OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            serde_json::to_vec(&ApiDoc::openapi())
                .map(web::Bytes::from)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(String::as_str)
}

async fn openapi_document() -> Result<actix_web::HttpResponse, AppError> {
    let body = openapi_json().map_err(|err| {
        AppError::Unexpected(anyhow::anyhow!(
            "cannot serialize the OpenAPI document: {err}"
        ))
    })?;
    Ok(actix_web::HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body.clone()))
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    drain: Drain,
    /// The listening socket (a second handle to the one actix accepts on), for the drain.
    listener: TcpListener,
}

/// Once the drain has found no request left, how long actix may take to close the idle
/// keep-alive connections (it checks once a second).
const ACTIX_CLOSE_SECONDS: u64 = 2;

/// Connects and applies pending migrations (what `skybook migrate` does).
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<Database> {
    let db = Database::connect(settings).await?;
    db.durably(async {
        Migrator::up(&db.writer, None)
            .await
            .context("migrations failed")
    })
    .await?;
    jobs::queue::setup(&db)
        .await
        .context("job queue migrations failed")?;
    Ok(db)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = prepare_database(&settings).await?;
        if settings.demo_data && !demo::has_flights(&db).await.map_err(anyhow_of)? {
            let summary = demo::seed(&db).await.map_err(anyhow_of)?;
            tracing::info!(?summary, "seeded the demo catalog");
        }
        db.release_startup_memory().await;
        let secret = jwt_secret(&settings)?;
        let templates = Arc::new(templates::load()?);
        let metrics = Metrics::new();
        let delivery = Delivery {
            db: db.clone(),
            tera: templates.clone(),
            mailer: Mailer::new(settings.smtp_url.expose(), &settings.data_dir)?,
            from: settings
                .mail_from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail_from: {e}"))?,
            public_url: settings.public_url.clone(),
            retry_seconds: settings.email_retry_seconds,
            reset_key: ResetKey::derive(&secret)?,
            outcomes: metrics.outcomes,
        };
        let state = AppState {
            payments: Arc::new(SandboxProvider::new(db.clone())),
            delivery,
            email_queue: jobs::queue::EmailQueue::new(&db),
            db,
            tokens: TokenKeys::new(&secret, settings.token_ttl_seconds),
            csrf: CsrfKey::derive(&secret)?,
            templates,
            settings: Arc::new(settings),
            metrics,
        };
        let limits = RateLimits::new(&state.settings)?;
        limits.spawn_eviction(rate_limit::EVICTION_INTERVAL);
        let listener = listen(state.settings.bind)
            .with_context(|| format!("cannot listen on {}", state.settings.bind))?;
        let port = listener.local_addr()?.port();
        let for_drain = listener
            .try_clone()
            .context("cannot keep a handle on the listening socket")?;
        let drain = Drain::default();
        let drain_data = web::Data::new(drain.clone());
        let on_connect_drain = drain.clone();
        let workers = match state.settings.http_workers {
            0 => std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
            n => n,
        };
        let app_state = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(drain_data.clone())
                .app_data(input::json_config())
                .app_data(input::path_config())
                .app_data(input::query_config())
                .configure(|cfg| controllers::configure_api(cfg, &limits))
                .service(controllers::health::live)
                .service(controllers::health::ready)
                .service(controllers::metrics::metrics)
                .service(controllers::docs::docs_redirect)
                .route(OPENAPI_PATH, web::get().to(openapi_document))
                .service(SwaggerUi::new("/api/docs/{_:.*}").config(Config::new([OPENAPI_PATH])))
                .configure(|cfg| controllers::site::configure_site(cfg, &limits))
                .service(methods::fallback())
                .default_service(web::to(not_found))
                .wrap(middleware::from_fn(give_up::middleware))
                .wrap(middleware::from_fn(methods::http_methods))
                .wrap(middleware::from_fn(controllers::site::render::site_pages))
                .wrap(middleware::from_fn(
                    controllers::site::session::ensure_csrf_seed,
                ))
                .wrap(middleware::Compress::default())
                .wrap(middleware::from_fn(compression::api_uncompressed))
                .wrap(middleware::from_fn(request_id::middleware))
                .wrap(middleware::from_fn(web_metrics::record))
                .wrap(middleware::from_fn(drain::track))
        })
        .workers(workers)
        // Responses leave at once: with Nagle's algorithm a response written in two pieces
        // waits for the client's delayed ACK (~40 ms on Linux).
        .on_connect(move |connection, data| {
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = tcp.set_nodelay(true);
            }
            data.insert(on_connect_drain.connection_opened());
        })
        // Signals are handled in `run_until_stopped`, which drains and stops the workers too.
        .disable_signals()
        .shutdown_timeout(ACTIX_CLOSE_SECONDS)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
            drain,
            listener: for_drain,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves HTTP and runs the background workers until SIGINT/SIGTERM, then drains both at
    /// once within the grace period (see [`drain`]): requests received are answered, running
    /// jobs finish, no new job starts. The database closes only after both have stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let db = self.state.db.clone();
        let grace = std::time::Duration::from_secs(self.state.settings.shutdown_grace_seconds);
        let handle = self.server.handle();
        let (drain, listener) = (self.drain, self.listener);
        let server_stopped = Arc::new(tokio::sync::Notify::new());
        let server_task = {
            let stopped = server_stopped.clone();
            let server = self.server;
            tokio::spawn(async move {
                let result = server.await;
                stopped.notify_one();
                result
            })
        };
        let running = jobs::RunningWorkers::default();
        let workers = running.clone();
        let shutdown = async move {
            tokio::select! {
                _ = shutdown_signal() => {
                    tracing::info!(grace_seconds = grace.as_secs(), "stopping: draining requests and jobs");
                    drain.begin();
                    let deadline = tokio::time::Instant::now() + grace;
                    tokio::spawn(drain::stop_http(handle, listener, drain, deadline));
                }
                // The server ended by itself: stop the workers too.
                _ = server_stopped.notified() => {}
            }
            workers.stop_all();
            Ok(())
        };
        let monitor = jobs::monitor(&self.state, &running)
            .run_with_signal(shutdown)
            .await
            .map_err(|e| anyhow::anyhow!("background workers failed: {e}"));
        let server = server_task.await.context("HTTP server task failed")?;
        db.close().await;
        server.context("HTTP server failed")?;
        monitor
    }
}

/// Connections the kernel may queue before they are accepted: actix's own default. std's
/// `TcpListener::bind` uses 128; 1,000 clients connecting at once overflowed that queue, and
/// each dropped attempt was retried by its client a whole second later (measured: the kernel's
/// ListenOverflows counter, and a slowest answer of 1.1 s in the last-seat race).
const LISTEN_BACKLOG: i32 = 2048;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std does: a restarted server may bind while old connections linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

fn anyhow_of(err: AppError) -> anyhow::Error {
    anyhow::anyhow!("{err}")
}

/// The configured secret, or the one kept in `data_dir/jwt.secret`, created on first start.
fn jwt_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if !settings.jwt_secret.expose().is_empty() {
        return Ok(settings.jwt_secret.expose().as_bytes().to_vec());
    }
    let path = settings.jwt_secret_path();
    if path.exists() {
        let secret = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let secret = secret.trim();
        anyhow::ensure!(
            secret.len() >= 32,
            "{} holds fewer than 32 bytes",
            path.display()
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let secret: String = rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    write_private(&path, &secret)?;
    tracing::warn!(
        path = %path.display(),
        "SKYBOOK_JWT_SECRET is not set: generated a signing secret and kept it in this file"
    );
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
