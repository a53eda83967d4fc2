//! Property tests over the HTTP/1.1 codec, as fuzz targets runnable with `cargo test`: the
//! request-head parser, the chunked decoder and the backend answer parser never panic, whatever
//! the bytes, and hold their framing rules on every input they accept.
//! `PROPTEST_CASES=200000 cargo test --lib h1::fuzz` runs them for longer.

use bytes::BytesMut;
use proptest::prelude::*;

use super::client::{self, Framing};
use super::server::{self, BodyFraming};
use super::{Chunked, MAX_REQUEST_LINE_AND_VALUES};

/// Header fields made of the names and values that decide framing and routing, spelled in odd
/// ways, with some noise, so that most heads get past the first line.
fn field() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("Host"),
        Just("host"),
        Just("Content-Length"),
        Just("content-LENGTH"),
        Just("Transfer-Encoding"),
        Just("transfer-encoding"),
        Just("Connection"),
        Just("Expect"),
        Just("X-A"),
        Just("Bad Name"),
        Just(""),
    ];
    let value = prop_oneof![
        Just("a.execute-api.localhost".to_owned()),
        Just("[::1]:80".to_owned()),
        Just("u@h".to_owned()),
        Just("0".to_owned()),
        Just("5".to_owned()),
        Just("5, 5".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("chunked".to_owned()),
        Just("gzip, chunked".to_owned()),
        Just("chunked, gzip".to_owned()),
        Just(" chunked ".to_owned()),
        Just("close".to_owned()),
        Just("keep-alive, X-A".to_owned()),
        Just("100-continue".to_owned()),
        "[ -~\t]{0,12}",
        "\\PC{0,4}",
    ];
    let end = prop_oneof![Just("\r\n"), Just("\n"), Just("\r"), Just(""), Just("\r\n ")];
    (name, prop_oneof![Just(": "), Just(":"), Just(" : ")], value, end)
        .prop_map(|(n, sep, v, end)| format!("{n}{sep}{v}{end}"))
}

fn request_head() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("HEAD"),
        Just("CONNECT"),
        Just("G(T"),
        Just("")
    ];
    let target = prop_oneof![
        Just("/".to_owned()),
        Just("/s/a%2F..%2Fb?x=1".to_owned()),
        Just("http://a.execute-api.localhost/s/p".to_owned()),
        Just("ftp://a/".to_owned()),
        Just("*".to_owned()),
        Just("a:80".to_owned()),
        "/[ -~]{0,20}",
    ];
    let version = prop_oneof![
        Just("HTTP/1.1"),
        Just("HTTP/1.0"),
        Just("HTTP/2.0"),
        Just("HTTP/1.1 "),
        Just("")
    ];
    let lead = prop_oneof![Just(""), Just("\r\n"), Just("\n")];
    let body = prop::collection::vec(any::<u8>(), 0..16);
    (
        lead,
        method,
        target,
        version,
        prop::collection::vec(field(), 0..8),
        prop_oneof![Just("\r\n"), Just("\n"), Just("")],
        body,
    )
        .prop_map(|(lead, m, t, v, fields, end, body)| {
            let mut raw = format!("{lead}{m} {t} {v}\r\n{}{end}", fields.concat()).into_bytes();
            raw.extend_from_slice(&body);
            raw
        })
}

/// Chunked bodies built from valid and broken pieces.
fn chunked_body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        (1usize..40).prop_map(|n| format!("{n:x}\r\n{}\r\n", "d".repeat(n))),
        (1usize..40).prop_map(|n| format!("{n:X};ext=\"v\"\r\n{}\r\n", "e".repeat(n))),
        Just("0\r\n\r\n".to_owned()),
        Just("0\r\nX-T: t\r\n\r\n".to_owned()),
        Just("5\nhello\r\n".to_owned()),
        Just("5\r\nhelloXX".to_owned()),
        Just("1;x\nZ\r\n".to_owned()),
        Just("fffffffffffffffff\r\n".to_owned()),
        Just("\r\n".to_owned()),
        "[0-9a-fA-F;=\r\n x]{1,8}",
    ];
    prop::collection::vec(piece, 0..10).prop_map(|p| p.concat().into_bytes())
}

/// Decodes `raw` fed in pieces cut at `cuts`: the data, whether the body ended, and the
/// error if any.
fn dechunk(raw: &[u8], cuts: &[usize]) -> (Vec<u8>, bool, Option<String>) {
    let mut decoder = Chunked::default();
    let (mut buf, mut data) = (BytesMut::new(), Vec::new());
    let mut at = 0;
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (raw.len() + 1)).collect();
    ends.push(raw.len());
    ends.sort_unstable();
    for end in ends {
        buf.extend_from_slice(&raw[at..end.max(at)]);
        at = end.max(at);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(d)) => data.extend_from_slice(&d),
                Ok(None) => break,
                Err(e) => return (data, false, Some(e.to_string())),
            }
        }
        if decoder.is_done() {
            return (data, true, None);
        }
    }
    (data, false, None)
}

proptest! {
    #![proptest_config(crate::fuzzing::config(1000))]

    #[test]
    fn request_heads_never_panic_and_accepted_ones_are_unambiguous(raw in request_head()) {
        let mut buf = BytesMut::from(&raw[..]);
        if let Ok(Some(head)) = server::parse_request(&mut buf) {
            let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
            // Never both framings, and chunked only when it is the one coding.
            if head.framing == BodyFraming::Chunked {
                prop_assert!(head.fields.get(b"content-length").is_none());
                prop_assert_eq!(head.fields.iter().filter(|(n, _)| n.eq_ignore_ascii_case(b"transfer-encoding")).count(), 1);
            }
            // One valid Host at most, and one for HTTP/1.1.
            let hosts = head.fields.iter().filter(|(n, _)| n.eq_ignore_ascii_case(b"host")).count();
            prop_assert!(hosts <= 1);
            prop_assert!(hosts == 1 || head.version == http::Version::HTTP_10, "{}", text);
            if let Some(h) = head.fields.get(b"host") {
                prop_assert!(super::is_host(h));
            }
            // Within AWS's limit, the head's bytes taken out of the buffer and no more.
            let values: usize = head.fields.iter().map(|(_, v)| v.len()).sum();
            prop_assert!(values <= MAX_REQUEST_LINE_AND_VALUES);
            prop_assert!(buf.len() < raw.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(raw in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = server::parse_request(&mut BytesMut::from(&raw[..]));
        let _ = client::parse_head(&mut BytesMut::from(&raw[..]), false);
        let _ = client::parse_head(&mut BytesMut::from(&raw[..]), true);
        let _ = dechunk(&raw, &[]);
    }

    #[test]
    fn chunked_decoding_does_not_depend_on_where_reads_end(
        raw in chunked_body(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let whole = dechunk(&raw, &[]);
        let pieces = dechunk(&raw, &cuts);
        // A body cut short may stop before the error a whole one shows: compare what both saw.
        match (&whole, &pieces) {
            ((d1, true, None), (d2, done, err)) => {
                prop_assert_eq!(d1, d2);
                prop_assert!(*done && err.is_none());
            }
            ((_, _, Some(_)), (_, done, err)) => prop_assert!(err.is_some() && !done),
            ((d1, false, None), (d2, done, err)) => {
                prop_assert!(!done && err.is_none());
                prop_assert_eq!(d1, d2);
            }
        }
    }

    #[test]
    fn chunked_bodies_round_trip(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..64), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut raw = Vec::new();
        for c in &chunks {
            raw.extend_from_slice(format!("{:x};n=v\r\n", c.len()).as_bytes());
            raw.extend_from_slice(c);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
        let (data, done, err) = dechunk(&raw, &cuts);
        prop_assert!(done && err.is_none());
        prop_assert_eq!(data, chunks.concat());
    }

    #[test]
    fn backend_answers_never_panic_and_ambiguous_ones_are_not_reused(
        status in prop_oneof![Just("200 OK"), Just("204 No Content"), Just("100 Continue"), Just("999 X"), Just("2 0")],
        version in prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0"), Just("HTTP/9")],
        fields in prop::collection::vec(field(), 0..8),
        head_request in any::<bool>(),
    ) {
        let raw = format!("{version} {status}\r\n{}\r\n", fields.concat());
        if let Ok(Some(head)) = client::parse_head(&mut BytesMut::from(raw.as_str()), head_request) {
            let te = head.fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"transfer-encoding"));
            let cl = head.fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"content-length"));
            if te && (cl || head.version == http::Version::HTTP_10) {
                prop_assert!(!head.keep_alive, "{}", raw);
            }
            if head.framing == Framing::UntilClose {
                prop_assert!(!head.keep_alive);
            }
            if head_request {
                prop_assert_eq!(head.framing, Framing::Empty);
            }
        }
    }
}
