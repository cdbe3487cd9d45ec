//! The confirmation email's calendar attachment: the flight as one RFC 5545 `VEVENT`,
//! written by the `icalendar` crate (which escapes text and folds long lines).

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

/// The MIME type of the attachment (`METHOD:PUBLISH`: an entry to add, not an invitation to
/// answer).
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8; method=PUBLISH";

/// What the calendar entry says.
#[derive(Debug, Clone)]
pub struct FlightEvent {
    pub booking_id: i32,
    pub reference: String,
    pub flight_number: String,
    pub from_code: String,
    pub from_name: String,
    pub to_code: String,
    pub to_name: String,
    pub departure: DateTime<Utc>,
    pub arrival: DateTime<Utc>,
    /// When the email was written: the same on every retry, so a resent message is the same.
    pub stamp: DateTime<Utc>,
    pub booking_url: String,
}

impl FlightEvent {
    /// Stable per booking, so a calendar that imports the entry twice keeps one.
    pub fn uid(&self) -> String {
        format!("booking-{}-{}@skybook", self.booking_id, self.reference)
    }

    pub fn file_name(&self) -> String {
        format!("flight-{}.ics", self.reference)
    }

    /// The `VCALENDAR` text, CRLF line ends.
    pub fn to_ics(&self) -> String {
        let event = Event::new()
            .uid(&self.uid())
            .timestamp(self.stamp)
            .summary(&format!(
                "Flight {} {} → {} (booking {})",
                self.flight_number, self.from_code, self.to_code, self.reference
            ))
            .description(&format!(
                "{} {} ({}) to {} ({}). Booking reference {}. Manage it at {}",
                self.flight_number,
                self.from_name,
                self.from_code,
                self.to_name,
                self.to_code,
                self.reference,
                self.booking_url
            ))
            .location(&format!("{} ({})", self.from_name, self.from_code))
            // UTC date-times: written with their `Z`.
            .starts(self.departure)
            .ends(self.arrival)
            .done();
        let mut calendar = Calendar::empty();
        calendar
            .append_property(("VERSION", "2.0"))
            .append_property(("PRODID", "-//Skybook//Flight booking//EN"))
            .append_property(("CALSCALE", "GREGORIAN"))
            .append_property(("METHOD", "PUBLISH"))
            .push(event);
        calendar.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> FlightEvent {
        let departure: DateTime<Utc> = "2026-12-08T04:30:00Z".parse().expect("time");
        FlightEvent {
            booking_id: 7,
            reference: "K7QX4M".into(),
            flight_number: "AI101".into(),
            from_code: "DEL".into(),
            from_name: "Indira Gandhi International; Terminal 3, Delhi".into(),
            to_code: "BOM".into(),
            to_name: "Chhatrapati Shivaji Maharaj International".into(),
            departure,
            arrival: departure + chrono::Duration::minutes(130),
            stamp: "2026-12-01T10:00:00Z".parse().expect("time"),
            booking_url: "http://127.0.0.1:8080/bookings/7".into(),
        }
    }

    #[test]
    fn the_event_has_utc_times_the_route_and_the_reference_and_parses_back() {
        let ics = event().to_ics();
        for line in [
            "BEGIN:VCALENDAR",
            "PRODID:-//Skybook//Flight booking//EN",
            "DTSTART:20261208T043000Z",
            "DTEND:20261208T064000Z",
            "DTSTAMP:20261201T100000Z",
            "UID:booking-7-K7QX4M@skybook",
        ] {
            assert!(
                ics.contains(&format!("{line}\r\n")),
                "{line} missing:\n{ics}"
            );
        }
        // Folded at 75 octets, and `;`/`,` escaped in text.
        assert!(ics.split("\r\n").all(|line| line.len() <= 75), "{ics}");
        assert!(
            ics.contains("Terminal 3\\, Delhi") || ics.contains("\\;"),
            "{ics}"
        );
        let parsed: Calendar = ics.parse().expect("a parser reads it back");
        let events: Vec<&Event> = parsed.events().collect();
        assert_eq!(events.len(), 1);
        let summary = events[0].get_summary().expect("summary");
        assert!(summary.contains("DEL") && summary.contains("BOM") && summary.contains("K7QX4M"));
        assert_eq!(events[0].get_uid(), Some("booking-7-K7QX4M@skybook"));
    }
}
