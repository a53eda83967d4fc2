//! HTTP/1.1 as pure functions over buffers (RFC 9112), for both ends of the data plane: the
//! [`server`] side reads requests from clients and writes their answers; the [`client`] side
//! writes requests to backends and reads their answers. What both need is here: message
//! limits, `Content-Length`, and the chunked decoder. httparse does the parsing.

pub mod client;
#[cfg(test)]
mod fuzz;
pub mod server;

use bytes::{Bytes, BytesMut};
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, Version};
use smallvec::SmallVec;

/// A message head larger than this is refused.
pub const MAX_HEAD: usize = 64 << 10;
/// AWS's limit on a request's "total combined size of request line and header values" (REST
/// and HTTP APIs alike); a request over it is refused with 431, as AWS refuses it.
pub const MAX_REQUEST_LINE_AND_VALUES: usize = 10240;
/// Header fields in one head, at most (as hyper allows).
pub const MAX_HEADERS: usize = 100;
/// A chunk-size line (with extensions) longer than this is refused.
const MAX_CHUNK_LINE: usize = 4 << 10;
/// Trailer section bytes, at most (trailers are read and dropped).
const MAX_TRAILERS: usize = 16 << 10;

/// A peer that does not speak HTTP/1.1 as it must.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("malformed message head: {0}")]
    Head(#[from] httparse::Error),
    #[error("message head over {MAX_HEAD} bytes or {MAX_HEADERS} fields")]
    HeadTooLarge,
    #[error("unsupported message: {0}")]
    Unsupported(&'static str),
    #[error("unsupported transfer coding")]
    TransferCoding,
    #[error("invalid Content-Length")]
    ContentLength,
    #[error("malformed chunked body")]
    Chunked,
}

/// Where a field's name and value sit in a head (start and end of each), to slice them out of
/// it once it is frozen; httparse's fields borrow the buffer it is cut from. Offsets within a
/// head that is not refused (at most [`MAX_HEAD`] bytes, ending with an empty line) fit in 16
/// bits, and a head's fields are moved with it a few times per request.
type Span = [u16; 4];
const _: () = assert!(MAX_HEAD <= u16::MAX as usize + 1);
/// The spans of a head's fields: inline for the usual few (moved with the head, so kept small).
type Spans = SmallVec<[Span; 8]>;

/// Where `part` (borrowed from `head`) starts in `head`.
fn offset(head: &[u8], part: &[u8]) -> u32 {
    (part.as_ptr() as usize - head.as_ptr() as usize) as u32
}

/// The spans of `fields`, parsed from `head`. (Offsets past 16 bits wrap: only in a head over
/// [`MAX_HEAD`], which is refused before its spans are used.)
fn spans(head: &[u8], fields: &[httparse::Header<'_>]) -> Spans {
    fields
        .iter()
        .map(|f| {
            let (name, value) = (offset(head, f.name.as_bytes()), offset(head, f.value));
            [
                name as u16,
                (name as usize + f.name.len()) as u16,
                value as u16,
                (value as usize + f.value.len()) as u16,
            ]
        })
        .collect()
}

/// The name and value of the field at `span` of `head`.
fn field<'h>(head: &'h [u8], &[ns, ne, vs, ve]: &Span) -> (&'h [u8], &'h [u8]) {
    (&head[ns as usize..ne as usize], &head[vs as usize..ve as usize])
}

/// Appends a field to a head being written.
pub fn write_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether `name` (a field name or a token of a field's value, as httparse let it through)
/// is `lower` (lowercase letters, digits and `-`) in any case. Setting bit 5 lowercases an ASCII
/// letter and leaves digits and `-` as they are, and no other byte httparse lets into a field
/// becomes one of those by it (only CR would become `-`, and control bytes digits): one
/// operation a byte, where `eq_ignore_ascii_case` lowercases both sides.
#[inline]
pub fn is_name(name: &[u8], lower: &[u8]) -> bool {
    debug_assert!(
        lower
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    );
    name.len() == lower.len() && name.iter().zip(lower).all(|(a, b)| a | 0x20 == *b)
}

/// The value of a field httparse let through, as text when a header map would take it as
/// such: httparse allows tabs, visible ASCII and bytes from 0x80 in a value, so it is text when
/// it is ASCII (checked a word at a time, not byte by byte).
pub fn text(value: &[u8]) -> Option<&str> {
    debug_assert!(
        value
            .iter()
            .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
    );
    if value.is_ascii() {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// Header fields as text, grouped by name without regard to case under the name's first
/// spelling, as AWS hands a client's headers to Lambda events and templates (its recordings
/// keep `tEsT-HEADeR`); a field that is not text is left out.
#[derive(Debug, Default)]
pub struct TextFields<'a>(Vec<(&'a str, Vec<&'a str>)>);

impl<'a> TextFields<'a> {
    pub fn add(&mut self, name: &'a [u8], value: &'a [u8]) {
        let (Ok(name), Some(value)) = (std::str::from_utf8(name), text(value)) else {
            return;
        };
        match self.0.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, values)) => values.push(value),
            None => self.0.push((name, vec![value])),
        }
    }

    /// Each name with its values, in the order they came.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &[&'a str])> + '_ {
        self.0.iter().map(|(name, values)| (*name, values.as_slice()))
    }
}

/// What a head's fields say about the message's framing and its connection, read from the
/// fields as they arrived (names compared without regard to case).
struct Fields {
    /// `Content-Length`, its repeated values agreeing (RFC 9110 §8.6).
    length: Option<u64>,
    /// How many `Transfer-Encoding` fields there are.
    transfer_encodings: u32,
    /// Whether the last one ends with `chunked`, and whether it is `chunked` alone.
    chunked_last: bool,
    chunked_alone: bool,
    close: bool,
    keep_alive: bool,
    /// Whether `Connection` names anything but `close` and `keep-alive`: fields of that name
    /// are hop-by-hop too.
    names_fields: bool,
    /// How many `Host` fields there are (a request's), and whether each is `host[:port]`.
    hosts: u32,
    hosts_valid: bool,
    /// `Expect: 100-continue` (a request's).
    expect_continue: bool,
}

impl Fields {
    fn scan(head: &[u8], spans: &[Span]) -> Result<Self, ProtocolError> {
        let mut fields = Fields {
            length: None,
            transfer_encodings: 0,
            chunked_last: false,
            chunked_alone: false,
            close: false,
            keep_alive: false,
            names_fields: false,
            hosts: 0,
            hosts_valid: true,
            expect_continue: false,
        };
        for span in spans {
            let (name, value) = field(head, span);
            // By length first: most names are ruled out without a compare.
            match name.len() {
                14 if is_name(name, b"content-length") => {
                    let n = parse_length(value).ok_or(ProtocolError::ContentLength)?;
                    if fields.length.is_some_and(|l| l != n) {
                        return Err(ProtocolError::ContentLength);
                    }
                    fields.length = Some(n);
                }
                17 if is_name(name, b"transfer-encoding") => {
                    let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
                    fields.transfer_encodings += 1;
                    fields.chunked_last = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
                    fields.chunked_alone = value.trim_ascii().eq_ignore_ascii_case(b"chunked");
                }
                10 if is_name(name, b"connection") => {
                    for token in value.split(|&b| b == b',') {
                        let token = token.trim_ascii();
                        let close = is_name(token, b"close");
                        let keep_alive = !close && is_name(token, b"keep-alive");
                        fields.close |= close;
                        fields.keep_alive |= keep_alive;
                        fields.names_fields |= !close && !keep_alive && !token.is_empty();
                    }
                }
                4 if is_name(name, b"host") => {
                    fields.hosts += 1;
                    fields.hosts_valid &= is_host(value);
                }
                6 if is_name(name, b"expect") => {
                    fields.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
                }
                _ => {}
            }
        }
        Ok(fields)
    }

    /// Whether the peer lets the connection carry another message: HTTP/1.1 unless it says
    /// `close`, HTTP/1.0 only when it says `keep-alive`.
    fn persistent(&self, version: Version) -> bool {
        !self.close && (version == Version::HTTP_11 || self.keep_alive)
    }
}

/// A message's header fields as they arrived (httparse checked them), in the head's own bytes.
/// A backend's answer passed through to a client is written back from these, without the
/// cost of a header map: parsing names, checking values again, hashing, allocating.
#[derive(Debug, Clone, Default)]
pub struct RawFields {
    head: Bytes,
    spans: Spans,
    /// Whether `Connection` names fields (other than the fixed hop-by-hop ones).
    connection_names_fields: bool,
}

impl RawFields {
    /// Names and values, in the order they arrived; names as the peer spelled them.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans.iter().map(|span| field(&self.head, span))
    }

    /// The first value of `name` (lowercase letters and `-`).
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        Some(field(&self.head, self.span_of(name)?).1)
    }

    /// The first value of `name` (lowercase letters and `-`) as a header value: a slice of
    /// the head, not a copy.
    pub fn value(&self, name: &[u8]) -> Option<HeaderValue> {
        let &[_, _, vs, ve] = self.span_of(name)?;
        HeaderValue::from_maybe_shared(self.head.slice(vs as usize..ve as usize)).ok()
    }

    /// Where the first field named `name` (lowercase letters and `-`) is.
    fn span_of(&self, name: &[u8]) -> Option<&Span> {
        self.spans
            .iter()
            .find(|span| is_name(field(&self.head, span).0, name))
    }

    /// Each field as a header name and value (values are slices of the head, not copies);
    /// `None` for one a header map cannot hold.
    fn typed(&self) -> impl Iterator<Item = Option<(HeaderName, HeaderValue)>> + '_ {
        self.spans.iter().map(|&[ns, ne, vs, ve]| {
            let name = HeaderName::from_bytes(&self.head[ns as usize..ne as usize]).ok()?;
            let value = HeaderValue::from_maybe_shared(self.head.slice(vs as usize..ve as usize)).ok()?;
            Some((name, value))
        })
    }

    /// The fields in a header map; an error for one it cannot hold.
    pub fn to_header_map(&self) -> Result<HeaderMap, ProtocolError> {
        let mut headers = HeaderMap::with_capacity(self.spans.len());
        for field in self.typed() {
            let (name, value) = field.ok_or(ProtocolError::Unsupported("header field"))?;
            headers.append(name, value);
        }
        Ok(headers)
    }

    /// The fields in a header map with room for `more`, leaving out any a header map cannot
    /// hold (none that httparse lets through, which checks names and values as strictly).
    pub fn to_header_map_lossy(&self, more: usize) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.spans.len() + more);
        for (name, value) in self.typed().flatten() {
            headers.append(name, value);
        }
        headers
    }

    /// Calls `each` with the end-to-end fields: all but the hop-by-hop ones and those
    /// `Connection` names (RFC 9110 §7.6.1).
    pub fn each_end_to_end<'a>(&'a self, mut each: impl FnMut(&'a [u8], &'a [u8])) {
        self.each_field(|name, value, hop| {
            if !hop {
                each(name, value)
            }
        });
    }

    /// Calls `each` with every field, and whether it is hop-by-hop (or one `Connection`
    /// names).
    pub fn each_field<'a>(&'a self, mut each: impl FnMut(&'a [u8], &'a [u8], bool)) {
        // Usually `Connection` names nothing but `keep-alive`: then nothing is collected.
        let mut named: SmallVec<[&[u8]; 4]> = SmallVec::new();
        if self.connection_names_fields {
            for (_, value) in self.iter().filter(|(n, _)| is_name(n, b"connection")) {
                named.extend(value.split(|&b| b == b',').map(<[u8]>::trim_ascii));
            }
        }
        for (name, value) in self.iter() {
            let hop = is_hop_by_hop(name) || named.iter().any(|t| t.eq_ignore_ascii_case(name));
            each(name, value, hop);
        }
    }
}

/// Whether a header belongs to one connection and is never forwarded (RFC 9110 §7.6.1), with
/// the legacy `Proxy-Connection`. By length first: most names are ruled out without a compare.
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    let is = |hop: &[u8]| is_name(name, hop);
    match name.len() {
        2 => is(b"te"),
        7 => is(b"trailer") || is(b"upgrade"),
        10 => is(b"connection") || is(b"keep-alive"),
        16 => is(b"proxy-connection"),
        17 => is(b"transfer-encoding"),
        18 => is(b"proxy-authenticate"),
        19 => is(b"proxy-authorization"),
        _ => false,
    }
}

/// The bytes a host name or IPv4 address may hold as they are (RFC 3986's unreserved characters
/// and sub-delimiters).
const HOST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        b += 1;
    }
    table
};

/// Whether a `Host` value is `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2): a
/// bracketed IPv6 address, or a name or IPv4 address of unreserved characters, sub-delimiters
/// and percent-encodings, then at most one `:` and a port of up to five digits. Anything else
/// (user info, a path, spaces, a second colon) would let the gateway and a backend read two
/// different hosts.
pub fn is_host(value: &[u8]) -> bool {
    if let Some(bracketed) = value.strip_prefix(b"[") {
        let Some(end) = bracketed.iter().position(|&b| b == b']') else {
            return false;
        };
        let address = &bracketed[..end];
        return !address.is_empty()
            && address
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            && match &bracketed[end + 1..] {
                [] => true,
                [b':', port @ ..] => is_port(port),
                _ => false,
            };
    }
    // One pass, one table lookup a byte: every request's Host goes through here.
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b if HOST_BYTES[usize::from(b)] => i += 1,
            b':' => return is_port(&value[i + 1..]),
            b'%' if value
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
            {
                i += 3
            }
            _ => return false,
        }
    }
    true
}

/// A port: up to five digits (none is allowed after the colon, as RFC 3986 allows).
fn is_port(port: &[u8]) -> bool {
    port.len() <= 5 && port.iter().all(u8::is_ascii_digit)
}

/// A decimal Content-Length, digits only.
pub fn parse_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    // 19 digits cannot overflow a u64.
    v.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// The decoder of a chunked body (RFC 9112 §7.1), fed from a buffer that may end anywhere.
/// httparse reads the size lines and the trailer section; this keeps the place in between.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    Trailers,
    Done,
}

impl Chunked {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// The next piece of body data in `buf`, taken out of it with the framing before it; `None`
    /// when `buf` holds no more data: the body is done ([`Chunked::is_done`]) or needs more bytes.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, ProtocolError> {
        use bytes::Buf;
        loop {
            match self.state {
                ChunkState::Size => {
                    // httparse reads an empty size line as 0; a size needs a digit.
                    match buf.first() {
                        None => return Ok(None),
                        Some(b) if !b.is_ascii_hexdigit() => return Err(ProtocolError::Chunked),
                        Some(_) => {}
                    }
                    match httparse::parse_chunk_size(buf) {
                        Ok(httparse::Status::Complete((len, _))) if len > MAX_CHUNK_LINE => {
                            return Err(ProtocolError::Chunked);
                        }
                        // httparse lets a bare LF through inside an extension; another
                        // parser may end the line there (how chunked requests are smuggled).
                        Ok(httparse::Status::Complete((len, _))) if buf[..len - 2].contains(&b'\n') => {
                            return Err(ProtocolError::Chunked);
                        }
                        Ok(httparse::Status::Complete((len, size))) => {
                            buf.advance(len);
                            self.state = match size {
                                0 => ChunkState::Trailers,
                                n => ChunkState::Data(n),
                            };
                        }
                        Ok(httparse::Status::Partial) if buf.len() <= MAX_CHUNK_LINE => return Ok(None),
                        Ok(httparse::Status::Partial) | Err(_) => return Err(ProtocolError::Chunked),
                    }
                }
                ChunkState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = left.min(buf.len() as u64);
                    self.state = if n == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - n)
                    };
                    return Ok(Some(buf.split_to(n as usize).freeze()));
                }
                ChunkState::DataEnd => match buf.get(..2) {
                    None if buf.first().is_none_or(|&b| b == b'\r') => return Ok(None),
                    Some(b"\r\n") => {
                        buf.advance(2);
                        self.state = ChunkState::Size;
                    }
                    _ => return Err(ProtocolError::Chunked),
                },
                // Read and dropped, up to the empty line that ends the body.
                ChunkState::Trailers => {
                    let mut fields = [httparse::EMPTY_HEADER; 32];
                    match httparse::parse_headers(buf, &mut fields) {
                        Ok(httparse::Status::Complete((len, _))) => {
                            buf.advance(len);
                            self.state = ChunkState::Done;
                        }
                        Ok(httparse::Status::Partial) if buf.len() <= MAX_TRAILERS => return Ok(None),
                        Ok(httparse::Status::Partial) | Err(_) => return Err(ProtocolError::Chunked),
                    }
                }
                ChunkState::Done => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `raw` fed in pieces of `step` bytes; the data, and what is left after the body.
    fn dechunk(raw: &[u8], step: usize) -> Result<(Vec<u8>, Vec<u8>), ProtocolError> {
        let mut decoder = Chunked::default();
        let (mut buf, mut data) = (BytesMut::new(), Vec::new());
        for piece in raw.chunks(step) {
            buf.extend_from_slice(piece);
            while let Some(d) = decoder.decode(&mut buf)? {
                data.extend_from_slice(&d);
            }
            if decoder.is_done() {
                break;
            }
        }
        assert!(
            decoder.is_done(),
            "incomplete: {:?}",
            String::from_utf8_lossy(raw)
        );
        Ok((data, buf.to_vec()))
    }

    #[test]
    fn chunked_bodies_decode_however_they_are_cut() {
        let raw = b"5\r\nhello\r\n1;ext=\"x\"\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
        for step in 1..=raw.len() {
            let (data, rest) = dechunk(raw, step).unwrap();
            assert_eq!(data, b"hello 0123456789", "step {step}");
            // What follows the body is left alone (a connection with it is not reused).
            assert!(b"NEXT".starts_with(&rest), "step {step}");
        }
        assert_eq!(dechunk(b"0\r\n\r\n", 1).unwrap().0, b"");
    }

    #[test]
    fn malformed_chunked_bodies_are_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"11111111111111111\r\n",
            b"0\r\n\r\r",
            b"1;x\nZ\r\nA\r\n0\r\n\r\n",
        ] {
            let mut buf = BytesMut::from(bad);
            let mut decoder = Chunked::default();
            let result = (|| {
                while decoder.decode(&mut buf)?.is_some() {}
                Ok::<_, ProtocolError>(())
            })();
            assert!(result.is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!("1;{}\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert!(
            Chunked::default()
                .decode(&mut BytesMut::from(long.as_str()))
                .is_err()
        );
    }
}
