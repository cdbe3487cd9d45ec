//! The boarding pass's barcode text: IATA's Bar Coded Boarding Pass (Resolution 792, version
//! 6), one leg, mandatory items only (API.md §8). A pure function of the pass's items, so
//! every item can be checked on its own.

use chrono::{Datelike, NaiveDate};

use crate::models::catalog::SeatCode;

/// The characters a BCBP text of one leg without conditional items has.
pub const LENGTH: usize = 60;

/// The name item's width.
const NAME_WIDTH: usize = 20;

/// What one passenger's pass for one leg says.
#[derive(Debug, Clone)]
pub struct PassItems<'a> {
    /// The passenger's name as booked (`Asha Devi Rao`).
    pub passenger: &'a str,
    /// The booking reference (the PNR code).
    pub reference: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// As stored, e.g. `AI101` or `6E2041A`.
    pub flight_number: &'a str,
    /// The departure's date at the departure airport.
    pub departure_local_date: NaiveDate,
    /// `business` or `economy`.
    pub class: &'a str,
    pub seat: SeatCode,
    /// The order of check-in on the flight, from 1.
    pub sequence: u32,
}

/// The pass's barcode text, [`LENGTH`] characters.
pub fn encode(items: &PassItems<'_>) -> String {
    let mut text = String::with_capacity(LENGTH);
    text.push_str("M1");
    text.push_str(&fixed(&pass_name(items.passenger), NAME_WIDTH));
    // Electronic ticket indicator.
    text.push('E');
    text.push_str(&fixed(items.reference, 7));
    text.push_str(&fixed(items.from, 3));
    text.push_str(&fixed(items.to, 3));
    let (carrier, digits, suffix) = flight_parts(items.flight_number);
    text.push_str(&fixed(carrier, 3));
    text.push_str(&format!("{digits:0>4}"));
    // The operational suffix (`AI101A`), a space when there is none.
    text.push(suffix.unwrap_or(' '));
    text.push_str(&format!("{:03}", items.departure_local_date.ordinal()));
    text.push(if items.class == "business" { 'J' } else { 'Y' });
    text.push_str(&format!("{:03}{}", items.seat.row(), items.seat.letter()));
    // Four digits and a space; a flight has far fewer than 10,000 seats, and a larger
    // number keeps its last four digits rather than breaking the layout.
    text.push_str(&format!("{:04} ", items.sequence % 10_000));
    // Passenger status: checked in.
    text.push('1');
    // The size of the conditional items, in hexadecimal: none.
    text.push_str("00");
    text
}

/// `SURNAME/GIVEN NAMES`: the last word of the name is the surname, the words before it the
/// given names; upper case, letters outside A-Z transliterated (`é` → `E`) or dropped, cut at
/// 20 characters. A one-word name is the surname alone, with its slash: `SURNAME/` (nothing
/// invented for a given name the passenger does not have).
pub fn pass_name(name: &str) -> String {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|word| {
            deunicode::deunicode(word)
                .to_ascii_uppercase()
                .chars()
                .filter(char::is_ascii_uppercase)
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    let written = match words.split_last() {
        None => String::new(),
        Some((surname, given)) => format!("{surname}/{}", given.join(" ")),
    };
    written.chars().take(NAME_WIDTH).collect()
}

/// Cut or padded with spaces to `width` characters.
fn fixed(value: &str, width: usize) -> String {
    format!("{:<width$}", value.chars().take(width).collect::<String>())
}

/// A flight number's airline designator (its first two characters), its digits, and its
/// suffix letter if it has one.
fn flight_parts(flight_number: &str) -> (&str, &str, Option<char>) {
    let split = flight_number
        .char_indices()
        .nth(2)
        .map_or(flight_number.len(), |(i, _)| i);
    let (carrier, rest) = flight_number.split_at(split);
    let digits = rest.trim_end_matches(|c: char| !c.is_ascii_digit());
    let suffix = rest[digits.len()..].chars().next();
    (carrier, digits, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> PassItems<'static> {
        PassItems {
            passenger: "Asha Devi Rao",
            reference: "K7QX4M",
            from: "DEL",
            to: "BOM",
            flight_number: "AI101",
            departure_local_date: NaiveDate::from_ymd_opt(2026, 12, 8).expect("date"),
            class: "economy",
            seat: SeatCode::parse("12C").expect("seat"),
            sequence: 1,
        }
    }

    #[test]
    fn a_pass_is_sixty_characters_item_by_item() {
        let text = encode(&items());
        assert_eq!(text.len(), LENGTH);
        assert_eq!(&text[0..2], "M1", "format code and legs");
        assert_eq!(&text[2..22], "RAO/ASHA DEVI       ", "name");
        assert_eq!(&text[22..23], "E", "electronic ticket");
        assert_eq!(&text[23..30], "K7QX4M ", "reference");
        assert_eq!(&text[30..33], "DEL", "from");
        assert_eq!(&text[33..36], "BOM", "to");
        assert_eq!(&text[36..39], "AI ", "carrier");
        assert_eq!(&text[39..44], "0101 ", "flight number");
        assert_eq!(&text[44..47], "342", "day of the year of 8 December 2026");
        assert_eq!(&text[47..48], "Y", "compartment");
        assert_eq!(&text[48..52], "012C", "seat");
        assert_eq!(&text[52..57], "0001 ", "sequence");
        assert_eq!(&text[57..58], "1", "passenger status");
        assert_eq!(&text[58..60], "00", "no conditional items");
    }

    #[test]
    fn business_is_compartment_j_and_small_numbers_get_leading_zeros() {
        let mut pass = items();
        pass.class = "business";
        pass.seat = SeatCode::parse("1A").expect("seat");
        pass.flight_number = "6E7";
        pass.sequence = 123;
        pass.departure_local_date = NaiveDate::from_ymd_opt(2027, 1, 5).expect("date");
        let text = encode(&pass);
        assert_eq!(&text[36..39], "6E ");
        assert_eq!(&text[39..44], "0007 ");
        assert_eq!(&text[44..47], "005");
        assert_eq!(&text[47..48], "J");
        assert_eq!(&text[48..52], "001A");
        assert_eq!(&text[52..57], "0123 ");
        assert_eq!(text.len(), LENGTH);
    }

    #[test]
    fn a_suffix_letter_takes_the_place_of_the_space() {
        let mut pass = items();
        pass.flight_number = "AI2041A";
        assert_eq!(&encode(&pass)[39..44], "2041A");
    }

    #[test]
    fn names_are_transliterated_cut_and_padded() {
        let cases = [
            ("Asha Rao", "RAO/ASHA"),
            ("  José   Émile  Pérez ", "PEREZ/JOSE EMILE"),
            ("Seán O'Brien-Smith", "OBRIENSMITH/SEAN"),
            ("Ana Łukasiewicz", "LUKASIEWICZ/ANA"),
            (
                "Maximilianus Bartholomew Featherstonehaugh",
                "FEATHERSTONEHAUGH/MA",
            ),
            ("Venkataraghavan", "VENKATARAGHAVAN/"),
            ("Dr. 123 Rao", "RAO/DR"),
            ("", ""),
        ];
        for (name, expected) in cases {
            assert_eq!(pass_name(name), expected, "name {name:?}");
        }
    }

    #[test]
    fn the_name_item_is_always_twenty_characters() {
        for name in ["A B", "Maximilianus Bartholomew Featherstonehaugh", "Ω"] {
            let mut pass = items();
            pass.passenger = name;
            let text = encode(&pass);
            assert_eq!(text.len(), LENGTH, "{name}");
            assert_eq!(&text[22..23], "E", "{name}");
        }
    }
}
