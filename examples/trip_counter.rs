//! Counts the round trips between Skybook and its database server: a TCP proxy that
//! `scripts/bench` puts between the two to report the round trips per booking + payment.
//!
//!   trip_counter LISTEN_ADDR UPSTREAM_ADDR STATS_ADDR
//!
//! Every connection accepted on LISTEN_ADDR is forwarded to UPSTREAM_ADDR, byte for byte. A
//! round trip is counted each time the client sends after the server last sent on that
//! connection, or sends for the first time: one burst of the client's bytes and the server's
//! answer. The rule needs no knowledge of the protocol, so it counts PostgreSQL's and MySQL's
//! alike (TLS included), and several statements sent in one message count once, as they wait
//! for the network once. A statement count, such as the server's own statistics, would not.
//! The handshakes count too: MySQL's server speaks first, and the client's reply to its
//! greeting is that connection's first round trip.
//!
//! Each connection to STATS_ADDR is answered with one line of running totals since start,
//! `ROUND_TRIPS CONNECTIONS_OPENED`, and closed (`read -r n c < /dev/tcp/HOST/PORT` reads it
//! in bash): read it before and after a workload and take the difference. Once both ports
//! are bound it prints a line starting `trip_counter listening`; it runs until killed.
//!
//! Two plain threads per connection, std only: a blocking read wakes when bytes arrive, about
//! the least a proxy can add to each hop, and the program needs nothing beyond std.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// The pumps hold one buffer each and call nothing deep: a small stack is plenty.
const STACK_SIZE: usize = 128 * 1024;
const BUFFER_SIZE: usize = 64 * 1024;

fn main() -> Result<(), String> {
    let usage = "usage: trip_counter LISTEN_ADDR UPSTREAM_ADDR STATS_ADDR";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, upstream, stats] = args.as_slice() else {
        return Err(usage.into());
    };
    let upstream: SocketAddr = upstream
        .to_socket_addrs()
        .map_err(|e| format!("{upstream}: {e}"))?
        .next()
        .ok_or(format!("{upstream}: no address"))?;
    let listener = TcpListener::bind(listen).map_err(|e| format!("{listen}: {e}"))?;
    let stats_listener = TcpListener::bind(stats).map_err(|e| format!("{stats}: {e}"))?;
    thread::spawn(move || serve_totals(stats_listener));
    println!("trip_counter listening on {listen}, forwarding to {upstream}, totals on {stats}");
    io::stdout().flush().map_err(|e| e.to_string())?;
    for client in listener.incoming() {
        match client {
            Ok(client) => {
                let spawned = thread::Builder::new()
                    .stack_size(STACK_SIZE)
                    .spawn(move || {
                        if let Err(err) = proxy(client, upstream) {
                            eprintln!("trip_counter: {err}");
                        }
                    });
                if let Err(err) = spawned {
                    eprintln!("trip_counter: cannot start a thread: {err}");
                }
            }
            Err(err) => eprintln!("trip_counter: accept: {err}"),
        }
    }
    Ok(())
}

fn serve_totals(listener: TcpListener) {
    for mut reader in listener.incoming().flatten() {
        let _ = writeln!(
            reader,
            "{} {}",
            ROUND_TRIPS.load(Ordering::SeqCst),
            CONNECTIONS.load(Ordering::SeqCst)
        );
    }
}

fn proxy(client: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    CONNECTIONS.fetch_add(1, Ordering::SeqCst);
    // The proxy must not hold back a small message waiting for more (Nagle's algorithm):
    // each one is a whole request or answer that the other side waits for.
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    // True until the client's first burst, then again each time the server has sent.
    let server_sent = Arc::new(AtomicBool::new(true));
    let to_server = {
        let (from, to) = (client.try_clone()?, server.try_clone()?);
        let server_sent = server_sent.clone();
        thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(move || {
                pump(from, to, || {
                    if server_sent.swap(false, Ordering::SeqCst) {
                        ROUND_TRIPS.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })?
    };
    // Marked before the bytes are passed on: the client cannot answer them before the mark,
    // so its next burst always sees it.
    pump(server, client, || server_sent.store(true, Ordering::SeqCst));
    let _ = to_server.join();
    Ok(())
}

/// Copies `from` to `to` until either side closes, calling `on_bytes` before passing each
/// read on; then passes the close on, so that the opposite pump ends too.
fn pump(mut from: TcpStream, mut to: TcpStream, on_bytes: impl Fn()) {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                on_bytes();
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
