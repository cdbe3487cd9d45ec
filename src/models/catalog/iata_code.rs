use std::fmt;

/// An IATA airport code: three letters, kept upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IataCode(String);

impl IataCode {
    pub fn parse(input: &str) -> Result<Self, String> {
        let code = input.trim();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(code.to_ascii_uppercase()))
        } else {
            Err("must be a 3-letter IATA code".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IataCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::IataCode;

    #[test]
    fn three_letters_are_accepted_and_upper_cased() {
        assert_eq!(IataCode::parse("del").unwrap().as_str(), "DEL");
        assert_eq!(IataCode::parse(" BOM ").unwrap().as_str(), "BOM");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "DE", "DELH", "D3L", "DÉL", "D L", "12A"] {
            assert!(IataCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
