//! Stopping the HTTP server without losing a request (API.md §9): on SIGTERM readiness turns
//! 503 at once, the kernel stops completing new connections, the connections it already
//! queued are still accepted, then the listening socket is closed (new connections are
//! refused), and every request received on an accepted connection is answered before the
//! server stops, within the grace period.
//!
//! actix-web's own graceful stop is not enough for that: once signalled, each connection
//! finishes only the request it is already running and closes with any request it has
//! received but not yet started (actix-http's `DRAINING`), and connections queued for a
//! worker are dropped. A burst of requests sent just before SIGTERM was mostly lost that way.
//! So the drain below waits for those requests itself and signals actix only when none is left.

use std::net::{Shutdown, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web;
use tokio::time::Instant;

/// How often the drain looks at the listener's queue and at the requests in flight.
const POLL: Duration = Duration::from_millis(10);
/// How long nothing must be in flight before the server is stopped: a connection the accept
/// thread took just before the pause is still on its way to a worker (a channel hop) and is
/// counted only once the worker has it.
const SETTLE: Duration = Duration::from_millis(150);
/// The longest the drain keeps accepting what the kernel queued: under a steady flood the
/// queue is never empty, and the requests already accepted need the rest of the grace period.
const ACCEPT_QUEUED_AT_MOST: Duration = Duration::from_secs(1);
/// How long the accept queue must stay empty before the accept thread is paused: a handshake
/// whose last ACK was already on its way when the filter went on still lands in the queue.
const HANDSHAKE_SETTLE: Duration = Duration::from_millis(50);
/// Between pausing actix's accept thread and closing the socket under it: a closed listener
/// still registered there would make it log accept errors.
const PAUSE_SETTLE: Duration = Duration::from_millis(20);

/// What the drain knows of the server: whether it is draining, the requests being handled and
/// the connections that have not yet sent their first request.
#[derive(Clone, Default)]
pub struct Drain(Arc<Counters>);

#[derive(Default)]
struct Counters {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    fresh_connections: AtomicUsize,
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }

    /// Readiness answers 503 from now on, and each response closes its connection.
    pub fn begin(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
    }

    /// Nothing is being handled and no accepted connection is still to send its first request.
    fn is_idle(&self) -> bool {
        self.0.in_flight.load(Ordering::SeqCst) == 0
            && self.0.fresh_connections.load(Ordering::SeqCst) == 0
    }

    /// For `HttpServer::on_connect`: kept in the connection's data, so dropped with it.
    pub fn connection_opened(&self) -> ConnectionSeen {
        self.0.fresh_connections.fetch_add(1, Ordering::SeqCst);
        ConnectionSeen {
            drain: self.clone(),
            served: AtomicBool::new(false),
        }
    }
}

/// One accepted connection; it counts as fresh until its first request starts.
pub struct ConnectionSeen {
    drain: Drain,
    served: AtomicBool,
}

impl ConnectionSeen {
    fn request_started(&self) {
        if !self.served.swap(true, Ordering::SeqCst) {
            self.drain
                .0
                .fresh_connections
                .fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for ConnectionSeen {
    fn drop(&mut self) {
        if !self.served.load(Ordering::SeqCst) {
            self.drain
                .0
                .fresh_connections
                .fetch_sub(1, Ordering::SeqCst);
        }
    }
}

struct InFlight(Drain);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0 .0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The outermost middleware: counts each request while it is handled and, while draining,
/// makes its response close the connection (an idle keep-alive connection would otherwise
/// keep the drain waiting for its keep-alive timeout).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let drain = req
        .app_data::<web::Data<Drain>>()
        .map(|d| d.get_ref().clone());
    // Counted in flight before the connection stops counting as fresh: the drain never sees
    // this request as neither.
    let _in_flight = drain.as_ref().map(|drain| {
        drain.0.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(drain.clone())
    });
    if let Some(seen) = req.conn_data::<ConnectionSeen>() {
        seen.request_started();
    }
    let mut response = next.call(req).await?;
    if drain.as_ref().is_some_and(Drain::is_draining) {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response)
}

/// Stops the HTTP server by `deadline` without losing a request it has received: accepts what
/// the kernel queued before SIGTERM, closes the listener, waits until no request is in flight
/// and no accepted connection is still silent, then stops actix (which closes the idle
/// keep-alive connections). At the deadline whatever is left is cut off.
pub async fn stop_http(
    handle: ServerHandle,
    listener: TcpListener,
    drain: Drain,
    deadline: Instant,
) {
    // Closing a listener resets the connections still in its accept queue, after their
    // clients may have sent a request that a proxy then cannot safely resend (a POST). So no
    // connection may complete from here on: a filter drops every packet the listener gets (a
    // client's SYN is retried a second later and then refused), and what is queued is
    // accepted before the close.
    refuse_new_handshakes(&listener);
    let accept_until = deadline.min(Instant::now() + ACCEPT_QUEUED_AT_MOST);
    let mut empty_since: Option<Instant> = None;
    while Instant::now() < accept_until {
        if has_queued_connections(&listener) {
            empty_since = None;
        } else if empty_since.get_or_insert_with(Instant::now).elapsed() >= HANDSHAKE_SETTLE {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    handle.pause().await;
    tokio::time::sleep(PAUSE_SETTLE).await;
    // `shutdown` on a listening socket takes it out of the listen state: connection attempts
    // are refused from here on instead of waiting in the queue until the process exits.
    if let Err(err) = socket2::SockRef::from(&listener).shutdown(Shutdown::Both) {
        tracing::warn!(error = %err, "could not close the listening socket");
    }
    tracing::info!("draining: the listener is closed, waiting for requests in flight");
    let mut idle_since: Option<Instant> = None;
    let finished = loop {
        let now = Instant::now();
        if drain.is_idle() {
            let since = *idle_since.get_or_insert(now);
            if now.duration_since(since) >= SETTLE {
                break true;
            }
        } else {
            idle_since = None;
        }
        if now >= deadline {
            break false;
        }
        tokio::time::sleep(POLL).await;
    };
    if finished {
        tracing::info!("drained: every request received was answered");
    } else {
        tracing::warn!("the shutdown grace period ended with requests still in flight");
    }
    handle.stop(finished).await;
}

/// Attaches a socket filter that drops every packet the listener receives: no SYN is
/// answered and no half-open handshake completes, so the accept queue only empties.
#[cfg(target_os = "linux")]
fn refuse_new_handshakes(listener: &TcpListener) {
    // One classic BPF instruction: `ret #0`, keep zero bytes of the packet (drop it).
    let drop_all = [socket2::SockFilter::new(
        (libc::BPF_RET | libc::BPF_K) as u16,
        0,
        0,
        0,
    )];
    if let Err(err) = socket2::SockRef::from(listener).attach_filter(&drop_all) {
        tracing::warn!(error = %err, "could not stop new connections before closing the listener");
    }
}

#[cfg(not(target_os = "linux"))]
fn refuse_new_handshakes(_listener: &TcpListener) {}

/// Whether connections wait in the listener's accept queue (the socket polls readable).
fn has_queued_connections(listener: &TcpListener) -> bool {
    let mut poll = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, a zero timeout; the fd stays open for the call.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & libc::POLLIN != 0
}
