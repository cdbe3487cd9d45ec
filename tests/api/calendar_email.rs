//! The confirmation email's calendar attachment (API.md §5), read out of the message a real
//! SMTP listener received and checked with an RFC 5545 parser.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, DatePerhapsTime, Event};
use serde_json::json;
use skybook::config::Secret;

use crate::helpers::{bookable_flight, spawn_app_with, status_and_json};
use crate::smtp_sink::{Received, SmtpSink};

async fn messages_after(sink: &SmtpSink, count: usize) -> Vec<Received> {
    for _ in 0..150 {
        if sink.messages().len() >= count {
            return sink.messages();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {count} emails");
}

/// The decoded bodies of the message's `text/calendar` parts.
fn calendar_parts(message: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = message;
    while let Some(at) = rest
        .to_ascii_lowercase()
        .find("content-type: text/calendar")
    {
        // The part's headers start after its boundary line.
        let start = rest[..at].rfind("\n--").map_or(0, |i| i + 1);
        let part = &rest[start..];
        let headers_end = part.find("\n\n").expect("the part's headers end");
        let headers = part[..headers_end].to_ascii_lowercase();
        assert!(
            headers.contains("content-transfer-encoding: base64"),
            "{headers}"
        );
        assert!(headers.contains("attachment"), "{headers}");
        let body: String = part[headers_end + 2..]
            .lines()
            .take_while(|line| !line.starts_with("--") && !line.is_empty())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .expect("base64");
        parts.push(String::from_utf8(bytes).expect("UTF-8"));
        rest = &part[headers_end + 2..];
    }
    parts
}

fn utc(value: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match value {
        Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC date-time: {other:?}"),
    }
}

#[tokio::test]
async fn the_confirmation_carries_the_flight_as_one_calendar_event() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        s.smtp_url = Secret::new(format!("smtp://127.0.0.1:{}", sink.port));
        s.email_retry_seconds = 1;
    })
    .await;
    let catalog = app.catalog().await;
    let flight = bookable_flight(&app, &catalog, "AI510").await;
    let token = app.customer_token().await;
    let (_, booking) = status_and_json(app.book(&token, flight, &["2A"]).await).await;
    assert_eq!(
        app.pay(&token, &booking, "k", "pm_card_ok").await.status(),
        201
    );
    let messages = messages_after(&sink, 1).await;
    let ics = calendar_parts(&messages[0].data);
    assert_eq!(ics.len(), 1, "one attachment:\n{}", messages[0].data);
    let ics = &ics[0];

    // The text as RFC 5545 writes it: CRLF line ends, lines folded at 75 octets.
    assert!(ics.ends_with("\r\n") && !ics.replace("\r\n", "").contains('\n'));
    assert!(ics.split("\r\n").all(|line| line.len() <= 75), "{ics}");
    for name in ["PRODID:", "DTSTAMP:", "UID:", "VERSION:2.0"] {
        assert!(ics.contains(name), "{name} missing:\n{ics}");
    }

    let calendar: Calendar = ics.parse().expect("the icalendar parser reads it");
    let events: Vec<&Event> = calendar.events().collect();
    assert_eq!(events.len(), 1, "{ics}");
    let event = events[0];
    let (_, flight_json) =
        status_and_json(app.get(&format!("/api/v1/flights/{flight}"), None).await).await;
    let at = |field: &str| -> DateTime<Utc> {
        flight_json[field]
            .as_str()
            .expect(field)
            .parse()
            .expect("RFC 3339")
    };
    assert_eq!(utc(event.get_start()), at("departure_time"));
    assert_eq!(utc(event.get_end()), at("arrival_time"));
    assert!(ics.contains(&format!(
        "DTSTART:{}\r\n",
        at("departure_time").format("%Y%m%dT%H%M%SZ")
    )));
    let reference = booking["reference"].as_str().expect("reference");
    let told = format!(
        "{} {}",
        event.get_summary().unwrap_or_default(),
        event.get_description().unwrap_or_default()
    );
    for expected in ["TAA", "TBB", reference] {
        assert!(told.contains(expected), "{expected} not in {told:?}");
    }
    let uid = event.get_uid().expect("UID").to_string();
    assert!(uid.contains(reference), "{uid}");
    assert!(event.get_timestamp().is_some(), "DTSTAMP is a UTC time");

    // Cancelling sends its own email, without a calendar entry.
    let id = &booking["id"];
    assert_eq!(
        app.post(
            &format!("/api/v1/bookings/{id}/cancel"),
            Some(&token),
            &json!({})
        )
        .await
        .status(),
        200
    );
    let messages = messages_after(&sink, 2).await;
    let cancelled: Vec<&Received> = messages
        .iter()
        .filter(|m| m.data.contains("cancelled"))
        .collect();
    assert_eq!(cancelled.len(), 1);
    assert!(calendar_parts(&cancelled[0].data).is_empty());
}
