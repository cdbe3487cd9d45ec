use std::fmt;

/// An email address, lower-cased so that comparisons ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let value = input.trim().to_lowercase();
        let error = || "must be a valid email address".to_string();
        if value.len() > 254 || !email_address::EmailAddress::is_valid(&value) {
            return Err(error());
        }
        // A real mailbox has a domain with a dot; the RFC alone allows `a@localhost`.
        let domain = value.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(error());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn addresses_are_lower_cased() {
        assert_eq!(
            Email::parse(" Asha@Example.COM ").unwrap().as_str(),
            "asha@example.com"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "asha",
            "asha@",
            "@example.com",
            "asha@localhost",
            "a b@example.com",
            "asha@@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
