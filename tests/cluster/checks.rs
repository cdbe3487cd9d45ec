//! The counts read back from the database and the SMTP sink once the cluster has settled, and
//! the promises they must keep (API.md §5 and §9).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

use crate::cluster::{Cluster, Kind};
use crate::load::Outcome;
use crate::smtp::Mail;

/// Holds expire (10 s), reconciliations and email retries happen within this, with margin.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(240);

/// A column value: integers and text only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    Int(i64),
    Text(String),
    Null,
}

impl Cell {
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(i) => *i,
            other => panic!("an integer, got {other:?}"),
        }
    }
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            other => panic!("text, got {other:?}"),
        }
    }
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }
}

fn pg_cell(row: &sqlx::postgres::PgRow, i: usize) -> Cell {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Cell::Null, Cell::Int);
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Cell::Null, |v| Cell::Int(v.into()));
    }
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => v.map_or(Cell::Null, Cell::Text),
        Err(err) => panic!("column {i}: {err}"),
    }
}

fn mysql_cell(row: &sqlx::mysql::MySqlRow, i: usize) -> Cell {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Cell::Null, Cell::Int);
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Cell::Null, |v| Cell::Int(v.into()));
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Cell::Null, Cell::Text);
    }
    // The tables' binary collation makes text columns VARBINARY.
    match row.try_get::<Option<Vec<u8>>, _>(i) {
        Ok(v) => v.map_or(Cell::Null, |b| {
            Cell::Text(String::from_utf8(b).expect("UTF-8"))
        }),
        Err(err) => panic!("column {i}: {err}"),
    }
}

/// Every row of `sql`, read on a connection of its own.
pub async fn rows(cluster: &Cluster, sql: &str) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
    match cluster.kind {
        Kind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&cluster.database_url).await?;
            let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
            Ok(rows
                .iter()
                .map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect())
                .collect())
        }
        Kind::MySql => {
            let mut conn = sqlx::MySqlConnection::connect(&cluster.database_url).await?;
            let rows = sqlx::query(sql).fetch_all(&mut conn).await?;
            Ok(rows
                .iter()
                .map(|r| (0..r.len()).map(|i| mysql_cell(r, i)).collect())
                .collect())
        }
    }
}

pub async fn count(cluster: &Cluster, sql: &str) -> i64 {
    rows(cluster, sql).await.expect("query")[0][0].int()
}

/// What the checks found: the counts for the report, and every broken promise.
#[derive(Default, Debug)]
pub struct Verdict {
    pub counts: Vec<(String, i64)>,
    pub failures: Vec<String>,
}

impl Verdict {
    fn count(&mut self, name: &str, value: usize) {
        self.counts.push((name.to_string(), value as i64));
    }
    fn expect_zero(&mut self, name: &str, offenders: Vec<String>) {
        self.count(name, offenders.len());
        if !offenders.is_empty() {
            let shown: Vec<_> = offenders.iter().take(10).cloned().collect();
            self.failures.push(format!(
                "{name}: {} (e.g. {})",
                offenders.len(),
                shown.join("; ")
            ));
        }
    }
}

/// Waits until nothing is left to settle: no pending booking (every hold paid or expired),
/// no email still to send, and the sink has every email the outbox says was sent.
pub async fn settle(cluster: &Cluster) -> Result<Duration, String> {
    let started = Instant::now();
    let deadline = started + SETTLE_TIMEOUT;
    loop {
        let state = async {
            let pending = count(
                cluster,
                "SELECT COUNT(*) FROM bookings WHERE status = 'pending'",
            )
            .await;
            let unsent = count(
                cluster,
                "SELECT COUNT(*) FROM email_outbox WHERE status <> 'sent'",
            )
            .await;
            let sent = count(
                cluster,
                "SELECT COUNT(*) FROM email_outbox WHERE status = 'sent'",
            )
            .await;
            (pending, unsent, sent)
        };
        let (pending, unsent, sent) = state.await;
        let received = cluster.smtp.accepted_total();
        if pending == 0 && unsent == 0 && received as i64 >= sent {
            return Ok(started.elapsed());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not settled after {SETTLE_TIMEOUT:?}: {pending} bookings pending, {unsent} emails \
                 not sent, {sent} sent, {received} received"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every promise, over the whole database (every scenario so far) and what every client was
/// told (`told`, all scenarios so far).
pub async fn verify(cluster: &Cluster, told: &Outcome) -> Verdict {
    let mut v = Verdict::default();
    let bookings = rows(
        cluster,
        "SELECT id, reference, status, flight_id FROM bookings",
    )
    .await
    .expect("bookings");
    let status: HashMap<i64, String> = bookings.iter().map(|r| (r[0].int(), r[2].text())).collect();
    let reference: HashMap<i64, String> =
        bookings.iter().map(|r| (r[0].int(), r[1].text())).collect();
    let by_status = |s: &str| status.values().filter(|x| *x == s).count();
    v.count("bookings", bookings.len());
    v.count("confirmed", by_status("confirmed"));
    v.count("expired", by_status("expired"));
    v.count("pending", by_status("pending"));
    v.count("cancelled", by_status("cancelled"));

    // One charge per booking, and none for a booking that is not confirmed (net of refunds).
    let payments = rows(cluster, "SELECT id, booking_id, status FROM payments")
        .await
        .expect("payments");
    let booking_of_payment: HashMap<String, i64> = payments
        .iter()
        .map(|r| (format!("pay_{}", r[0].int()), r[1].int()))
        .collect();
    let ledger = rows(cluster, "SELECT payment_ref, kind FROM sandbox_charges")
        .await
        .expect("ledger");
    let mut net: HashMap<i64, i64> = HashMap::new();
    let mut charges = 0;
    let mut orphan_charges = Vec::new();
    for row in &ledger {
        let Some(&booking) = booking_of_payment.get(&row[0].text()) else {
            orphan_charges.push(row[0].text());
            continue;
        };
        let kind = row[1].text();
        if kind == "charge" {
            charges += 1;
        }
        *net.entry(booking).or_default() += if kind == "charge" { 1 } else { -1 };
    }
    v.count("ledger charges", charges);
    v.expect_zero("ledger entries of no payment", orphan_charges);
    v.expect_zero(
        "double charges (bookings charged more than once)",
        net.iter()
            .filter(|(_, n)| **n > 1)
            .map(|(b, n)| format!("booking {b} charged {n}x"))
            .collect(),
    );
    v.expect_zero(
        "charged bookings that are not confirmed",
        net.iter()
            .filter(|(b, n)| **n > 0 && status.get(b).map(String::as_str) != Some("confirmed"))
            .map(|(b, _)| format!("booking {b} {:?}", status.get(b)))
            .collect(),
    );
    v.expect_zero(
        "confirmed bookings not charged",
        status
            .iter()
            .filter(|(b, s)| *s == "confirmed" && net.get(b).copied().unwrap_or(0) != 1)
            .map(|(b, _)| format!("booking {b}"))
            .collect(),
    );
    let mut succeeded: HashMap<i64, usize> = HashMap::new();
    for row in payments.iter().filter(|r| r[2].text() == "succeeded") {
        *succeeded.entry(row[1].int()).or_default() += 1;
    }
    v.expect_zero(
        "bookings with two succeeded payments",
        succeeded
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(b, n)| format!("booking {b}: {n}"))
            .collect(),
    );

    // Seats: a confirmed booking's seats are booked by it; no seat in two live bookings; no
    // seat held or booked by a booking that is not live.
    let seats = rows(
        cluster,
        "SELECT bs.booking_id, b.flight_id, bs.seat, fs.status, fs.booking_id \
         FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id \
         LEFT JOIN flight_seats fs ON fs.flight_id = b.flight_id AND fs.seat = bs.seat",
    )
    .await
    .expect("seats");
    let live = |b: i64| {
        matches!(
            status.get(&b).map(String::as_str),
            Some("confirmed" | "pending")
        )
    };
    let mut without_seats = Vec::new();
    let mut holders: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    for row in &seats {
        let (booking, flight, seat) = (row[0].int(), row[1].int(), row[2].text());
        if status.get(&booking).map(String::as_str) == Some("confirmed")
            && !(row[3] == Cell::Text("booked".into()) && row[4].opt_int() == Some(booking))
        {
            without_seats.push(format!(
                "booking {booking} seat {seat}: {:?} by {:?}",
                row[3], row[4]
            ));
        }
        if live(booking) {
            holders.entry((flight, seat)).or_default().push(booking);
        }
    }
    v.count("booked seats", seats.len());
    v.expect_zero("paid bookings without their seats", without_seats);
    v.expect_zero(
        "seats in two bookings",
        holders
            .iter()
            .filter(|(_, b)| b.len() > 1)
            .map(|((f, s), b)| format!("flight {f} seat {s}: {b:?}"))
            .collect(),
    );
    let taken = rows(
        cluster,
        "SELECT flight_id, seat, status, booking_id FROM flight_seats WHERE status <> 'available'",
    )
    .await
    .expect("flight seats");
    v.expect_zero(
        "seats held or booked by no live booking",
        taken
            .iter()
            .filter(|r| r[3].opt_int().is_none_or(|b| !live(b)))
            .map(|r| {
                format!(
                    "flight {} seat {} {} by {:?}",
                    r[0].int(),
                    r[1].text(),
                    r[2].text(),
                    r[3]
                )
            })
            .collect(),
    );

    // What the clients were told.
    v.count("bookings acknowledged (201)", told.acknowledged.len());
    v.expect_zero(
        "acknowledged bookings missing or different",
        told.acknowledged
            .iter()
            .filter(|(id, r)| reference.get(id) != Some(r))
            .map(|(id, r)| format!("booking {id} {r}"))
            .collect(),
    );
    v.count("payments acknowledged (201)", told.paid.len());
    v.expect_zero(
        "acknowledged payments whose booking is not confirmed",
        told.paid
            .iter()
            .filter(|id| status.get(id).map(String::as_str) != Some("confirmed"))
            .map(|id| format!("booking {id}: {:?}", status.get(id)))
            .collect(),
    );
    v.expect_zero(
        "bookings left unpaid that did not expire",
        told.unpaid
            .iter()
            .filter(|id| status.get(id).map(String::as_str) != Some("expired"))
            .map(|id| format!("booking {id}: {:?}", status.get(id)))
            .collect(),
    );
    v.count(
        "payments refused: the hold ran out first",
        told.lapsed.len(),
    );
    // Not payable: the hold expired, or the charge came back after the payment lock ran out
    // (a slow database) and the booking could no longer be kept, so it was cancelled and the
    // charge refunded (`confirm::unconfirmable`; the ledger check above nets the refund).
    v.expect_zero(
        "payments refused as not payable whose booking neither expired nor was refunded and cancelled",
        told.lapsed
            .iter()
            .filter(|id| {
                !matches!(
                    status.get(id).map(String::as_str),
                    Some("expired" | "cancelled")
                )
            })
            .map(|id| format!("booking {id}: {:?}", status.get(id)))
            .collect(),
    );
    v.expect_zero(
        "payments without a settled answer",
        told.payment_failed
            .iter()
            .map(|(id, why)| format!("booking {id}: {why}"))
            .collect(),
    );

    // Emails: one confirmation per confirmed booking, one expiry notice per expired booking,
    // one cancellation per booking cancelled with its refund (no client cancels here),
    // nothing else.
    let received = cluster.smtp.counts();
    let mut wrong = Vec::new();
    let mut expected: HashSet<Mail> = HashSet::new();
    for (id, s) in &status {
        let kind = match s.as_str() {
            "confirmed" => "confirmed",
            "expired" => "expired",
            "cancelled" => "cancelled",
            _ => continue,
        };
        let mail = Mail {
            kind: kind.into(),
            reference: reference[id].clone(),
        };
        let n = received.get(&mail).copied().unwrap_or(0);
        if n != 1 {
            wrong.push(format!("{kind} {} received {n}x", mail.reference));
        }
        expected.insert(mail);
    }
    for (mail, n) in &received {
        if !expected.contains(mail) {
            wrong.push(format!(
                "unexpected {} for {} ({n}x)",
                mail.kind, mail.reference
            ));
        }
    }
    v.count(
        "confirmation emails received",
        received
            .iter()
            .filter(|(m, _)| m.kind == "confirmed")
            .map(|(_, n)| n)
            .sum(),
    );
    v.count(
        "expiry emails received",
        received
            .iter()
            .filter(|(m, _)| m.kind == "expired")
            .map(|(_, n)| n)
            .sum(),
    );
    v.expect_zero(
        "emails not received exactly once (distinct Message-IDs)",
        wrong,
    );
    v.count(
        "emails sent again with the same Message-ID (API.md §5's window)",
        cluster.smtp.redeliveries(),
    );
    v.expect_zero("emails with no readable subject", cluster.smtp.unreadable());
    v
}
