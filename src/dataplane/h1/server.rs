//! The client side of the data plane: a request's head parsed, with its body's framing
//! (RFC 9112 §6.3), and the answer's head written.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, StatusCode, Uri, Version};

use super::{
    Fields, MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE_AND_VALUES, ProtocolError, RawFields, is_host, is_name,
    offset, spans, write_field,
};

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    Empty,
    Length(u64),
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
pub struct RequestHead {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    /// The header fields as they arrived (a header map is made only for what needs one).
    pub fields: RawFields,
    pub framing: BodyFraming,
    /// Whether the client lets the connection carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a go-ahead before sending its body.
    pub expect_continue: bool,
}

/// Whether `buf` may hold a whole head, knowing that its first `scanned` bytes held none: only
/// the bytes since (and the three before them) are searched for the empty line that ends one.
pub fn may_hold_head(buf: &[u8], scanned: usize) -> bool {
    let from = scanned.saturating_sub(3);
    buf[from.min(buf.len())..]
        .windows(2)
        .any(|w| w == b"\n\n" || w == b"\n\r")
}

/// Parses a request head from the start of `buf`, taking its bytes out of `buf`; `None` while
/// the head is incomplete. The fields stay in the head's bytes, as httparse checked them.
///
/// Refused (the connection cannot be trusted after them): malformed heads, heads over
/// [`MAX_HEAD`] bytes or [`MAX_HEADERS`] fields or AWS's [`MAX_REQUEST_LINE_AND_VALUES`], a
/// `Transfer-Encoding` that is not `chunked` alone or that comes with a `Content-Length` (the
/// way requests are smuggled), and disagreeing `Content-Length`s; an HTTP/1.1 request without a
/// `Host`, any with two or with one that is not `host[:port]`, and a target in absolute form
/// that is not http(s) or whose authority is not `host[:port]`.
pub fn parse_request(buf: &mut BytesMut) -> Result<Option<RequestHead>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let (len, start, method, target, minor, spans) = {
        // Uninitialised: filling 100 empty headers on every request costs more than parsing it.
        let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let status =
            httparse::ParserConfig::default().parse_request_with_uninit_headers(&mut req, buf, &mut headers);
        let len = match status {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(ProtocolError::HeadTooLarge),
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(ProtocolError::HeadTooLarge),
            Err(e) => return Err(e.into()),
        };
        let path = req.path.unwrap_or_default();
        let target = offset(buf, path.as_bytes());
        let method = req.method.unwrap_or_default();
        // httparse skips empty lines before the request line.
        let start = offset(buf, method.as_bytes()) as usize;
        let method =
            Method::from_bytes(method.as_bytes()).map_err(|_| ProtocolError::Unsupported("method"))?;
        (
            len,
            start,
            method,
            (target, target + path.len() as u32),
            req.version.unwrap_or(1),
            spans(buf, req.headers),
        )
    };
    if len > MAX_HEAD {
        return Err(ProtocolError::HeadTooLarge);
    }
    // AWS counts the request line and the fields' values (not their names).
    let request_line = match buf[start..len].iter().position(|&b| b == b'\n') {
        Some(end) if end > 0 && buf[start + end - 1] == b'\r' => end - 1,
        Some(end) => end,
        None => len - start,
    };
    let values: usize = spans.iter().map(|[_, _, vs, ve]| usize::from(ve - vs)).sum();
    if request_line + values > MAX_REQUEST_LINE_AND_VALUES {
        return Err(ProtocolError::HeadTooLarge);
    }
    let raw: Bytes = buf.split_to(len).freeze();
    let uri = Uri::from_maybe_shared(raw.slice(target.0 as usize..target.1 as usize))
        .map_err(|_| ProtocolError::Unsupported("request target"))?;
    let version = if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };

    let fields = Fields::scan(&raw, &spans)?;
    // Only `chunked` alone: another coding would reach the backend still applied, with the
    // header that says so gone.
    let chunked =
        (fields.transfer_encodings > 0).then_some(fields.transfer_encodings == 1 && fields.chunked_alone);

    // HTTP/1.1 requests name one host (RFC 9112 §3.2), a valid one: two, or one that is not
    // `host[:port]`, would let the gateway and a backend disagree on which API is called.
    if fields.hosts > 1 || (fields.hosts == 0 && version == Version::HTTP_11) || !fields.hosts_valid {
        return Err(ProtocolError::Unsupported("Host header"));
    }
    // A request target in absolute form names the host itself, and only http(s) ones are
    // served (its authority is the host: RFC 9112 §3.2.2).
    if uri
        .scheme()
        .is_some_and(|s| *s != http::uri::Scheme::HTTP && *s != http::uri::Scheme::HTTPS)
        || uri.authority().is_some_and(|a| !is_host(a.as_str().as_bytes()))
    {
        return Err(ProtocolError::Unsupported("request target"));
    }
    let framing = match (chunked, fields.length) {
        (Some(_), Some(_)) => {
            return Err(ProtocolError::Unsupported(
                "Transfer-Encoding with Content-Length",
            ));
        }
        (Some(false), None) => return Err(ProtocolError::TransferCoding),
        (Some(true), None) if version == Version::HTTP_10 => {
            return Err(ProtocolError::Unsupported("Transfer-Encoding in HTTP/1.0"));
        }
        (Some(true), None) => BodyFraming::Chunked,
        (None, Some(0)) | (None, None) => BodyFraming::Empty,
        (None, Some(n)) => BodyFraming::Length(n),
    };
    Ok(Some(RequestHead {
        method,
        uri,
        version,
        keep_alive: fields.persistent(version),
        expect_continue: fields.expect_continue
            && version == Version::HTTP_11
            && framing != BodyFraming::Empty,
        fields: RawFields {
            head: raw,
            spans,
            connection_names_fields: fields.names_fields,
        },
        framing,
    }))
}

/// How an answer's body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// `Content-Length`.
    Length(u64),
    Chunked,
    /// Neither header: the body ends when the connection closes (an HTTP/1.0 client and a body
    /// of unknown length), or there is none (a 1xx, 204 or 304 answer).
    Bare,
}

/// An answer's header fields: those of its header map, and those of a backend's answer passed
/// through as they arrived (their end-to-end ones).
pub struct AnswerFields<'a> {
    pub headers: &'a HeaderMap,
    pub passed: Option<&'a RawFields>,
}

/// Appends an answer's status line and headers: `fields`, then `extra` (which replace the
/// same names in the header map, and rename them in the passed fields). The answer's own
/// framing and connection headers give way to `framing` and `connection`, except that the
/// answer to a `HEAD` may declare the length its `GET` would have. `date` is added unless the
/// header map has one.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per kind of answer, each naming what it sets"
)]
pub fn encode_response_head(
    out: &mut Vec<u8>,
    status: StatusCode,
    fields: AnswerFields<'_>,
    extra: &[(&str, &[u8])],
    framing: ResponseFraming,
    head_request: bool,
    connection: Connection,
    date: &[u8],
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_date = false;
    let mut declared_length = false;
    let mut write = |name: &[u8], value: &[u8], spelled: Name| {
        if spelled == Name::Remapped {
            out.extend_from_slice(b"x-amzn-Remapped-");
            return write_field(out, name, value);
        }
        // By length first: most names are ruled out without a compare.
        match name.len() {
            4 if is_name(name, b"date") => has_date = true,
            10 if is_name(name, b"connection") => return,
            14 if is_name(name, b"content-length") => {
                if !head_request {
                    return;
                }
                declared_length = true;
            }
            17 if is_name(name, b"transfer-encoding") => return,
            _ => {}
        }
        if !extra.iter().any(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes())) {
            write_field(out, name, value);
        }
    };
    for (name, value) in fields.headers {
        write(name.as_str().as_bytes(), value.as_bytes(), Name::AsIs);
    }
    // A backend's fields that AWS keeps for itself go to the client renamed, as AWS renames
    // them (its recordings show the backend's `Date`, `Server`, `Connection`, `Content-Length`
    // and `x-amzn-RequestId` as `x-amzn-Remapped-*`); the other hop-by-hop ones stay behind.
    // The answer to a HEAD keeps the length its backend declared as its own.
    if let Some(passed) = fields.passed {
        passed.each_field(|name, value, hop| {
            if head_request && is_name(name, b"content-length") {
                write(name, value, Name::AsIs);
            } else if crate::dataplane::is_proxy_remapped(name)
                || extra.iter().any(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
            {
                write(name, value, Name::Remapped);
            } else if !hop {
                write(name, value, Name::AsIs);
            }
        });
    }
    for (name, value) in extra {
        write_field(out, name.as_bytes(), value);
    }
    if !has_date {
        write_field(out, b"date", date);
    }
    match framing {
        ResponseFraming::Length(_) if declared_length => {}
        ResponseFraming::Length(n) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        ResponseFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        ResponseFraming::Bare => {}
    }
    match connection {
        Connection::Close => out.extend_from_slice(b"connection: close\r\n"),
        Connection::KeepAlive => out.extend_from_slice(b"connection: keep-alive\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// How a field's name is written: as it is, or as `x-amzn-Remapped-{name}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Name {
    AsIs,
    Remapped,
}

/// The `Connection` header an answer carries: always one, as AWS's answers carry one, HTTP/1.1's
/// too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Close,
    /// The connection is kept (for an HTTP/1.0 client, because it asked).
    KeepAlive,
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, header};

    use super::*;

    fn parse(raw: &str) -> Result<Option<RequestHead>, ProtocolError> {
        parse_request(&mut BytesMut::from(raw))
    }

    #[test]
    fn request_heads_parse_with_their_framing() {
        let mut buf = BytesMut::from(
            "POST /prod/a%20b?x=1&x=2 HTTP/1.1\r\nHost: api.example\r\nContent-Length: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\nabcGET",
        );
        let h = parse_request(&mut buf).unwrap().unwrap();
        assert_eq!(h.method, Method::POST);
        assert_eq!(h.uri.path(), "/prod/a%20b");
        assert_eq!(h.uri.query(), Some("x=1&x=2"));
        assert_eq!(h.version, Version::HTTP_11);
        assert_eq!(h.fields.get(b"host"), Some(&b"api.example"[..]));
        assert_eq!(h.fields.value(b"host").unwrap(), "api.example");
        let xa: Vec<_> = h
            .fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(b"x-a"))
            .collect();
        assert_eq!(
            xa,
            [(&b"X-A"[..], &b"1"[..]), (&b"x-a"[..], &b"2"[..])],
            "names as they came"
        );
        let map = h.fields.to_header_map_lossy(0);
        assert_eq!(map.get_all("x-a").iter().collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(h.framing, BodyFraming::Length(3));
        assert!(h.keep_alive && !h.expect_continue);
        assert_eq!(
            &buf[..],
            b"abcGET",
            "the body and what follows stay in the buffer"
        );

        let h =
            parse("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(h.framing, BodyFraming::Chunked);
        assert!(h.expect_continue);
        let h = parse("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.expect_continue, "nothing to wait for without a body");
        let h = parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, BodyFraming::Empty);
        let h = parse("GET http://x.example/p HTTP/1.1\r\nHost: x.example\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.uri.path(), "/p", "absolute form");
    }

    #[test]
    fn a_head_is_only_looked_for_once_it_can_be_whole() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for cut in 0..head.len() {
            let (done, seen) = (&head[..cut], cut.saturating_sub(1));
            assert!(!may_hold_head(done, seen) || done.ends_with(b"\n\r"), "{cut}");
        }
        assert!(may_hold_head(head, head.len() - 1));
        assert!(may_hold_head(b"GET / HTTP/1.0\n\n", 14));
        assert!(!may_hold_head(b"GET / HTTP/1.1\r\nHost: a\r\n", 0));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let keep = |raw: &str| parse(raw).unwrap().unwrap().keep_alive;
        assert!(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!keep(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n"
        ));
        assert!(!keep("GET / HTTP/1.0\r\n\r\n"));
        assert!(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn bad_partial_and_smuggling_heads() {
        assert!(parse("GET / HTTP/1.1\r\nHost: a").unwrap().is_none());
        assert!(parse("").unwrap().is_none());
        for bad in [
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/2.0\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").is_ok());
        assert!(parse("GET / HTTP/1.1\r\n\r\n").is_err(), "no Host");
        assert!(
            parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").is_err(),
            "two"
        );
        assert!(parse("GET / HTTP/1.0\r\n\r\n").is_ok(), "HTTP/1.0 needs none");
        for host in [
            "a b", "a@b", "a/b", "a:1:2", "a:80x", "[::1", "[zz]", "a:123456", "a\tb", "a%2",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert!(parse(&raw).is_err(), "{host:?}");
        }
        for host in [
            "",
            "a",
            "a.b-c_d~e:8080",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:80",
            "a%2Db",
            "a:",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert!(parse(&raw).is_ok(), "{host:?}");
        }
        assert!(
            parse("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n").is_err(),
            "not http(s)"
        );
        assert!(
            parse("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n").is_err(),
            "user info"
        );
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: 1\r\n".repeat(MAX_HEADERS + 1));
        assert!(matches!(parse(&many), Err(ProtocolError::HeadTooLarge)));
        let huge = format!("GET / HTTP/1.1\r\nX-Big: {}", "a".repeat(MAX_HEAD + 1));
        assert!(matches!(parse(&huge), Err(ProtocolError::HeadTooLarge)));
        // AWS's limit: the request line and the values, 10,240 bytes together.
        let line = "GET / HTTP/1.1\r\n".len() - 2;
        let at_limit = |extra: usize| {
            let value = "v".repeat(MAX_REQUEST_LINE_AND_VALUES - line - 1 + extra);
            format!("GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name-Not-Counted: {value}\r\n\r\n")
        };
        assert!(parse(&at_limit(0)).unwrap().is_some());
        assert!(matches!(parse(&at_limit(1)), Err(ProtocolError::HeadTooLarge)));
        let after_empty_lines = format!("\r\n\n{}", at_limit(1));
        assert!(matches!(
            parse(&after_empty_lines),
            Err(ProtocolError::HeadTooLarge)
        ));
    }

    #[test]
    fn a_backends_answer_passes_through_with_the_fields_aws_keeps_renamed() {
        let backend = "HTTP/1.1 200 OK\r\nX-Up: a\r\nConnection: keep-alive, X-Private\r\n\
                       X-Private: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\
                       Date: E\r\nTransfer-Encoding: chunked\r\nX-Id: theirs\r\nx-up: b\r\n\r\n";
        let head = super::super::client::parse_head(&mut BytesMut::from(backend), false)
            .unwrap()
            .unwrap();
        let mut ours = HeaderMap::new();
        ours.insert("x-ours", HeaderValue::from_static("1"));
        let encode = |head_request| {
            let mut out = Vec::new();
            let fields = AnswerFields {
                headers: &ours,
                passed: Some(&head.fields),
            };
            let framing = ResponseFraming::Length(3);
            let extra: &[(&str, &[u8])] = &[("x-id", b"ours")];
            encode_response_head(
                &mut out,
                StatusCode::OK,
                fields,
                extra,
                framing,
                head_request,
                Connection::KeepAlive,
                b"D",
            );
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            encode(false),
            "HTTP/1.1 200 OK\r\nx-ours: 1\r\nX-Up: a\r\nx-amzn-Remapped-Connection: keep-alive, X-Private\r\n\
             x-amzn-Remapped-Content-Length: 3\r\nx-amzn-Remapped-Date: E\r\nx-amzn-Remapped-X-Id: theirs\r\n\
             x-up: b\r\nx-id: ours\r\ndate: D\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n",
            "the fields AWS keeps for itself renamed, the other hop-by-hop ones left behind"
        );
        assert_eq!(
            encode(true),
            "HTTP/1.1 200 OK\r\nx-ours: 1\r\nX-Up: a\r\nx-amzn-Remapped-Connection: keep-alive, X-Private\r\n\
             Content-Length: 3\r\nx-amzn-Remapped-Date: E\r\nx-amzn-Remapped-X-Id: theirs\r\nx-up: b\r\n\
             x-id: ours\r\ndate: D\r\nconnection: keep-alive\r\n\r\n",
            "a HEAD answer keeps the length it declares"
        );
    }

    #[test]
    fn answer_heads_carry_their_own_framing() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        let encode = |status, headers: &HeaderMap, framing, head, conn| {
            let mut out = Vec::new();
            let fields = AnswerFields {
                headers,
                passed: None,
            };
            encode_response_head(&mut out, status, fields, &[], framing, head, conn, b"D");
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            encode(
                StatusCode::OK,
                &headers,
                ResponseFraming::Length(5),
                false,
                Connection::KeepAlive
            ),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ndate: D\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\n"
        );
        assert_eq!(
            encode(
                StatusCode::OK,
                &headers,
                ResponseFraming::Length(0),
                true,
                Connection::KeepAlive
            ),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 999\r\ndate: D\r\nconnection: keep-alive\r\n\r\n",
            "a HEAD answer keeps the length it declares"
        );
        headers.insert(header::DATE, HeaderValue::from_static("E"));
        headers.insert("x-id", HeaderValue::from_static("theirs"));
        let mut out = Vec::new();
        encode_response_head(
            &mut out,
            StatusCode::OK,
            AnswerFields {
                headers: &headers,
                passed: None,
            },
            &[("X-Id", b"ours")],
            ResponseFraming::Length(0),
            false,
            Connection::KeepAlive,
            b"D",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ndate: E\r\nX-Id: ours\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
            "extra headers replace the answer's own"
        );
        headers.remove("x-id");
        assert_eq!(
            encode(
                StatusCode::BAD_GATEWAY,
                &headers,
                ResponseFraming::Chunked,
                false,
                Connection::Close
            ),
            "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ndate: E\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        assert_eq!(
            encode(
                StatusCode::from_u16(599).unwrap(),
                &HeaderMap::new(),
                ResponseFraming::Bare,
                false,
                Connection::KeepAlive
            ),
            "HTTP/1.1 599 Unknown\r\ndate: D\r\nconnection: keep-alive\r\n\r\n"
        );
    }
}
