//! What templates compute with: Java's values as Velocity sees them (strings, numbers, booleans,
//! null, lists, maps) plus host objects such as `$input` that answer property and method calls.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;

use super::Error;

/// Fast hashing with a random seed per map: keys come from request bodies, so plain FxHash-style
/// hashing would invite collision floods.
pub type Hasher = foldhash::fast::RandomState;

pub type MapEntries = IndexMap<Rc<str>, Value, Hasher>;

/// An empty map with room for `capacity` entries.
pub fn entries(capacity: usize) -> MapEntries {
    MapEntries::with_capacity_and_hasher(capacity, Hasher::default())
}

#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<List>),
    Map(Rc<Map>),
    /// A `#define` block, rendered where it is referenced.
    Define(usize),
    Object(Rc<dyn Object>),
}

/// A list. Lists parsed from JSON print as JSON (json-smart's `JSONArray`); lists made in a
/// template print as Java's `ArrayList` does: `[a, b]`.
pub struct List {
    pub items: RefCell<Vec<Value>>,
    pub json: bool,
}

/// A map (Java's `LinkedHashMap`: insertion order), printed `{k=v, k2=v2}`.
pub struct Map {
    pub entries: RefCell<MapEntries>,
    /// Keys match whatever their case (HTTP header names).
    pub case_insensitive: bool,
}

/// A host object: answers `$obj.name` and `$obj.name(args)`.
pub trait Object {
    fn property(&self, name: &str) -> Result<Value, Error>;
    fn call(&self, name: &str, args: &[Value]) -> Result<Value, Error>;
    /// `#set($obj.name = value)`; most objects are read-only.
    fn set(&self, _name: &str, _value: Value) -> Result<(), Error> {
        Ok(())
    }
    fn render(&self, out: &mut String) {
        out.push_str("{}");
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_java_string())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(Rc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(Rc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl Value {
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(Rc::new(List {
            items: RefCell::new(items),
            json: false,
        }))
    }

    pub fn map(entries: MapEntries) -> Self {
        Value::Map(Rc::new(Map {
            entries: RefCell::new(entries),
            case_insensitive: false,
        }))
    }

    /// A map whose keys match whatever their case.
    pub fn header_map(entries: MapEntries) -> Self {
        Value::Map(Rc::new(Map {
            entries: RefCell::new(entries),
            case_insensitive: true,
        }))
    }

    pub fn empty_map() -> Self {
        Self::map(MapEntries::default())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A JSON document as template values (numbers stay integers where they are).
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(a) => Value::List(Rc::new(List {
                items: RefCell::new(a.iter().map(Value::from_json).collect()),
                json: true,
            })),
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (Rc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Velocity's truth: null and `false` are false, anything else true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// What Java's `toString()` gives.
    pub fn to_java_string(&self) -> String {
        let mut s = String::new();
        self.render(&mut s);
        s
    }

    /// Appends the value as a template prints it (null prints nothing, as in API Gateway).
    pub fn render(&self, out: &mut String) {
        match self {
            Value::Null | Value::Define(_) => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Value::Float(f) => java_double(*f, out),
            Value::Str(s) => out.push_str(s),
            Value::List(l) if l.json => {
                write_json(self, out);
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    render_nested(v, out);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.entries.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    render_nested(v, out);
                }
                out.push('}');
            }
            Value::Object(o) => o.render(out),
        }
    }

    /// The value as compact JSON (json-smart's `toJSONString`).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }
}

/// Inside a Java collection, null prints as `null`.
fn render_nested(v: &Value, out: &mut String) {
    if v.is_null() {
        out.push_str("null");
    } else {
        v.render(out);
    }
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Define(_) => out.push_str("null"),
        Value::Bool(_) | Value::Int(_) => v.render(out),
        Value::Float(f) if f.is_finite() => v.render(out),
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) => write_json_string(s, out),
        Value::List(l) => {
            out.push('[');
            for (i, v) in l.items.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(v, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.entries.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(v, out);
            }
            out.push('}');
        }
        Value::Object(o) => {
            let mut s = String::new();
            o.render(&mut s);
            write_json_string(&s, out);
        }
    }
}

pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Java's `Double.toString`: `1.0`, `0.5`, `1.0E10`, `1.0E-5`.
pub fn java_double(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 || (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        let s = format!("{f:E}");
        let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// `$foreach` inside a loop.
pub struct LoopState {
    pub index: Cell<usize>,
    pub has_next: Cell<bool>,
}

impl Object for LoopState {
    fn property(&self, name: &str) -> Result<Value, Error> {
        let i = self.index.get();
        Ok(match name {
            "index" => Value::Int(i as i64),
            "count" => Value::Int(i as i64 + 1),
            "hasNext" => Value::Bool(self.has_next.get()),
            "first" => Value::Bool(i == 0),
            "last" => Value::Bool(!self.has_next.get()),
            _ => Value::Null,
        })
    }

    fn call(&self, name: &str, args: &[Value]) -> Result<Value, Error> {
        match name.strip_prefix("get").or(name.strip_prefix("is")) {
            Some(p) if args.is_empty() => {
                let mut prop = p.to_owned();
                if let Some(first) = prop.get_mut(0..1) {
                    first.make_ascii_lowercase();
                }
                self.property(&prop)
            }
            _ => Ok(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles_print_like_java() {
        let p = |f: f64| {
            let mut s = String::new();
            java_double(f, &mut s);
            s
        };
        assert_eq!(p(1.0), "1.0");
        assert_eq!(p(0.5), "0.5");
        assert_eq!(p(1e10), "1.0E10");
        assert_eq!(p(1.5e-5), "1.5E-5");
        assert_eq!(p(-2.25), "-2.25");
    }

    #[test]
    fn json_maps_print_java_style_and_json_lists_as_json() {
        let v = Value::from_json(&serde_json::json!({"foo": [{"nested": "bar"}], "n": 1}));
        assert_eq!(v.to_java_string(), r#"{foo=[{"nested":"bar"}], n=1}"#);
        let l = Value::list(vec![Value::from("a"), Value::Int(2), Value::Null]);
        assert_eq!(l.to_java_string(), "[a, 2, null]");
        assert_eq!(v.to_json(), r#"{"foo":[{"nested":"bar"}],"n":1}"#);
    }
}
