//! The Java methods templates call on values (`String`, `List`, `Map`, numbers), Velocity's
//! operators, and property and index access. A method that does not exist gives null, as a
//! failed Velocity lookup does; a method that fails (an index out of range, a bad regex) is an
//! error.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use super::ast::BinOp;
use super::value::{List, Map, MapEntries, Value};
use super::{Error, Limits};

/// `$v.name`: a map entry, a host object's property, or a bean getter of a Java value.
pub fn property(v: &Value, name: &str) -> Result<Value, Error> {
    match v {
        Value::Map(m) => Ok(map_get(m, name)),
        Value::Object(o) => o.property(name),
        Value::Str(_) | Value::List(_) if name == "empty" => Ok(Value::Bool(is_empty(v))),
        _ => Ok(Value::Null),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Str(s) => s.is_empty(),
        Value::List(l) => l.items.borrow().is_empty(),
        Value::Map(m) => m.entries.borrow().is_empty(),
        _ => false,
    }
}

fn map_get(m: &Map, key: &str) -> Value {
    map_lookup(&m.entries.borrow(), m.case_insensitive, key)
        .cloned()
        .unwrap_or_default()
}

/// A map's entry by key; in a `case_insensitive` map, whatever the key's case.
pub(super) fn map_lookup<'m>(
    entries: &'m MapEntries,
    case_insensitive: bool,
    key: &str,
) -> Option<&'m Value> {
    // Small maps (most of a JSON document's) are faster scanned than hashed.
    let found = if entries.len() <= 8 {
        let (len, first) = (key.len(), key.as_bytes().first());
        entries
            .iter()
            .find(|(k, _)| k.len() == len && k.as_bytes().first() == first && &***k == key)
            .map(|(_, v)| v)
    } else {
        entries.get(key)
    };
    if found.is_some() || !case_insensitive {
        return found;
    }
    entries
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// `$v[key]`.
pub fn index(v: &Value, key: &Value) -> Value {
    match v {
        Value::List(l) => key
            .as_int()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| l.items.borrow().get(i).cloned())
            .unwrap_or_default(),
        Value::Map(m) => map_get(m, &key.to_java_string()),
        Value::Object(o) => o.property(&key.to_java_string()).unwrap_or_default(),
        _ => Value::Null,
    }
}

pub fn set_property(target: &Value, name: &str, value: Value) -> Result<(), Error> {
    match target {
        Value::Map(m) => {
            m.entries.borrow_mut().insert(Rc::from(name), value);
            Ok(())
        }
        Value::Object(o) => o.set(name, value),
        _ => Ok(()),
    }
}

pub fn set_index(target: &Value, key: &Value, value: Value) {
    match target {
        Value::Map(m) => {
            m.entries
                .borrow_mut()
                .insert(Rc::from(key.to_java_string()), value);
        }
        Value::List(l) => {
            if let Some(slot) = key
                .as_int()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| l.items.borrow_mut().get_mut(i).map(|s| *s = value.clone()))
            {
                slot
            }
        }
        _ => {}
    }
}

/// `$v.name(args)`.
pub fn call(v: &Value, name: &str, args: &[Value], limits: &Limits) -> Result<Value, Error> {
    match (name, args) {
        ("toString", []) => return Ok(Value::from(v.to_java_string())),
        ("equals", [other]) => return Ok(Value::Bool(equals(v, other))),
        _ => {}
    }
    match v {
        Value::Str(s) => string_method(s, name, args, limits),
        Value::List(l) => list_method(l, name, args),
        Value::Map(m) => map_method(m, name, args),
        Value::Object(o) => o.call(name, args),
        Value::Int(_) | Value::Float(_) => Ok(number_method(v, name)),
        Value::Bool(b) if name == "booleanValue" => Ok(Value::Bool(*b)),
        _ => Ok(Value::Null),
    }
}

fn arg_str(args: &[Value], i: usize) -> Option<Cow<'_, str>> {
    match args.get(i)? {
        Value::Null => None,
        Value::Str(s) => Some(Cow::Borrowed(s)),
        other => Some(Cow::Owned(other.to_java_string())),
    }
}

fn arg_int(args: &[Value], i: usize) -> Option<i64> {
    match args.get(i)? {
        Value::Int(n) => Some(*n),
        Value::Float(f) => Some(*f as i64),
        _ => None,
    }
}

fn out_of_range(what: &str) -> Error {
    Error::Runtime(format!("{what}: index out of range"))
}

fn checked_len(s: String, limits: &Limits) -> Result<Value, Error> {
    if s.len() > limits.max_output {
        return Err(Error::Limit("string size"));
    }
    Ok(Value::from(s))
}

/// The char index of a byte offset.
fn char_index(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

/// The byte offset of a char index, if it is within the string (its end included).
fn byte_offset(s: &str, chars: i64) -> Option<usize> {
    let chars = usize::try_from(chars).ok()?;
    if chars == 0 {
        return Some(0);
    }
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(chars)
}

fn string_method(s: &Rc<str>, name: &str, args: &[Value], limits: &Limits) -> Result<Value, Error> {
    let a0 = || arg_str(args, 0);
    Ok(match name {
        "length" => Value::Int(s.chars().count() as i64),
        "isEmpty" => Value::Bool(s.is_empty()),
        "isBlank" => Value::Bool(s.trim().is_empty()),
        "trim" | "strip" => Value::from(s.trim()),
        "toLowerCase" => Value::from(s.to_lowercase()),
        "toUpperCase" => Value::from(s.to_uppercase()),
        "contains" => Value::Bool(a0().is_some_and(|a| s.contains(&*a))),
        "startsWith" => Value::Bool(a0().is_some_and(|a| s.starts_with(&*a))),
        "endsWith" => Value::Bool(a0().is_some_and(|a| s.ends_with(&*a))),
        "equalsIgnoreCase" => Value::Bool(a0().is_some_and(|a| a.to_lowercase() == s.to_lowercase())),
        "concat" => checked_len(format!("{s}{}", a0().unwrap_or_default()), limits)?,
        "compareTo" => Value::Int(match s.as_ref().cmp(&*a0().unwrap_or_default()) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }),
        "indexOf" | "lastIndexOf" => {
            let Some(needle) = a0() else {
                return Ok(Value::Null);
            };
            let found = if name == "indexOf" {
                let from = byte_offset(s, arg_int(args, 1).unwrap_or(0).max(0)).unwrap_or(s.len());
                s[from..].find(&*needle).map(|i| i + from)
            } else {
                s.rfind(&*needle)
            };
            Value::Int(found.map_or(-1, |b| char_index(s, b)))
        }
        "charAt" => {
            let i = arg_int(args, 0).ok_or_else(|| out_of_range("charAt"))?;
            let c = usize::try_from(i)
                .ok()
                .and_then(|i| s.chars().nth(i))
                .ok_or_else(|| out_of_range("charAt"))?;
            Value::from(c.to_string())
        }
        "substring" => {
            let begin = arg_int(args, 0).and_then(|b| byte_offset(s, b));
            let end = match args.get(1) {
                None => Some(s.len()),
                Some(_) => arg_int(args, 1).and_then(|e| byte_offset(s, e)),
            };
            match (begin, end) {
                (Some(b), Some(e)) if b <= e => Value::from(&s[b..e]),
                _ => return Err(out_of_range("substring")),
            }
        }
        "replace" => {
            let (Some(from), Some(to)) = (a0(), arg_str(args, 1)) else {
                return Ok(Value::Null);
            };
            if from.is_empty() {
                return Ok(Value::Str(s.clone()));
            }
            checked_len(s.replace(&*from, &to), limits)?
        }
        "replaceAll" | "replaceFirst" => {
            let (Some(pattern), Some(replacement)) = (a0(), arg_str(args, 1)) else {
                return Ok(Value::Null);
            };
            let re = regex(&pattern)?;
            let replacement = java_replacement(&replacement)?;
            let out = if name == "replaceAll" {
                re.replace_all(s, replacement.as_str())
            } else {
                re.replace(s, replacement.as_str())
            };
            checked_len(out.into_owned(), limits)?
        }
        "matches" => {
            let Some(pattern) = a0() else {
                return Ok(Value::Null);
            };
            let re = regex(&format!("^(?:{pattern})$"))?;
            Value::Bool(re.is_match(s))
        }
        "split" => {
            let Some(pattern) = a0() else {
                return Ok(Value::Null);
            };
            let limit = arg_int(args, 1).unwrap_or(0);
            Value::list(java_split(s, &pattern, limit)?)
        }
        _ => Value::Null,
    })
}

/// Java's `String.split`: with no limit, trailing empty strings go; a match at the very start
/// yields no leading empty string when it is empty-width.
fn java_split(s: &str, pattern: &str, limit: i64) -> Result<Vec<Value>, Error> {
    let re = regex(pattern)?;
    let mut parts: Vec<&str> = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if limit > 0 && parts.len() as i64 == limit - 1 {
            break;
        }
        if m.end() == 0 {
            continue;
        }
        parts.push(&s[last..m.start()]);
        last = m.end();
    }
    parts.push(&s[last..]);
    if limit == 0 {
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        if parts == [""] && !s.is_empty() {
            parts.clear();
        }
    }
    Ok(parts.into_iter().map(Value::from).collect())
}

fn list_method(l: &List, name: &str, args: &[Value]) -> Result<Value, Error> {
    let position = |needle: &Value| l.items.borrow().iter().position(|i| equals(i, needle));
    Ok(match (name, args) {
        ("size", []) => Value::Int(l.items.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(l.items.borrow().is_empty()),
        ("get", [i]) => {
            let i = i.as_int().and_then(|i| usize::try_from(i).ok());
            i.and_then(|i| l.items.borrow().get(i).cloned())
                .ok_or_else(|| out_of_range("get"))?
        }
        ("add", [v]) => {
            l.items.borrow_mut().push(v.clone());
            Value::Bool(true)
        }
        ("add", [i, v]) => {
            let mut items = l.items.borrow_mut();
            let i = i
                .as_int()
                .and_then(|i| usize::try_from(i).ok())
                .filter(|i| *i <= items.len())
                .ok_or_else(|| out_of_range("add"))?;
            items.insert(i, v.clone());
            Value::Null
        }
        ("set", [i, v]) => {
            let mut items = l.items.borrow_mut();
            let slot = i
                .as_int()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| out_of_range("set"))?;
            std::mem::replace(slot, v.clone())
        }
        ("addAll", [Value::List(other)]) => {
            let extra = other.items.borrow().clone();
            l.items.borrow_mut().extend(extra);
            Value::Bool(true)
        }
        ("contains", [v]) => Value::Bool(position(v).is_some()),
        ("indexOf", [v]) => Value::Int(position(v).map_or(-1, |i| i as i64)),
        ("remove", [Value::Int(i)]) => {
            let mut items = l.items.borrow_mut();
            let i = usize::try_from(*i)
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| out_of_range("remove"))?;
            items.remove(i)
        }
        ("remove", [v]) => match position(v) {
            Some(i) => {
                l.items.borrow_mut().remove(i);
                Value::Bool(true)
            }
            None => Value::Bool(false),
        },
        ("clear", []) => {
            l.items.borrow_mut().clear();
            Value::Null
        }
        _ => Value::Null,
    })
}

fn map_method(m: &Map, name: &str, args: &[Value]) -> Result<Value, Error> {
    let key = |i: usize| args.get(i).map(Value::to_java_string).unwrap_or_default();
    Ok(match (name, args) {
        ("get", [_]) => map_get(m, &key(0)),
        ("getOrDefault", [_, default]) => {
            let v = map_get(m, &key(0));
            if v.is_null() { default.clone() } else { v }
        }
        ("put", [_, v]) => m
            .entries
            .borrow_mut()
            .insert(Rc::from(key(0)), v.clone())
            .unwrap_or_default(),
        ("putAll", [Value::Map(other)]) => {
            let extra: Vec<_> = other
                .entries
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            m.entries.borrow_mut().extend(extra);
            Value::Null
        }
        ("containsKey", [_]) => {
            Value::Bool(!map_get(m, &key(0)).is_null() || m.entries.borrow().contains_key(key(0).as_str()))
        }
        ("containsValue", [v]) => Value::Bool(m.entries.borrow().values().any(|x| equals(x, v))),
        ("remove", [_]) => m
            .entries
            .borrow_mut()
            .shift_remove(key(0).as_str())
            .unwrap_or_default(),
        ("size", []) => Value::Int(m.entries.borrow().len() as i64),
        ("isEmpty", []) => Value::Bool(m.entries.borrow().is_empty()),
        ("clear", []) => {
            m.entries.borrow_mut().clear();
            Value::Null
        }
        ("keySet", []) => Value::list(m.entries.borrow().keys().map(|k| Value::Str(k.clone())).collect()),
        ("values", []) => Value::list(m.entries.borrow().values().cloned().collect()),
        ("entrySet", []) => Value::list(
            m.entries
                .borrow()
                .iter()
                .map(|(k, v)| {
                    let mut e = super::value::entries(2);
                    e.insert(Rc::from("key"), Value::Str(k.clone()));
                    e.insert(Rc::from("value"), v.clone());
                    Value::map(e)
                })
                .collect(),
        ),
        _ => Value::Null,
    })
}

fn number_method(v: &Value, name: &str) -> Value {
    match (name, v) {
        ("intValue" | "longValue", Value::Int(i)) => Value::Int(*i),
        ("intValue" | "longValue", Value::Float(f)) => Value::Int(*f as i64),
        ("doubleValue" | "floatValue", Value::Int(i)) => Value::Float(*i as f64),
        ("doubleValue" | "floatValue", Value::Float(f)) => Value::Float(*f),
        _ => Value::Null,
    }
}

/// Velocity's `==`: numbers by value, same kinds by value, other pairs by their strings.
pub fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        // API Gateway prints null as nothing, and compares it so too.
        (Value::Null, Value::Str(s)) | (Value::Str(s), Value::Null) => s.is_empty(),
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => as_f64(a) == as_f64(b),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => a.to_java_string() == b.to_java_string(),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A number, or a string that holds one (request parameters are strings).
fn numeric(v: &Value) -> Option<Value> {
    match v {
        Value::Int(_) | Value::Float(_) => Some(v.clone()),
        Value::Str(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .map(Value::Int)
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(Value::Float))
        }
        _ => None,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => {
            let (x, y) = (numeric(a)?, numeric(b)?);
            match (&x, &y) {
                (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
                _ => as_f64(&x)?.partial_cmp(&as_f64(&y)?),
            }
        }
    }
}

pub fn binary(op: BinOp, l: &Value, r: &Value, limits: &Limits) -> Result<Value, Error> {
    Ok(match op {
        BinOp::Eq => Value::Bool(equals(l, r)),
        BinOp::Ne => Value::Bool(!equals(l, r)),
        BinOp::Lt => Value::Bool(compare(l, r) == Some(Ordering::Less)),
        BinOp::Le => Value::Bool(matches!(compare(l, r), Some(Ordering::Less | Ordering::Equal))),
        BinOp::Gt => Value::Bool(compare(l, r) == Some(Ordering::Greater)),
        BinOp::Ge => Value::Bool(matches!(compare(l, r), Some(Ordering::Greater | Ordering::Equal))),
        BinOp::Add if matches!(l, Value::Str(_)) || matches!(r, Value::Str(_)) => {
            if l.is_null() || r.is_null() {
                return Ok(Value::Null);
            }
            let mut s = l.to_java_string();
            r.render(&mut s);
            return checked_len(s, limits);
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => arithmetic(op, l, r),
        BinOp::And | BinOp::Or => unreachable!("short-circuited by the evaluator"),
    })
}

fn arithmetic(op: BinOp, l: &Value, r: &Value) -> Value {
    match (l, r) {
        (Value::Int(x), Value::Int(y)) => {
            let (x, y) = (*x, *y);
            let exact = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div if y == 0 => return Value::Null,
                BinOp::Div => x.checked_div(y),
                BinOp::Mod if y == 0 => return Value::Null,
                _ => x.checked_rem(y),
            };
            exact.map_or_else(|| float_op(op, x as f64, y as f64), Value::Int)
        }
        _ => match (as_f64(l), as_f64(r)) {
            (Some(x), Some(y)) => float_op(op, x, y),
            _ => Value::Null,
        },
    }
}

fn float_op(op: BinOp, x: f64, y: f64) -> Value {
    match op {
        BinOp::Add => Value::Float(x + y),
        BinOp::Sub => Value::Float(x - y),
        BinOp::Mul => Value::Float(x * y),
        BinOp::Div | BinOp::Mod if y == 0.0 => Value::Null,
        BinOp::Div => Value::Float(x / y),
        _ => Value::Float(x % y),
    }
}

thread_local! {
    /// Compiled regular expressions by pattern: templates use a handful, over and over.
    static REGEXES: RefCell<HashMap<String, Rc<regex::Regex>>> = RefCell::new(HashMap::new());
}

/// A Java regular expression, compiled once per thread. Java features the `regex` crate lacks
/// (look-around, back-references) are errors.
pub fn regex(pattern: &str) -> Result<Rc<regex::Regex>, Error> {
    if let Some(re) = REGEXES.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| Error::Runtime(format!("regular expression {pattern:?}: {e}")))?;
    let re = Rc::new(re);
    REGEXES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(pattern.to_owned(), re.clone());
    });
    Ok(re)
}

/// A Java replacement string (`$1`, `${name}`, `\$`) in the `regex` crate's syntax.
pub fn java_replacement(r: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(r.len());
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(n) => out.push(n),
                None => return Err(Error::Runtime("a replacement ends in '\\'".into())),
            },
            '$' => {
                let mut group = String::new();
                if chars.peek() == Some(&'{') {
                    chars.next();
                    for n in chars.by_ref() {
                        if n == '}' {
                            break;
                        }
                        group.push(n);
                    }
                } else {
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        group.push(*d);
                        chars.next();
                    }
                }
                if group.is_empty() {
                    return Err(Error::Runtime("a replacement has '$' without a group".into()));
                }
                out.push_str("${");
                out.push_str(&group);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    Ok(out)
}
