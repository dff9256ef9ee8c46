//! Enrolment codes: typed by staff from a screen, stored hashed.

use rand::Rng;

/// Codes are typed by staff from a screen: no 0/O or 1/I. Sixteen symbols of 32 are 80 bits,
/// in groups of four (`ABCD-EFGH-JKLM-NPQR`).
pub(crate) fn new_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let c: String = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    group(&c)
}

fn group(c: &str) -> String {
    c.as_bytes()
        .chunks(4)
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The code as stored (hashed): letters and digits in upper case, in groups of four, however
/// staff typed it.
pub(crate) fn normalise_code(code: &str) -> String {
    let c: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    group(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised_as_staff_type_them() {
        assert_eq!(
            normalise_code("abcd efgh"),
            "ABCD-EFGH",
            "older 8-symbol codes still work"
        );
        assert_eq!(normalise_code("ABCD-EFGH"), "ABCD-EFGH");
        assert_eq!(normalise_code("abcdefghjkmnpqrs"), "ABCD-EFGH-JKMN-PQRS");
        let c = new_code();
        assert_eq!(c.len(), 19);
        assert_eq!(normalise_code(&c), c);
        assert_eq!(normalise_code(&c.to_lowercase().replace('-', " ")), c);
    }
}
