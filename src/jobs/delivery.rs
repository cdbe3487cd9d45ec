//! Sending what is due in the outbox: render, send, record.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sea_orm::sea_query::{Alias, Expr, JoinType, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QueryTrait,
};
use tera::Tera;

use crate::clock;
use crate::db::template::{PerBackend, Template};
use crate::db::Database;
use crate::error::AppError;
use crate::jobs::account_email;
use crate::jobs::queue::{EmailJob, EmailQueue};
use crate::metrics::{EmailOutcome, Outcomes};
use crate::models::booking::{booking, booking_seat};
use crate::models::catalog::{airport, flight, Currency, Money};
use crate::models::identity::user;
use crate::models::notify::email;
use crate::services::identity::ResetKey;
use crate::services::notify::mailer::Mailer;
use crate::services::notify::outbox;
use crate::views::calendar::{self, FlightEvent};
use crate::views::notify::{render, BookingEmail, EmailPlace, EmailSeat, PreviousTimes};

/// Emails moved to the job queue per statement.
const BATCH: u64 = 100;
/// Emails per job (see `EmailJob`): taken together, then sent one after another.
pub const EMAILS_PER_JOB: usize = 10;
/// An email goes to the SMTP server only while this much of its lease is left: the
/// conversation (the mailer's timeout is per step) and the record of its outcome must fit in
/// it, or the relay could hand the email to another job meanwhile. The job's emails are taken
/// together, so a later one has used some of its lease waiting for the earlier ones.
const SEND_MARGIN_SECONDS: i64 = 45;

/// What became of an email a job had taken.
enum Handed {
    /// The SMTP server (or the `.eml` directory) accepted it.
    Over,
    /// Too little of its lease was left: the relay queues it again once the lease runs out.
    Back,
}

fn leaves_time_to_send(email: &email::Model, now: NaiveDateTime) -> bool {
    email
        .lease_until
        .is_some_and(|until| until - chrono::Duration::seconds(SEND_MARGIN_SECONDS) > now)
}

#[derive(Clone)]
pub struct Delivery {
    pub db: Database,
    pub tera: Arc<Tera>,
    pub mailer: Mailer,
    pub from: Mailbox,
    pub public_url: String,
    pub retry_seconds: u64,
    /// Makes a reset email's link from the seed it keeps.
    pub reset_key: ResetKey,
    /// Where each send attempt's outcome is counted.
    pub outcomes: &'static Outcomes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Failed,
    /// Another job sent it, or it was queued again after this job's lease ran out.
    Stale,
}

impl Delivery {
    /// Moves every due email from the outbox into the job queue (each under a fresh lease),
    /// a batch at a time: emails leave as fast as bookings make them, not a batch per tick.
    pub async fn relay(&self, queue: &EmailQueue) -> Result<usize, AppError> {
        let mut queued = 0;
        loop {
            let (due, lease) = outbox::claim_due(&self.db, clock::now(), BATCH).await?;
            let full_batch = due.len() as u64 == BATCH;
            let mut all_queued = true;
            for emails in due.chunks(EMAILS_PER_JOB) {
                let email_ids: Vec<i32> = emails.iter().map(|email| email.id).collect();
                let count = email_ids.len();
                match queue
                    .push(EmailJob {
                        email_ids: email_ids.clone(),
                        lease,
                    })
                    .await
                {
                    Ok(()) => queued += count,
                    Err(err) => {
                        tracing::warn!(?email_ids, error = %err, "could not queue the emails; will retry");
                        for id in email_ids {
                            outbox::release(&self.db, id).await?;
                        }
                        all_queued = false;
                    }
                }
            }
            // A queue that refuses is retried on the next tick, not at once.
            if !full_batch || !all_queued {
                return Ok(queued);
            }
        }
    }

    /// Runs one email job: sends each of its emails in turn, unless that email's lease has
    /// moved on, and records each outcome. Stops at the first error of the outbox itself; the
    /// emails not reached keep their lease until it runs out and the relay queues them again.
    pub async fn run(&self, job: &EmailJob) -> Result<Vec<Outcome>, AppError> {
        let taken = outbox::take(&self.db, &job.email_ids, job.lease, clock::now()).await?;
        let mut taken: HashMap<i32, email::Model> =
            taken.into_iter().map(|email| (email.id, email)).collect();
        let mut outcomes = Vec::with_capacity(job.email_ids.len());
        for id in &job.email_ids {
            let outcome = match taken.remove(id) {
                Some(email) => self.send_and_record(email).await?,
                None => Outcome::Stale,
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Sends a taken email (unless its lease is nearly over) and records the outcome. A failure
    /// is recorded in the outbox (with the next attempt's time); the relay queues it again when
    /// due, so the job itself always succeeds.
    async fn send_and_record(&self, email: email::Model) -> Result<Outcome, AppError> {
        match self.send_one(&email).await {
            Ok(Handed::Back) => Ok(Outcome::Stale),
            Ok(Handed::Over) => {
                // Counted once handed over: the server has it, whatever the record does next.
                self.outcomes.email(EmailOutcome::Sent);
                outbox::mark_sent(&self.db, email.id, clock::now()).await?;
                Ok(Outcome::Sent)
            }
            Err(err) => {
                let error = format!("{err:#}");
                tracing::warn!(email_id = email.id, error = %error, "email not sent; will retry");
                let outcome = outbox::mark_attempt_failed(
                    &self.db,
                    &email,
                    &error,
                    self.retry_seconds,
                    clock::now(),
                )
                .await?;
                self.outcomes.email(outcome);
                Ok(Outcome::Failed)
            }
        }
    }

    /// The booking this email tells of is durable: the plan that wrote the email returned
    /// only once it was.
    async fn send_one(&self, due: &email::Model) -> anyhow::Result<Handed> {
        let (rendered, event, about) = match due.booking_id {
            Some(booking_id) => {
                let (view, event) = self.view(due, booking_id).await?;
                // The confirmation carries the flight for the traveller's calendar.
                let event = (due.kind == outbox::CONFIRMED).then_some(event);
                (render(&self.tera, &view)?, event, view.reference)
            }
            None => (
                account_email::render(&self.tera, due, &self.reset_key, &self.public_url)?,
                None,
                "account".to_string(),
            ),
        };
        let to: Mailbox = due.recipient.parse().context("bad recipient address")?;
        let body = MultiPart::alternative_plain_html(rendered.text, rendered.html);
        let body = match event {
            Some(event) => MultiPart::mixed()
                .multipart(body)
                .singlepart(calendar_attachment(&event)?),
            None => body,
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            // Stable per outbox email, so a receiving side can spot a duplicate delivery, and
            // unique across deployments and database resets (RFC 5322 §3.6.4).
            .message_id(Some(message_id(due, &self.from)))
            .multipart(body)
            .context("cannot build the message")?;
        if !leaves_time_to_send(due, clock::now()) {
            return Ok(Handed::Back);
        }
        self.mailer
            .send(message, &format!("{}-{}-{}", due.id, due.kind, about))
            .await?;
        Ok(Handed::Over)
    }

    /// What the email tells, in two reads on one connection (given back before the email is
    /// sent): the booking with its flight, owner and airports (one joined row), then its
    /// seats; and the flight as a calendar entry.
    async fn view(
        &self,
        due: &email::Model,
        booking_id: i32,
    ) -> anyhow::Result<(BookingEmail, FlightEvent)> {
        // Built once per backend (see `db::template`): each costs more to write out than to
        // run (~80 k instructions a mail, docs/bench-findings.md round 16).
        static FACTS: PerBackend = PerBackend::new();
        static SEATS: PerBackend = PerBackend::new();
        const SENTINEL_ID: i32 = i32::MIN + 7;
        let backend = self.db.reader.get_database_backend();
        let template = |slot: &'static PerBackend, build: fn(i32) -> SelectStatement| {
            slot.get(backend, || {
                Template::new(backend, &build(SENTINEL_ID), &[SENTINEL_ID.into()])
            })
            .statement(&[booking_id.into()])
        };
        let mut session = self.db.session();
        let told = session
            .query_one(template(&FACTS, facts_of))
            .await?
            .map(|row| EmailFacts::from_query_result(&row, ""))
            .transpose()?
            .context("booking gone")?;
        let seats = session
            .query_all(template(&SEATS, seats_of))
            .await?
            .iter()
            .map(|row| booking_seat::Model::from_query_result(row, ""))
            .collect::<Result<Vec<_>, _>>()?;
        session.release();
        let zone = |name: &str| {
            name.parse::<Tz>()
                .map_err(|e| anyhow::anyhow!("zone {name}: {e}"))
        };
        let currency = Currency::parse(&told.currency).map_err(|e| anyhow::anyhow!(e))?;
        let total = Money::new(told.total, currency).map_err(|e| anyhow::anyhow!(e))?;
        let booking_url = format!("{}/bookings/{}", self.public_url, booking_id);
        let event = FlightEvent {
            booking_id,
            reference: told.reference.clone(),
            flight_number: told.flight_number.clone(),
            from_code: told.from_code.clone(),
            from_name: told.from_name.clone(),
            to_code: told.to_code.clone(),
            to_name: told.to_name.clone(),
            departure: clock::to_utc(told.departure_time),
            arrival: clock::to_utc(told.arrival_time),
            stamp: clock::to_utc(due.created_at),
            booking_url: booking_url.clone(),
        };
        let email = BookingEmail {
            kind: due.kind.clone(),
            name: told.owner_name,
            reference: told.reference,
            flight_number: told.flight_number,
            departure: EmailPlace::new(
                told.from_code,
                told.from_name,
                clock::to_utc(told.departure_time),
                zone(&told.from_zone)?,
            ),
            arrival: EmailPlace::new(
                told.to_code,
                told.to_name,
                clock::to_utc(told.arrival_time),
                zone(&told.to_zone)?,
            ),
            seats: seats
                .into_iter()
                .map(|s| EmailSeat {
                    seat: s.seat,
                    class: s.class,
                    passenger: s.passenger_name,
                })
                .collect(),
            total: total.to_string(),
            booking_url,
            reason: told.cancel_reason,
            previous: previous_times(due, &told.from_zone, &told.to_zone)?,
        };
        Ok((email, event))
    }
}

/// A schedule change's old times, from the email's details, in the airports' local times.
fn previous_times(
    due: &email::Model,
    from_zone: &str,
    to_zone: &str,
) -> anyhow::Result<Option<PreviousTimes>> {
    let Some(details) = &due.details else {
        return Ok(None);
    };
    let was: outbox::ScheduleDetails =
        serde_json::from_str(details).with_context(|| format!("details of email {}", due.id))?;
    let local = |at, zone: &str| -> anyhow::Result<String> {
        let zone: Tz = zone
            .parse()
            .map_err(|e| anyhow::anyhow!("zone {zone}: {e}"))?;
        Ok(EmailPlace::new(String::new(), String::new(), at, zone).local_time)
    };
    Ok(Some(PreviousTimes {
        departure: local(was.old_departure, from_zone)?,
        arrival: local(was.old_arrival, to_zone)?,
    }))
}

/// `<key.booking.kind@sender's domain>`: the key is random per statement that wrote the email,
/// the booking and kind tell apart the emails one statement wrote.
fn message_id(due: &email::Model, from: &Mailbox) -> String {
    let domain = from.email.domain();
    match &due.message_key {
        Some(key) => match due.booking_id {
            Some(booking_id) => format!("<{key}.{booking_id}.{}@{domain}>", due.kind),
            None => format!("<{key}.{}@{domain}>", due.kind),
        },
        // Written before keys were: its row id and time of writing.
        None => format!(
            "<email-{}-{}.{}@{domain}>",
            due.id,
            due.kind,
            due.created_at.and_utc().timestamp()
        ),
    }
}

/// The flight as an `.ics` attachment, base64 so that no relay rewraps its folded lines.
fn calendar_attachment(event: &FlightEvent) -> anyhow::Result<SinglePart> {
    let body = Body::new_with_encoding(event.to_ics(), ContentTransferEncoding::Base64)
        .map_err(|_| anyhow::anyhow!("the calendar attachment cannot be encoded"))?;
    let content_type =
        ContentType::parse(calendar::CONTENT_TYPE).context("the calendar's content type")?;
    Ok(Attachment::new(event.file_name()).body(body, content_type))
}

/// The booking an email tells of, with its flight, owner and airports.
#[derive(Debug, FromQueryResult)]
struct EmailFacts {
    reference: String,
    total: i64,
    currency: String,
    owner_name: String,
    flight_number: String,
    cancel_reason: Option<String>,
    departure_time: NaiveDateTime,
    arrival_time: NaiveDateTime,
    from_code: String,
    from_name: String,
    from_zone: String,
    to_code: String,
    to_name: String,
    to_zone: String,
}

fn seats_of(booking_id: i32) -> SelectStatement {
    booking_seat::Entity::find()
        .filter(booking_seat::Column::BookingId.eq(booking_id))
        .order_by_asc(booking_seat::Column::Id)
        .into_query()
}

fn facts_of(booking_id: i32) -> SelectStatement {
    let (from, to) = (Alias::new("dep"), Alias::new("arr"));
    let airport_col = |table: &Alias, column: airport::Column, name: &str| {
        (Expr::col((table.clone(), column)), Alias::new(name))
    };
    let mut select = Query::select();
    select
        .column((booking::Entity, booking::Column::Reference))
        .column((booking::Entity, booking::Column::Total))
        .column((booking::Entity, booking::Column::Currency))
        .expr_as(
            Expr::col((user::Entity, user::Column::Name)),
            Alias::new("owner_name"),
        )
        .column((flight::Entity, flight::Column::FlightNumber))
        .column((flight::Entity, flight::Column::CancelReason))
        .column((flight::Entity, flight::Column::DepartureTime))
        .column((flight::Entity, flight::Column::ArrivalTime));
    for (expr, name) in [
        airport_col(&from, airport::Column::Code, "from_code"),
        airport_col(&from, airport::Column::Name, "from_name"),
        airport_col(&from, airport::Column::Timezone, "from_zone"),
        airport_col(&to, airport::Column::Code, "to_code"),
        airport_col(&to, airport::Column::Name, "to_name"),
        airport_col(&to, airport::Column::Timezone, "to_zone"),
    ] {
        select.expr_as(expr, name);
    }
    select
        .from(booking::Entity)
        .inner_join(
            flight::Entity,
            Expr::col((flight::Entity, flight::Column::Id))
                .equals((booking::Entity, booking::Column::FlightId)),
        )
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((booking::Entity, booking::Column::UserId)),
        )
        .join_as(
            JoinType::InnerJoin,
            airport::Entity,
            from.clone(),
            Expr::col((from, airport::Column::Id))
                .equals((flight::Entity, flight::Column::DepartureAirportId)),
        )
        .join_as(
            JoinType::InnerJoin,
            airport::Entity,
            to.clone(),
            Expr::col((to, airport::Column::Id))
                .equals((flight::Entity, flight::Column::ArrivalAirportId)),
        )
        .and_where(Expr::col((booking::Entity, booking::Column::Id)).eq(booking_id));
    select.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased_until(lease_until: Option<NaiveDateTime>) -> email::Model {
        let now = clock::now();
        email::Model {
            id: 1,
            booking_id: Some(1),
            kind: outbox::CONFIRMED.into(),
            recipient: "a@example.com".into(),
            status: email::PENDING.into(),
            attempts: 0,
            max_attempts: 8,
            last_error: None,
            next_attempt_at: now,
            lease_until,
            sent_at: None,
            created_at: now,
            details: None,
            message_key: None,
        }
    }

    #[test]
    fn an_email_is_sent_only_while_its_lease_outlasts_a_send() {
        let now = clock::now();
        let seconds = chrono::Duration::seconds;
        let fresh = leased_until(Some(now + seconds(outbox::LEASE_SECONDS)));
        assert!(leaves_time_to_send(&fresh, now));
        let nearly_over = leased_until(Some(now + seconds(SEND_MARGIN_SECONDS - 1)));
        assert!(!leaves_time_to_send(&nearly_over, now));
        assert!(!leaves_time_to_send(&leased_until(None), now));
    }
}
