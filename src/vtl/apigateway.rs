//! API Gateway's template variables: `$input` (the payload and the request's parameters) and
//! `$util` (escaping, JSON, URL and base64 helpers). `$context` and `$stageVariables` are plain
//! maps the caller builds.

use std::cell::OnceCell;
use std::fmt;
use std::rc::Rc;

use base64::Engine;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::Error;
use super::jsonpath;
use super::value::{MapEntries, Object, Value};

/// Parses JSON into template values, keeping object keys in document order.
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let keys = KeyCache::default();
    let v = JsonSeed(&keys).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Object keys seen so far in one document: arrays of objects repeat the same few keys, which
/// then share one allocation.
#[derive(Default)]
struct KeyCache(std::cell::RefCell<Vec<Rc<str>>>);

impl KeyCache {
    fn key(&self, k: &str) -> Rc<str> {
        let mut seen = self.0.borrow_mut();
        if let Some(found) = seen.iter().find(|s| ***s == *k) {
            return found.clone();
        }
        let key: Rc<str> = Rc::from(k);
        if seen.len() < 64 {
            seen.push(key.clone());
        }
        key
    }
}

struct JsonSeed<'k>(&'k KeyCache);

impl<'de> DeserializeSeed<'de> for JsonSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor(self.0))
    }
}

struct JsonVisitor<'k>(&'k KeyCache);

impl<'de> Visitor<'de> for JsonVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Int(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Float(n as f64), Value::Int))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Float(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(1024));
        while let Some(v) = seq.next_element_seed(JsonSeed(self.0))? {
            items.push(v);
        }
        Ok(Value::List(Rc::new(super::value::List {
            items: std::cell::RefCell::new(items),
            json: true,
        })))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = super::value::entries(map.size_hint().unwrap_or(4).min(1024));
        while let Some(k) = map.next_key_seed(KeySeed(self.0))? {
            let v = map.next_value_seed(JsonSeed(self.0))?;
            entries.insert(k, v);
        }
        Ok(Value::map(entries))
    }
}

/// An object key, read in place (no `String` on the way) and shared through the [`KeyCache`].
struct KeySeed<'k>(&'k KeyCache);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Rc<str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Rc<str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Rc<str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Rc<str>, E> {
        Ok(self.0.key(s))
    }
}

/// The request's parameters as `$input.params()` shows them.
#[derive(Default)]
pub struct Params {
    pub path: Vec<(String, String)>,
    pub querystring: Vec<(String, String)>,
    pub header: Vec<(String, String)>,
}

/// `$input`: the payload (the method request's body in request templates, the integration's
/// answer in response templates) and the method request's parameters.
pub struct Input {
    body: Rc<str>,
    json: OnceCell<Result<Value, String>>,
    params: Params,
    /// `$input.params()` as maps, built on first use.
    params_value: OnceCell<Value>,
}

impl Input {
    /// An empty payload reads as `{}`, as in API Gateway.
    pub fn new(body: &[u8], params: Params) -> Self {
        let body: Rc<str> = if body.is_empty() {
            Rc::from("{}")
        } else {
            Rc::from(String::from_utf8_lossy(body).as_ref())
        };
        Self {
            body,
            json: OnceCell::new(),
            params,
            params_value: OnceCell::new(),
        }
    }

    fn document(&self) -> Result<&Value, Error> {
        self.json
            .get_or_init(|| parse_json(&self.body).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::InvalidInput(format!("Could not parse request body into json: {e}")))
    }

    fn select(&self, args: &[Value]) -> Result<Value, Error> {
        let path = args.first().and_then(Value::as_str).unwrap_or("$");
        Ok(jsonpath::select(self.document()?, path)?.into_value())
    }

    fn params_value(&self) -> Value {
        self.params_value
            .get_or_init(|| {
                let to_map = |pairs: &[(String, String)]| -> MapEntries {
                    let mut m = super::value::entries(pairs.len());
                    for (k, v) in pairs {
                        m.insert(Rc::from(k.as_str()), Value::from(v.as_str()));
                    }
                    m
                };
                let mut all = super::value::entries(3);
                all.insert(Rc::from("path"), Value::map(to_map(&self.params.path)));
                all.insert(
                    Rc::from("querystring"),
                    Value::map(to_map(&self.params.querystring)),
                );
                all.insert(Rc::from("header"), Value::header_map(to_map(&self.params.header)));
                Value::map(all)
            })
            .clone()
    }

    /// `$input.params('name')`: a path parameter, else a query parameter (its last value), else
    /// a header (whatever its case).
    fn param(&self, name: &str) -> Value {
        let p = &self.params;
        p.path
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| p.querystring.iter().rev().find(|(k, _)| k == name))
            .or_else(|| p.header.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map_or(Value::Null, |(_, v)| Value::from(v.as_str()))
    }
}

impl Object for Input {
    fn property(&self, name: &str) -> Result<Value, Error> {
        Ok(match name {
            "body" => Value::Str(self.body.clone()),
            _ => Value::Null,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Value, Error> {
        match (name, args) {
            ("json", _) => Ok(Value::from(self.select(args)?.to_json())),
            ("path", _) => self.select(args),
            ("params", []) => Ok(self.params_value()),
            ("params", [n]) => Ok(self.param(&n.to_java_string())),
            ("getBody" | "body", []) => Ok(Value::Str(self.body.clone())),
            _ => Ok(Value::Null),
        }
    }
}

/// `$util`.
pub struct Util;

impl Object for Util {
    fn property(&self, _name: &str) -> Result<Value, Error> {
        Ok(Value::Null)
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Value, Error> {
        let Some(arg) = args.first().filter(|a| !a.is_null()) else {
            return Ok(Value::Null);
        };
        let s = arg.to_java_string();
        Ok(match name {
            "escapeJavaScript" => Value::from(escape_javascript(&s)),
            "parseJson" => parse_json(&s).map_err(|e| Error::Runtime(format!("$util.parseJson: {e}")))?,
            "urlEncode" => Value::from(url_encode(&s)),
            "urlDecode" => Value::from(url_decode(&s)?),
            "base64Encode" => Value::from(base64::engine::general_purpose::STANDARD.encode(s.as_bytes())),
            "base64Decode" => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(s.trim().as_bytes())
                    .map_err(|e| Error::Runtime(format!("$util.base64Decode: {e}")))?;
                Value::from(String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => Value::Null,
        })
    }
}

/// Commons Lang 2's `escapeJavaScript`, which API Gateway uses: quotes, backslash and `/`
/// escaped, control characters and everything beyond ASCII as `\uXXXX` (UTF-16 units).
pub fn escape_javascript(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 8);
    for unit in s.encode_utf16() {
        match unit {
            0x08 => out.push_str("\\b"),
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            0x27 => out.push_str("\\'"),
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x2f => out.push_str("\\/"),
            u if !(0x20..0x7f).contains(&u) => {
                let _ = write!(out, "\\u{u:04X}");
            }
            u => out.push(u as u8 as char),
        }
    }
    out
}

/// Java's `URLEncoder.encode(s, "UTF-8")`: space as `+`; letters, digits and `.-*_` kept.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            b => {
                out.push('%');
                out.push_str(&format!("{b:02X}"));
            }
        }
    }
    out
}

/// Java's `URLDecoder.decode(s, "UTF-8")`.
pub fn url_decode(s: &str) -> Result<String, Error> {
    let mut bytes = Vec::with_capacity(s.len());
    let raw = s.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::Runtime("$util.urlDecode: bad escape".into()))?;
                bytes.push(hex);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_javascript_matches_commons_lang() {
        assert_eq!(
            escape_javascript("it's \"q\" a/b \\ \n é 😀"),
            "it\\'s \\\"q\\\" a\\/b \\\\ \\n \\u00E9 \\uD83D\\uDE00"
        );
    }

    #[test]
    fn url_encoding_is_javas() {
        assert_eq!(
            url_encode(r#"{"some": "value"}"#),
            "%7B%22some%22%3A+%22value%22%7D"
        );
        assert_eq!(url_encode("a.b-c*d_e~"), "a.b-c*d_e%7E");
        assert_eq!(url_decode("a+b%20c%C3%A9").unwrap(), "a b cé");
        assert!(url_decode("%zz").is_err());
    }

    #[test]
    fn json_keeps_key_order() {
        let v = parse_json(r#"{"z": 1, "a": [1.5, "x", null], "m": {}}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"z":1,"a":[1.5,"x",null],"m":{}}"#);
    }
}
