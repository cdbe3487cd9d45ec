//! "Manage my booking": a booking found by its reference and a passenger's last name, for
//! anyone who has both (read-only; changing it still needs its owner signed in).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::bookings::{seats_of, BookingDetails};
use crate::db::Database;
use crate::error::AppError;
use crate::models::booking::{booking, reference};

/// Longest last name looked at; a passenger's whole name is at most 200 characters.
const MAX_LAST_NAME_CHARS: usize = 200;

/// The booking with `reference` when one of its passengers' names ends with `last_name` as
/// whole words, ignoring case; else 404, the same for a wrong name and an unknown reference.
#[tracing::instrument(skip_all)]
pub async fn find_by_reference(
    db: &Database,
    reference_text: &str,
    last_name: &str,
) -> Result<BookingDetails, AppError> {
    let reference = reference_text.trim().to_uppercase();
    let wanted = words(last_name);
    let well_formed = reference.len() == reference::LENGTH
        && reference.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed || wanted.is_empty() || last_name.chars().count() > MAX_LAST_NAME_CHARS {
        return Err(AppError::NotFound);
    }
    let booking = booking::Entity::find()
        .filter(booking::Column::Reference.eq(reference))
        .one(&db.reader)
        .await?
        .ok_or(AppError::NotFound)?;
    let seats = seats_of(&db.reader, booking.id).await?;
    if !seats
        .iter()
        .any(|seat| ends_with_words(&seat.passenger_name, &wanted))
    {
        return Err(AppError::NotFound);
    }
    Ok(BookingDetails { booking, seats })
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether `name`'s last words are `wanted`, word for word, ignoring case.
fn ends_with_words(name: &str, wanted: &[String]) -> bool {
    words(name).ends_with(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_names_match_as_whole_trailing_words_ignoring_case() {
        let matches = |name: &str, last: &str| ends_with_words(name, &words(last));
        assert!(matches("Dev Kumar Rao", "rao"));
        assert!(matches("Dev Kumar Rao", "Kumar Rao"));
        assert!(matches("Dev Kumar Rao", "  KUMAR   rao "));
        assert!(matches("Dev Kumar Rao", "dev kumar rao"));
        assert!(!matches("Dev Kumar Rao", "ao"));
        assert!(!matches("Dev Kumar Rao", "Kumar"));
        assert!(!matches("Dev Kumar Rao", "Dev Kumar Rao Jr"));
        assert!(matches("Zoë Ångström", "ångström"));
    }
}
