use rand::Rng;

/// Upper-case letters and digits without look-alikes (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const LENGTH: usize = 6;

/// A random booking reference: 31^6 ≈ 887 million values, from the OS-seeded CSPRNG so that
/// one reference says nothing about the next.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    (0..LENGTH)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_use_the_unambiguous_alphabet() {
        for _ in 0..1000 {
            let reference = generate();
            assert_eq!(reference.len(), LENGTH);
            assert!(
                reference.bytes().all(|b| ALPHABET.contains(&b)),
                "{reference}"
            );
            assert!(
                !reference.contains(['0', 'O', '1', 'I', 'L']),
                "{reference}"
            );
        }
    }

    #[test]
    fn references_do_not_repeat_in_practice() {
        let many: std::collections::HashSet<String> = (0..10_000).map(|_| generate()).collect();
        assert!(many.len() > 9_990, "{} distinct of 10000", many.len());
    }
}
