//! The mail server every instance sends to: a real SMTP listener on loopback that counts the
//! messages it accepted by kind and booking reference (from the subject), and can be
//! black-holed: connections are still accepted, but nothing is answered until it recovers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One accepted message: its kind (`confirmed`, `expired`, ...) and booking reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mail {
    pub kind: String,
    pub reference: String,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    /// Each message's `Message-ID`s, as accepted (a repeat is a redelivery).
    accepted: Arc<Mutex<HashMap<Mail, Vec<String>>>>,
    /// Messages whose subject could not be read (must stay 0).
    unreadable: Arc<Mutex<Vec<String>>>,
    black_hole: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let sink = SmtpSink {
            port: listener.local_addr().expect("address").port(),
            accepted: Arc::default(),
            unreadable: Arc::default(),
            black_hole: Arc::default(),
        };
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let sink = serving.clone();
                tokio::spawn(async move {
                    let _ = sink.session(socket).await;
                });
            }
        });
        sink
    }

    /// From now on nothing is answered (sessions already open fall silent too).
    pub fn black_hole(&self, on: bool) {
        self.black_hole.store(on, Ordering::SeqCst);
    }

    /// Distinct messages (by `Message-ID`) accepted per kind and booking: what a mail service
    /// delivers. API.md §5 allows one window to send a message again with the same
    /// `Message-ID` (the process dying, or the database failing, between the SMTP server's
    /// acceptance and the record of it); a receiving service recognises that as one message.
    pub fn counts(&self) -> HashMap<Mail, usize> {
        self.accepted
            .lock()
            .expect("lock")
            .iter()
            .map(|(mail, ids)| {
                let distinct: std::collections::HashSet<&String> = ids.iter().collect();
                (mail.clone(), distinct.len())
            })
            .collect()
    }

    /// Messages accepted again with a `Message-ID` already accepted (the window above).
    pub fn redeliveries(&self) -> usize {
        self.accepted
            .lock()
            .expect("lock")
            .values()
            .map(|ids| ids.len() - ids.iter().collect::<std::collections::HashSet<_>>().len())
            .sum()
    }

    /// Every message accepted, redeliveries included.
    pub fn accepted_total(&self) -> usize {
        self.accepted
            .lock()
            .expect("lock")
            .values()
            .map(Vec::len)
            .sum()
    }

    pub fn unreadable(&self) -> Vec<String> {
        self.unreadable.lock().expect("lock").clone()
    }

    /// While black-holed, waits without answering; afterwards the connection is dropped
    /// unanswered (the client sees it closed and tries again later). True: go on.
    async fn silent(&self) -> bool {
        if !self.black_hole.load(Ordering::SeqCst) {
            return true;
        }
        while self.black_hole.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        if !self.silent().await {
            return Ok(());
        }
        write.write_all(b"220 cluster.test ESMTP\r\n").await?;
        while let Some(line) = lines.next_line().await? {
            if !self.silent().await {
                return Ok(());
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-cluster.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("HELO")
                || upper.starts_with("MAIL FROM")
                || upper.starts_with("RCPT TO")
                || upper.starts_with("NOOP")
                || upper.starts_with("RSET")
            {
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push_str(&line);
                    data.push('\n');
                }
                // Counted only once it is acknowledged: a message left unanswered by the
                // black hole was not accepted, and the sender must try it again.
                if !self.silent().await {
                    return Ok(());
                }
                self.record(&data);
                b"250 OK queued\r\n"
            } else if upper.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }

    fn record(&self, data: &str) {
        match subject(data).as_deref().and_then(mail_of_subject) {
            Some(mail) => self
                .accepted
                .lock()
                .expect("lock")
                .entry(mail)
                .or_default()
                .push(header(data, "message-id").unwrap_or_default()),
            None => self
                .unreadable
                .lock()
                .expect("lock")
                .push(data.lines().take(20).collect::<Vec<_>>().join("\n")),
        }
    }
}

/// The `Subject` header, its folded lines joined.
fn subject(data: &str) -> Option<String> {
    header(data, "subject")
}

/// A header's value (`name` in lower case), its folded lines joined.
fn header(data: &str, name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    let mut lines = data.lines().take_while(|l| !l.is_empty());
    let first = lines.find(|l| l.to_ascii_lowercase().starts_with(&prefix))?;
    let mut subject = first[prefix.len()..].trim().to_string();
    for next in lines {
        if next.starts_with(' ') || next.starts_with('\t') {
            subject.push(' ');
            subject.push_str(next.trim());
        } else {
            break;
        }
    }
    Some(subject)
}

/// `Booking REF confirmed: ...`, `Booking REF expired`, `Booking REF cancelled`,
/// `Flight X cancelled: booking REF` (templates/emails/*.subject.tera).
fn mail_of_subject(subject: &str) -> Option<Mail> {
    let words: Vec<&str> = subject.split_whitespace().collect();
    let mail = |kind: &str, reference: &str| {
        Some(Mail {
            kind: kind.to_string(),
            reference: reference.trim_end_matches(':').to_string(),
        })
    };
    match words.as_slice() {
        ["Booking", reference, kind, ..] => mail(kind.trim_end_matches(':'), reference),
        ["Flight", _, "cancelled:", "booking", reference] => mail("flight_cancelled", reference),
        ["Flight", _, "schedule", "changed:", "booking", reference] => {
            mail("schedule_changed", reference)
        }
        _ => None,
    }
}

#[test]
fn subjects_name_kind_and_reference() {
    assert_eq!(
        mail_of_subject("Booking K7QX4M confirmed: AI101 DEL to BOM"),
        Some(Mail {
            kind: "confirmed".into(),
            reference: "K7QX4M".into()
        })
    );
    assert_eq!(
        mail_of_subject("Booking K7QX4M expired"),
        Some(Mail {
            kind: "expired".into(),
            reference: "K7QX4M".into()
        })
    );
    assert_eq!(mail_of_subject("Hello"), None);
    assert_eq!(
        subject("From: a\nSubject: Booking K7QX4M\n confirmed: AI1\nTo: b\n").as_deref(),
        Some("Booking K7QX4M confirmed: AI1")
    );
}
