use std::fmt;

/// An email address, lower-cased so that comparisons ignore case. Only a plain
/// `local@domain` (a dot-atom local part, a dotted host name): display names, comments,
/// quoted local parts, IP literals and control characters are refused, so that every stored
/// address is one mailbox the mailer can send to and no text of the user's choosing reaches
/// a `To:` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

const MESSAGE: &str =
    "must be a plain email address like name@example.com (no display name, comment or quotes)";

/// RFC 5322 `atext`: what a dot-atom's atoms are made of.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
}

/// A host name of at least two labels (`localhost` and IP literals are no one's mailbox),
/// each 1-63 letters, digits or inner hyphens, and a top-level label that is not a number.
fn is_host_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        // Checked before trimming: a trailing newline is an injected header line, not a typo.
        if input.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        let value = input.trim_matches(' ').to_lowercase();
        if value.len() > 254 {
            return Err(MESSAGE.into());
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(MESSAGE.into());
        };
        if !is_dot_atom(local) || !is_host_name(domain) {
            return Err(MESSAGE.into());
        }
        // The mailer's own parser has the last word: what it refuses could never be sent.
        lettre::Address::new(local, domain).map_err(|_| MESSAGE.to_string())?;
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
    fn plain_addresses_are_accepted_and_the_mailer_can_send_them() {
        for good in [
            "asha@example.com",
            "a.b+tag@mail.example.co.in",
            "o'neil@example.ie",
            "x_y-z@sub-domain.example.org",
            "1234@example.com",
        ] {
            let email = Email::parse(good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
            let address: lettre::Address = email.as_str().parse().unwrap();
            assert_eq!(address.to_string(), good);
        }
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
            "a@b@example.com",
            "Bob <bob@example.com>",
            "<bob@example.com>",
            "bob@example.com (comment)",
            "(comment)bob@example.com",
            "\"a b\"@example.com",
            "\"bob\"@example.com",
            "bob@example.com\n",
            "bob@exa\u{0}mple.com",
            "bob\r\nBcc: eve@example.com@example.com",
            "bob@[127.0.0.1]",
            "bob@127.0.0.1",
            ".bob@example.com",
            "bob.@example.com",
            "bo..b@example.com",
            "bob@-example.com",
            "bob@example..com",
            "bob@example.com.",
            "bøb@example.com",
            "bob@exämple.com",
            "bob,eve@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
