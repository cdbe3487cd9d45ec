use std::fmt;

/// An assigned ISO 3166-1 alpha-2 country code, kept upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryCode(isocountry::CountryCode);

impl CountryCode {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim();
        if value.len() != 2 {
            return Err("must be an ISO 3166-1 alpha-2 country code, e.g. IN".into());
        }
        isocountry::CountryCode::for_alpha2_caseless(value)
            .map(Self)
            .map_err(|_| "must be an assigned ISO 3166-1 alpha-2 country code, e.g. IN".into())
    }

    pub fn as_str(&self) -> &'static str {
        self.0.alpha2()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::CountryCode;

    #[test]
    fn assigned_codes_are_accepted() {
        assert_eq!(CountryCode::parse("in").unwrap().as_str(), "IN");
        assert_eq!(CountryCode::parse("GB").unwrap().as_str(), "GB");
    }

    #[test]
    fn unassigned_or_malformed_codes_are_refused() {
        for bad in ["", "I", "IND", "XX", "ZZ", "12"] {
            assert!(
                CountryCode::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }
}
