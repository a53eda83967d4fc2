//! Query strings as both the management API and the data plane read them.

/// Decoded `key=value` pairs of a query string, in order (`+` is a space, as browsers send it).
pub fn parse(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pairs_are_decoded_in_order() {
        assert_eq!(
            super::parse("a=1&b=x+y&a=%2F&flag"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("a".into(), "/".into()),
                ("flag".into(), "".into())
            ]
        );
    }
}
