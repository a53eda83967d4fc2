//! Identifiers that look like AWS's: lowercase alphanumerics of a fixed length.

use rand::Rng;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A random id of `len` lowercase alphanumerics.
pub fn random_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// REST API ids: 10 characters, like `a1b2c3d4e5`.
pub fn rest_api_id() -> String {
    random_id(10)
}

/// Root resources get 10 characters, other resources 6, as in AWS.
pub fn resource_id(root: bool) -> String {
    random_id(if root { 10 } else { 6 })
}

pub fn deployment_id() -> String {
    random_id(6)
}

/// An access key id shaped like AWS's long-term keys (`AKIA` + 16 uppercase alphanumerics).
pub fn access_key_id() -> String {
    let mut rng = rand::rng();
    let tail: String = (0..16)
        .map(|_| {
            let c = ALPHABET[rng.random_range(0..ALPHABET.len())] as char;
            c.to_ascii_uppercase()
        })
        .collect();
    format!("AKIA{tail}")
}

/// A secret access key: 40 characters of base64's alphabet, from the OS's CSPRNG.
pub fn secret_access_key() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 30];
    rand::rng().fill(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Whether `raw` could be an id we issued (guards SQL lookups against garbage and huge inputs).
pub fn looks_like_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let id = rest_api_id();
        assert_eq!(id.len(), 10);
        assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_eq!(resource_id(false).len(), 6);
        assert!(access_key_id().starts_with("AKIA"));
        assert_eq!(secret_access_key().len(), 40);
        assert!(!looks_like_id("a/b"));
    }
}
