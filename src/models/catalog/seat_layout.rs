/// The seat letters of one row, left to right, with a space for each aisle: `"ABC DEF"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatLayout(String);

impl SeatLayout {
    pub fn parse(input: &str) -> Result<Self, String> {
        let error =
            |why: &str| format!("{why}; expected letters with spaces for aisles, e.g. \"ABC DEF\"");
        if input.is_empty() || input.len() > 40 {
            return Err(error("must hold 1 to 40 characters"));
        }
        if input.starts_with(' ') || input.ends_with(' ') || input.contains("  ") {
            return Err(error("aisles go between letters, one space each"));
        }
        let mut seen = std::collections::HashSet::new();
        for c in input.chars().filter(|c| *c != ' ') {
            if !c.is_ascii_uppercase() {
                return Err(error("seat letters are upper-case A-Z"));
            }
            if !seen.insert(c) {
                return Err(error(&format!("letter {c} appears twice")));
            }
        }
        Ok(Self(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The letters without aisles, in order.
    pub fn letters(&self) -> impl Iterator<Item = char> + '_ {
        self.0.chars().filter(|c| *c != ' ')
    }

    pub fn seats_per_row(&self) -> usize {
        self.letters().count()
    }
}

#[cfg(test)]
mod tests {
    use super::SeatLayout;

    #[test]
    fn layouts_with_aisles_are_accepted() {
        let layout = SeatLayout::parse("ABC DEFG HJK").unwrap();
        assert_eq!(layout.seats_per_row(), 10);
        assert_eq!(layout.letters().collect::<String>(), "ABCDEFGHJK");
    }

    #[test]
    fn malformed_layouts_are_refused() {
        for bad in ["", " ABC", "ABC ", "AB  C", "ABA", "abc", "A1C", "A-C"] {
            assert!(SeatLayout::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
