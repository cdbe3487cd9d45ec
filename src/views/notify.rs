//! Emails: the view-model of a booking email and its rendering (subject, HTML, plain text).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tera::{Context, Tera};

use crate::clock;
use crate::models::notify::email;

/// An email in the outbox, as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i32,
    /// None for an account email (a password reset).
    pub booking_id: Option<i32>,
    /// `confirmed`, `cancelled`, `expired`, `flight_cancelled`, `schedule_changed` or
    /// `password_reset`.
    pub kind: String,
    pub recipient: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<email::Model> for NotificationView {
    fn from(e: email::Model) -> Self {
        Self {
            id: e.id,
            booking_id: e.booking_id,
            kind: e.kind,
            recipient: e.recipient,
            status: e.status,
            attempts: e.attempts,
            max_attempts: e.max_attempts,
            last_error: e.last_error,
            next_attempt_at: clock::to_utc(e.next_attempt_at),
            sent_at: e.sent_at.map(clock::to_utc),
            created_at: clock::to_utc(e.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EmailPlace {
    pub code: String,
    pub name: String,
    /// e.g. `Tue 1 Dec 2026, 09:30 IST (Asia/Kolkata)`
    pub local_time: String,
}

impl EmailPlace {
    pub fn new(code: String, name: String, at: DateTime<Utc>, zone: Tz) -> Self {
        let local = at.with_timezone(&zone);
        Self {
            code,
            name,
            local_time: format!(
                "{} ({})",
                local.format("%a %-d %b %Y, %H:%M %Z"),
                zone.name()
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EmailSeat {
    pub seat: String,
    pub class: String,
    pub passenger: String,
}

/// Everything a booking email shows.
#[derive(Debug, Clone, Serialize)]
pub struct BookingEmail {
    /// `confirmed`, `cancelled` or `expired`: picks the templates.
    #[serde(skip)]
    pub kind: String,
    pub name: String,
    pub reference: String,
    pub flight_number: String,
    pub departure: EmailPlace,
    pub arrival: EmailPlace,
    pub seats: Vec<EmailSeat>,
    /// Major units with the currency: `INR 4,599.00`.
    pub total: String,
    pub booking_url: String,
    /// Why the airline cancelled the flight (`flight_cancelled`).
    pub reason: Option<String>,
    /// The times the flight had before it was moved (`schedule_changed`).
    pub previous: Option<PreviousTimes>,
}

/// A moved flight's old departure and arrival, each in its airport's local time.
#[derive(Debug, Clone, Serialize)]
pub struct PreviousTimes {
    pub departure: String,
    pub arrival: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
}

pub fn render(tera: &Tera, email: &BookingEmail) -> anyhow::Result<RenderedEmail> {
    render_kind(tera, &email.kind, email)
}

/// A password-reset email: the link, and how long it works.
#[derive(Debug, Clone, Serialize)]
pub struct ResetEmail {
    pub reset_url: String,
    pub valid_minutes: i64,
}

/// The subject, HTML and text of an email of `kind` (which names its templates).
pub fn render_kind(
    tera: &Tera,
    kind: &str,
    view: &impl Serialize,
) -> anyhow::Result<RenderedEmail> {
    let context = Context::from_serialize(view)?;
    let render = |name: String| {
        tera.render(&name, &context)
            .map_err(|e| anyhow::anyhow!("rendering {name}: {e:?}"))
    };
    Ok(RenderedEmail {
        subject: render(format!("emails/{kind}.subject.tera"))?
            .trim()
            .to_string(),
        html: render(format!("emails/{kind}.html.tera"))?,
        text: render(format!("emails/{kind}.txt.tera"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::catalog::{Currency, Money};

    fn email(kind: &str, passenger: &str) -> BookingEmail {
        let departs: DateTime<Utc> = "2026-12-01T04:00:00Z".parse().unwrap();
        BookingEmail {
            kind: kind.into(),
            name: "Asha".into(),
            reference: "K7QX4M".into(),
            flight_number: "AI805".into(),
            departure: EmailPlace::new(
                "DEL".into(),
                "Indira Gandhi International".into(),
                departs,
                chrono_tz::Asia::Kolkata,
            ),
            arrival: EmailPlace::new(
                "LHR".into(),
                "Heathrow".into(),
                departs + chrono::Duration::minutes(590),
                chrono_tz::Europe::London,
            ),
            seats: vec![EmailSeat {
                seat: "12C".into(),
                class: "economy".into(),
                passenger: passenger.into(),
            }],
            total: Money::new(459_900, Currency::parse("INR").unwrap())
                .unwrap()
                .to_string(),
            booking_url: "http://127.0.0.1:8080/bookings/7".into(),
            reason: Some("Aircraft unserviceable".into()),
            previous: Some(PreviousTimes {
                departure: "Tue 1 Dec 2026, 07:45 IST (Asia/Kolkata)".into(),
                arrival: "Tue 1 Dec 2026, 11:35 GMT (Europe/London)".into(),
            }),
        }
    }

    #[test]
    fn each_kind_renders_subject_html_and_text_with_the_trip() {
        let tera = crate::views::templates::load().unwrap();
        for kind in [
            "confirmed",
            "cancelled",
            "expired",
            "flight_cancelled",
            "schedule_changed",
        ] {
            let rendered = render(&tera, &email(kind, "Asha Rao")).unwrap();
            assert!(
                rendered.subject.contains("K7QX4M"),
                "{kind}: {}",
                rendered.subject
            );
            let said = kind.rsplit('_').next().unwrap_or(kind);
            assert!(
                rendered.subject.contains(said),
                "{kind}: {}",
                rendered.subject
            );
            // Tera escapes `/` in HTML as `&#x2F;`, which a mail client shows as `/`.
            let html = rendered.html.replace("&#x2F;", "/");
            for part in [&html, &rendered.text] {
                for expected in [
                    "K7QX4M",
                    "AI805",
                    "Indira Gandhi International (DEL)",
                    "Tue 1 Dec 2026, 09:30 IST (Asia/Kolkata)",
                    "Tue 1 Dec 2026, 13:50 GMT (Europe/London)",
                    "12C",
                    "Asha Rao",
                    "INR 4,599.00",
                    "http://127.0.0.1:8080/bookings/7",
                ] {
                    assert!(
                        part.contains(expected),
                        "{kind} lacks {expected:?}:\n{part}"
                    );
                }
                let own: &[&str] = match kind {
                    "flight_cancelled" => &["Aircraft unserviceable", "refund"],
                    "schedule_changed" => &[
                        "Tue 1 Dec 2026, 07:45 IST (Asia/Kolkata)",
                        "Tue 1 Dec 2026, 11:35 GMT (Europe/London)",
                    ],
                    _ => &[],
                };
                for expected in own {
                    assert!(
                        part.contains(expected),
                        "{kind} lacks {expected:?}:\n{part}"
                    );
                }
            }
        }
    }

    #[test]
    fn passenger_names_are_escaped_in_html_but_not_in_text() {
        let tera = crate::views::templates::load().unwrap();
        let rendered = render(
            &tera,
            &email("confirmed", "<script>alert('x')</script> & Co"),
        )
        .unwrap();
        assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
        assert!(
            rendered.html.contains("&lt;script&gt;"),
            "{}",
            rendered.html
        );
        assert!(rendered.html.contains("&amp; Co"));
        assert!(rendered.text.contains("<script>alert('x')</script> & Co"));
    }
}
