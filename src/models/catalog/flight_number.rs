use std::fmt;

/// A flight number: a two-character airline designator (letters or digits, at least one
/// letter, as in `AI`, `6E`, `G8`) followed by 1-4 digits and an optional suffix letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlightNumber(String);

impl FlightNumber {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim().to_ascii_uppercase();
        let error = || "must be an airline designator and 1-4 digits, e.g. AI101".to_string();
        if !value.is_ascii() || value.len() < 3 {
            return Err(error());
        }
        let (designator, rest) = value.split_at(2);
        let designator_ok = designator.chars().all(|c| c.is_ascii_alphanumeric())
            && designator.chars().any(|c| c.is_ascii_alphabetic());
        let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let suffix_len = rest.len() - digits.len();
        let number_ok = (1..=4).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && suffix_len <= 1;
        if designator_ok && number_ok {
            Ok(Self(value))
        } else {
            Err(error())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FlightNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::FlightNumber;

    #[test]
    fn real_flight_numbers_are_accepted() {
        for good in ["AI101", "6E2134", "uk955", "G81", "BA117A", "EK5"] {
            assert!(
                FlightNumber::parse(good).is_ok(),
                "{good:?} should be accepted"
            );
        }
        assert_eq!(FlightNumber::parse("ai101").unwrap().as_str(), "AI101");
    }

    #[test]
    fn malformed_flight_numbers_are_refused() {
        for bad in [
            "", "AI", "A1", "12345", "AI12345", "AI-101", "AI 101", "AI101BC", "99101", "ÄI101",
        ] {
            assert!(
                FlightNumber::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
