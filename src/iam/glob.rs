//! IAM's wildcards: `*` matches any run of characters (`/` included), `?` any one character.
//! Linear in practice: one backtrack point, the last `*` seen.

/// Whether `text` matches `pattern`, case-sensitively.
pub fn matches(pattern: &str, text: &str) -> bool {
    wildcard(pattern.as_bytes(), text.as_bytes(), |a, b| a == b)
}

/// Whether `text` matches `pattern`, ignoring ASCII case (actions).
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    wildcard(pattern.as_bytes(), text.as_bytes(), |a, b| {
        a.eq_ignore_ascii_case(&b)
    })
}

/// The length of the UTF-8 character that starts with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

fn wildcard(p: &[u8], t: &[u8], eq: impl Fn(u8, u8) -> bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it now stands for the end of.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(t[ti]);
            }
            Some(&c) if eq(c, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // The last `*` takes one more character, and matching goes on after it.
                Some((sp, st)) => {
                    let st = st + char_len(t[st]);
                    star = Some((sp, st));
                    pi = sp + 1;
                    ti = st;
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*') && ti == t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks_match_as_iam_says() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets/1";
        assert!(matches("*", arn));
        assert!(matches("arn:aws:execute-api:us-east-1:123456789012:abc/*", arn));
        assert!(matches("arn:aws:execute-api:*:*:abc/*/GET/pets/*", arn));
        assert!(matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets/?",
            arn
        ));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/*",
            arn
        ));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets",
            arn
        ));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/pets/??",
            arn
        ));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(matches("a*b*c", "abbbc"));
        assert!(!matches("a*b*c", "abbbcd"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(matches("**", ""));
        assert!(matches("?", "é"), "one character, not one byte");
        assert!(!matches("ARN:*", "arn:x"));
        assert!(matches_ignore_case("Execute-API:*", "execute-api:Invoke"));
    }
}
