use std::fmt;

/// A seat on a flight: row number then letter, as in `12C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeatCode {
    row: u16,
    letter: char,
}

impl SeatCode {
    pub fn new(row: u16, letter: char) -> Result<Self, String> {
        if !(1..=999).contains(&row) || !letter.is_ascii_uppercase() {
            return Err("must be a row number and a seat letter, e.g. 12C".into());
        }
        Ok(Self { row, letter })
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        let error = || "must be a row number and a seat letter, e.g. 12C".to_string();
        let letter = value.chars().last().ok_or_else(error)?;
        let digits = &value[..value.len() - letter.len_utf8()];
        if digits.is_empty() || digits.len() > 3 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(error());
        }
        let row: u16 = digits.parse().map_err(|_| error())?;
        Self::new(row, letter.to_ascii_uppercase())
    }

    pub fn row(&self) -> u16 {
        self.row
    }

    pub fn letter(&self) -> char {
        self.letter
    }
}

impl fmt::Display for SeatCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.row, self.letter)
    }
}

#[cfg(test)]
mod tests {
    use super::SeatCode;

    #[test]
    fn seats_parse_and_print_back() {
        let seat = SeatCode::parse("12c").unwrap();
        assert_eq!((seat.row(), seat.letter()), (12, 'C'));
        assert_eq!(seat.to_string(), "12C");
        assert_eq!(SeatCode::parse("1A").unwrap().to_string(), "1A");
    }

    #[test]
    fn malformed_seats_are_refused() {
        for bad in [
            "", "A", "12", "0A", "A12", "12CC", "1234A", "-1A", "12É", "1 A",
        ] {
            assert!(SeatCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn seats_order_by_row_then_letter() {
        let mut seats: Vec<SeatCode> = ["10A", "2C", "2A", "1F"]
            .iter()
            .map(|s| SeatCode::parse(s).unwrap())
            .collect();
        seats.sort();
        let printed: Vec<String> = seats.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["1F", "2A", "2C", "10A"]);
    }
}
