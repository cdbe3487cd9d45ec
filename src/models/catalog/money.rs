use std::fmt;

/// The largest price accepted: 10^12 minor units, far above any fare, far below `i64::MAX`.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An ISO 4217 currency code such as `INR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn parse(input: &str) -> Result<Self, String> {
        iso_currency::Currency::from_code(input.trim())
            .map(Self)
            .ok_or_else(|| "must be an ISO 4217 currency code, e.g. INR".to_string())
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point (2 for INR, 0 for JPY).
    pub fn minor_digits(&self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in minor units of its currency (`459900` INR is 4,599.00 INR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Self, String> {
        if !(0..=MAX_AMOUNT).contains(&minor) {
            return Err(format!("must be between 0 and {MAX_AMOUNT} minor units"));
        }
        Ok(Self { minor, currency })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// Major units with thousands separators: `INR 4,599.00`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let scale = 10i64.pow(digits);
        let major = (self.minor / scale).to_string();
        let mut grouped = String::new();
        for (i, c) in major.chars().enumerate() {
            if i > 0 && (major.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if digits == 0 {
            write!(f, "{} {}", self.currency, grouped)
        } else {
            let fraction = self.minor % scale;
            write!(
                f,
                "{} {}.{:0width$}",
                self.currency,
                grouped,
                fraction,
                width = digits as usize
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inr() -> Currency {
        Currency::parse("INR").unwrap()
    }

    #[test]
    fn currencies_are_iso_codes() {
        assert_eq!(Currency::parse("INR").unwrap().code(), "INR");
        for bad in ["", "inr", "XYZ", "RUPEE", "IN"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn money_prints_in_major_units() {
        assert_eq!(
            Money::new(459900, inr()).unwrap().to_string(),
            "INR 4,599.00"
        );
        assert_eq!(Money::new(5, inr()).unwrap().to_string(), "INR 0.05");
        assert_eq!(
            Money::new(123456789, inr()).unwrap().to_string(),
            "INR 1,234,567.89"
        );
        let yen = Currency::parse("JPY").unwrap();
        assert_eq!(Money::new(15000, yen).unwrap().to_string(), "JPY 15,000");
    }

    #[test]
    fn negative_or_absurd_amounts_are_refused() {
        assert!(Money::new(-1, inr()).is_err());
        assert!(Money::new(MAX_AMOUNT + 1, inr()).is_err());
        assert!(Money::new(0, inr()).is_ok());
    }
}
