//! `X-Amzn-Trace-Id`: the X-Ray trace header API Gateway hands on to integrations and answers
//! with. A client's header is kept when it names a well-formed root, and completed as AWS
//! completes it (a `Parent` of the gateway's own when it has none, `Sampled=0` when it does not
//! say); otherwise the request gets one of its own, in X-Ray's format. (AWS's recordings: the
//! client's full header comes back whole, a root alone comes back with a new parent.)

use std::time::SystemTime;

use rand::Rng;

/// Longer client headers are not trusted to be trace headers.
const MAX_LEN: usize = 256;

/// `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled=0`.
const OURS_LEN: usize = 74;

/// A request's trace header: the client's (completed) or one made for it (inline, no
/// allocation). Visible ASCII either way.
#[derive(Debug, Clone)]
pub enum TraceId {
    Theirs(Box<str>),
    Ours([u8; OURS_LEN]),
}

impl TraceId {
    /// The id, taken out of an answered request's context (a blank one is left behind).
    pub fn take(&mut self) -> Self {
        std::mem::replace(self, TraceId::Ours([b'-'; OURS_LEN]))
    }

    /// The trace header of a request that sent `theirs` (as it arrived) at `now`.
    pub fn of_request(theirs: Option<&[u8]>, now: SystemTime) -> Self {
        theirs
            .and_then(complete)
            .map_or_else(|| Self::Ours(new_trace(now)), |t| Self::Theirs(t.into()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Theirs(t) => t,
            // Built from ASCII only.
            Self::Ours(t) => std::str::from_utf8(t).unwrap_or_default(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Theirs(t) => t.as_bytes(),
            Self::Ours(t) => t,
        }
    }
}

/// A client's header completed with a parent and a sampling decision where it lacks them;
/// `None` when it names no well-formed root.
fn complete(theirs: &[u8]) -> Option<String> {
    if theirs.len() > MAX_LEN || !theirs.iter().all(|&b| (0x21..0x7f).contains(&b) || b == b' ') {
        return None;
    }
    let text = std::str::from_utf8(theirs).ok()?.trim();
    let fields: Vec<&str> = text.split(';').map(str::trim).collect();
    let has = |key: &str| {
        fields
            .iter()
            .any(|f| f.strip_prefix(key).is_some_and(|v| v.starts_with('=')))
    };
    let root = fields
        .iter()
        .position(|f| f.strip_prefix("Root=").is_some_and(is_root))?;
    let mut out = String::with_capacity(text.len() + 36);
    for (i, field) in fields.iter().enumerate().filter(|(_, f)| !f.is_empty()) {
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(field);
        if i == root && !has("Parent") {
            out.push_str(";Parent=");
            out.push_str(&hex::encode(rand::rng().random::<[u8; 8]>()));
        }
    }
    if !has("Sampled") {
        out.push_str(";Sampled=0");
    }
    Some(out)
}

/// `1-{8 hex}-{24 hex}`: X-Ray's version, epoch seconds and 96 random bits.
fn is_root(root: &str) -> bool {
    let b = root.as_bytes();
    b.len() == 35
        && b.starts_with(b"1-")
        && b[10] == b'-'
        && b[2..10].iter().chain(&b[11..]).all(u8::is_ascii_hexdigit)
}

/// A new trace header for a request at `now`.
fn new_trace(now: SystemTime) -> [u8; OURS_LEN] {
    let epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as u32;
    let random: [u8; 20] = rand::rng().random();
    let mut id = *b"Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";
    // Each fits exactly: 4 bytes in 8 digits, 12 in 24, 8 in 16.
    let _ = hex::encode_to_slice(epoch.to_be_bytes(), &mut id[7..15]);
    let _ = hex::encode_to_slice(&random[..12], &mut id[16..40]);
    let _ = hex::encode_to_slice(&random[12..], &mut id[48..64]);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(theirs: &str) -> String {
        TraceId::of_request(Some(theirs.as_bytes()), SystemTime::now())
            .as_str()
            .to_owned()
    }

    fn is_ours(t: &str) -> bool {
        let parts: Vec<&str> = t.split(';').collect();
        parts.len() == 3
            && parts[0].strip_prefix("Root=").is_some_and(is_root)
            && parts[1].len() == 23
            && parts[1]
                .strip_prefix("Parent=")
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
            && parts[2] == "Sampled=0"
    }

    #[test]
    fn a_request_without_one_gets_a_trace_header_in_x_rays_format() {
        let t = TraceId::of_request(None, SystemTime::now());
        assert!(is_ours(t.as_str()), "{}", t.as_str());
        let other = TraceId::of_request(None, SystemTime::now());
        assert_ne!(t.as_str(), other.as_str());
    }

    #[test]
    fn a_clients_full_header_is_kept_whole() {
        let full = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1";
        assert_eq!(of(full), full);
    }

    #[test]
    fn a_root_alone_gets_a_parent_of_the_gateways_and_a_sampling_decision() {
        let t = of("Root=1-3152b799-8954dae64eda91bc9a23a7e8");
        let parts: Vec<&str> = t.split(';').collect();
        assert_eq!(parts[0], "Root=1-3152b799-8954dae64eda91bc9a23a7e8");
        assert!(parts[1].starts_with("Parent=") && parts[1].len() == 23, "{t}");
        assert_eq!(parts[2], "Sampled=0");
        // A sampling decision the client made stays, after the parent put behind the root.
        let t = of("Root=1-3152b799-8954dae64eda91bc9a23a7e8;Sampled=1");
        assert!(
            t.starts_with("Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent="),
            "{t}"
        );
        assert!(t.ends_with(";Sampled=1"), "{t}");
    }

    #[test]
    fn a_header_without_a_well_formed_root_is_replaced() {
        for bad in [
            "",
            "Parent=7fa8c0f79203be72",
            "Root=1-xyz",
            "Root=2-3152b799-8954dae64eda91bc9a23a7e8",
            "Root=1-3152b799-8954dae64eda91bc9a23a7e",
            "Root=1-3152b799-8954dae64eda91bc9a23a7e8\u{7f}",
        ] {
            assert!(is_ours(&of(bad)), "{bad:?} -> {}", of(bad));
        }
        let long = format!("Root=1-3152b799-8954dae64eda91bc9a23a7e8;{}", "x".repeat(300));
        assert!(is_ours(&of(&long)));
    }
}
