//! The backend side: the request head written, the answer's head parsed, and the answer
//! body's framing (RFC 9112 §6): `Content-Length`, `chunked`, or until the connection closes.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, StatusCode, Version};

use super::{Fields, MAX_HEAD, MAX_HEADERS, ProtocolError, RawFields, is_name, spans, write_field};

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body, and no header saying so.
    None,
    Length(u64),
    Chunked,
}

/// Appends the request line and headers for a request to `target` (origin form) on `host`:
/// `Host`, the fields `write_fields` appends (without their own `Host` and framing headers:
/// see [`is_head_field`]), then `framing`'s.
pub fn encode_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    host: &[u8],
    write_fields: &dyn Fn(&mut Vec<u8>),
    framing: RequestFraming,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host);
    out.extend_from_slice(b"\r\n");
    write_fields(out);
    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(n) => {
            out.extend_from_slice(b"content-length: ");
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a field is one the request head writes itself: `Host` and the framing headers.
/// By length first: most names are ruled out without a compare.
pub fn is_head_field(name: &[u8]) -> bool {
    match name.len() {
        4 => is_name(name, b"host"),
        14 => is_name(name, b"content-length"),
        17 => is_name(name, b"transfer-encoding"),
        _ => false,
    }
}

/// Appends a header map's fields, but those the head writes itself ([`is_head_field`]).
pub fn write_header_map(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        let name = name.as_str().as_bytes();
        if !is_head_field(name) {
            write_field(out, name, value.as_bytes());
        }
    }
}

/// How the answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed answer head.
#[derive(Debug)]
pub struct Head {
    pub status: StatusCode,
    pub version: Version,
    pub fields: RawFields,
    pub framing: Framing,
    /// Whether the connection may carry another request once the body has been read.
    pub keep_alive: bool,
}

/// Parses an answer head from the start of `buf`, taking its bytes out of `buf`; `None` while
/// the head is incomplete. `head_request`: the request was `HEAD`, so the answer has no body
/// whatever its headers say.
pub fn parse_head(buf: &mut BytesMut, head_request: bool) -> Result<Option<Head>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let (len, code, minor, spans) = {
        // Uninitialised: filling 100 empty headers on every answer cost more than parsing it.
        let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut res = httparse::Response::new(&mut []);
        let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
            &mut res,
            buf,
            &mut headers,
        )? {
            httparse::Status::Complete(len) => len,
            httparse::Status::Partial if buf.len() > MAX_HEAD => return Err(ProtocolError::HeadTooLarge),
            httparse::Status::Partial => return Ok(None),
        };
        (
            len,
            res.code.unwrap_or(0),
            res.version.unwrap_or(1),
            spans(buf, res.headers),
        )
    };
    if len > MAX_HEAD {
        return Err(ProtocolError::HeadTooLarge);
    }
    let raw: Bytes = buf.split_to(len).freeze();
    let status = StatusCode::from_u16(code).map_err(|_| ProtocolError::Unsupported("status code"))?;
    let version = if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };

    let fields = Fields::scan(&raw, &spans)?;
    let chunked = (fields.transfer_encodings > 0).then_some(fields.chunked_last);
    let length = fields.length;

    let framing = if head_request
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) => Framing::UntilClose,
            (None, Some(0)) => Framing::Empty,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::UntilClose,
        }
    };
    // Both framings at once is how responses get smuggled: read it, then never reuse the
    // connection (RFC 9112 §6.3). Nor after chunked framing in HTTP/1.0, which has none: the
    // message may have been framed by the connection closing (§6.1).
    let ambiguous =
        (chunked.is_some() && length.is_some()) || (chunked.is_some() && version == Version::HTTP_10);
    let keep_alive = !ambiguous && framing != Framing::UntilClose && fields.persistent(version);
    Ok(Some(Head {
        status,
        version,
        fields: RawFields {
            head: raw,
            spans,
            connection_names_fields: fields.names_fields,
        },
        framing,
        keep_alive,
    }))
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, header};

    use super::*;

    fn head(raw: &str) -> Result<Option<Head>, ProtocolError> {
        parse_head(&mut BytesMut::from(raw), false)
    }

    #[test]
    fn the_request_head_carries_its_own_framing() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.com"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("gzip"));
        headers.append("x-a", HeaderValue::from_static("1"));
        headers.append("x-a", HeaderValue::from_static("2"));
        let encode = |method: &Method, headers: &HeaderMap, framing| {
            let mut out = Vec::new();
            encode_head(
                &mut out,
                method,
                "/p?q=1",
                b"backend.example",
                &|out| write_header_map(out, headers),
                framing,
            );
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            encode(&Method::POST, &headers, RequestFraming::Length(5)),
            "POST /p?q=1 HTTP/1.1\r\nhost: backend.example\r\nx-a: 1\r\nx-a: 2\r\ncontent-length: 5\r\n\r\n"
        );
        assert_eq!(
            encode(&Method::PUT, &HeaderMap::new(), RequestFraming::Chunked),
            "PUT /p?q=1 HTTP/1.1\r\nhost: backend.example\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        assert_eq!(
            encode(&Method::GET, &HeaderMap::new(), RequestFraming::None),
            "GET /p?q=1 HTTP/1.1\r\nhost: backend.example\r\n\r\n"
        );
    }

    #[test]
    fn answer_heads_parse_with_their_framing() {
        let mut buf = BytesMut::from("HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc");
        let h = parse_head(&mut buf, false).unwrap().unwrap();
        assert_eq!(h.status, 201);
        assert_eq!(h.fields.get(b"x-a"), Some(&b"b"[..]));
        assert_eq!(h.framing, Framing::Length(3));
        assert!(h.keep_alive);
        assert_eq!(&buf[..], b"abc", "the body stays in the buffer");

        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 200 OK\r\n\r\n").unwrap().unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Empty, true));
        let h = head("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::Empty);
        let h = head("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::Empty);
        let h = head("HTTP/1.1 100 Continue\r\n\r\n").unwrap().unwrap();
        assert!(h.status.is_informational());
        let h = parse_head(
            &mut BytesMut::from("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.framing, Framing::Empty, "HEAD answers have no body");
    }

    #[test]
    fn connection_reuse_follows_the_version_and_connection_header() {
        let reuse = |raw: &str| head(raw).unwrap().unwrap().keep_alive;
        assert!(!reuse(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n"
        ));
        assert!(!reuse(
            "HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 1\r\n\r\n"
        ));
        assert!(!reuse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"));
        assert!(reuse(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"
        ));
        // Both framings: chunked wins, and the connection is not trusted again.
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, false));
        // Chunked in HTTP/1.0, which has no chunked framing: read, then closed (RFC 9112 §6.1).
        let h = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.framing, h.keep_alive), (Framing::Chunked, false));
    }

    #[test]
    fn bad_or_partial_heads() {
        assert!(head("HTTP/1.1 200 OK\r\nContent-Le").unwrap().is_none());
        assert!(head("").unwrap().is_none());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").is_err());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").is_ok());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n").is_err());
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n").is_err());
        assert!(head("SMTP ready\r\n\r\n").is_err());
        let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "X-A: 1\r\n".repeat(MAX_HEADERS + 1));
        assert!(head(&many).is_err());
        let huge = format!("HTTP/1.1 200 OK\r\nX-Big: {}", "a".repeat(MAX_HEAD + 1));
        assert!(matches!(head(&huge), Err(ProtocolError::HeadTooLarge)));
    }
}
