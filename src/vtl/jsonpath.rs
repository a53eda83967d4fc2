//! JSONPath as `$input.path` and `$input.json` take it (Jayway's dialect, which API Gateway
//! uses): `$`, `.name`, `['name']`, `[0]`, `[-1]`, `[*]`, `.*`, `..name`, `[0,1]`, `['a','b']`,
//! `[1:3]` and filters `[?(@.a == 'x' && @.b > 1)]`. A definite path (no wildcard, scan,
//! filter, union or slice) selects one value, null when absent; any other selects a list.

use super::Error;
use super::builtins::equals;
use super::value::{List, Value};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Name(String),
    Names(Vec<String>),
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>),
    Wildcard,
    Deep(Box<Segment>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Exists(Vec<Segment>),
    Compare(Operand, CmpOp, Operand),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Current(Vec<Segment>),
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

pub enum Selection {
    One(Value),
    Many(Vec<Value>),
}

impl Selection {
    pub fn into_value(self) -> Value {
        match self {
            Selection::One(v) => v,
            Selection::Many(items) => Value::List(Rc::new(List {
                items: RefCell::new(items),
                json: true,
            })),
        }
    }
}

/// Selects `path` in `root`.
pub fn select(root: &Value, path: &str) -> Result<Selection, Error> {
    let segments = parse(path)?;
    let definite = segments
        .iter()
        .all(|s| matches!(s, Segment::Name(_) | Segment::Index(_)));
    let found = apply_all(&segments, root.clone());
    Ok(if definite {
        Selection::One(found.into_iter().next().unwrap_or_default())
    } else {
        Selection::Many(found)
    })
}

fn apply_all(segments: &[Segment], root: Value) -> Vec<Value> {
    let mut current = vec![root];
    for seg in segments {
        let mut next = Vec::new();
        for v in &current {
            apply(seg, v, &mut next);
        }
        current = next;
    }
    current
}

fn list_index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    usize::try_from(i).ok().filter(|i| *i < len)
}

fn apply(seg: &Segment, v: &Value, out: &mut Vec<Value>) {
    match (seg, v) {
        (Segment::Name(n), Value::Map(m)) => {
            if let Some(x) = m.entries.borrow().get(n.as_str()) {
                out.push(x.clone());
            }
        }
        (Segment::Names(ns), Value::Map(m)) => {
            let entries = m.entries.borrow();
            out.extend(ns.iter().filter_map(|n| entries.get(n.as_str()).cloned()));
        }
        (Segment::Index(i), Value::List(l)) => {
            let items = l.items.borrow();
            if let Some(i) = list_index(items.len(), *i) {
                out.push(items[i].clone());
            }
        }
        (Segment::Indexes(is), Value::List(l)) => {
            let items = l.items.borrow();
            out.extend(
                is.iter()
                    .filter_map(|i| list_index(items.len(), *i))
                    .map(|i| items[i].clone()),
            );
        }
        (Segment::Slice(from, to), Value::List(l)) => {
            let items = l.items.borrow();
            let len = items.len() as i64;
            let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) } as usize;
            let (from, to) = (clamp(from.unwrap_or(0)), clamp(to.unwrap_or(len)));
            if from < to {
                out.extend(items[from..to].iter().cloned());
            }
        }
        (Segment::Wildcard, Value::List(l)) => out.extend(l.items.borrow().iter().cloned()),
        (Segment::Wildcard, Value::Map(m)) => out.extend(m.entries.borrow().values().cloned()),
        (Segment::Deep(inner), v) => {
            let mut all = Vec::new();
            descendants(v, &mut all);
            for d in &all {
                apply(inner, d, out);
            }
        }
        (Segment::Filter(f), Value::List(l)) => {
            out.extend(l.items.borrow().iter().filter(|x| matches(f, x)).cloned());
        }
        (Segment::Filter(f), v @ Value::Map(_)) if matches(f, v) => out.push(v.clone()),
        _ => {}
    }
}

/// `v` and everything inside it, parents first.
fn descendants(v: &Value, out: &mut Vec<Value>) {
    out.push(v.clone());
    match v {
        Value::List(l) => l.items.borrow().iter().for_each(|x| descendants(x, out)),
        Value::Map(m) => m.entries.borrow().values().for_each(|x| descendants(x, out)),
        _ => {}
    }
}

fn matches(f: &Filter, current: &Value) -> bool {
    match f {
        Filter::Exists(path) => !apply_all(path, current.clone()).is_empty(),
        Filter::And(a, b) => matches(a, current) && matches(b, current),
        Filter::Or(a, b) => matches(a, current) || matches(b, current),
        Filter::Not(a) => !matches(a, current),
        Filter::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (operand(l, current), operand(r, current)) else {
                return false;
            };
            let ord = match (&l, &r) {
                (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
                _ => number(&l).zip(number(&r)).and_then(|(a, b)| a.partial_cmp(&b)),
            };
            use std::cmp::Ordering::*;
            match op {
                CmpOp::Eq => equals(&l, &r),
                CmpOp::Ne => !equals(&l, &r),
                CmpOp::Lt => ord == Some(Less),
                CmpOp::Le => matches!(ord, Some(Less | Equal)),
                CmpOp::Gt => ord == Some(Greater),
                CmpOp::Ge => matches!(ord, Some(Greater | Equal)),
            }
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn operand(o: &Operand, current: &Value) -> Option<Value> {
    match o {
        Operand::Current(path) => apply_all(path, current.clone()).into_iter().next(),
        Operand::Literal(Literal::Null) => Some(Value::Null),
        Operand::Literal(Literal::Bool(b)) => Some(Value::Bool(*b)),
        Operand::Literal(Literal::Number(n)) if n.fract() == 0.0 && n.abs() < 9e15 => {
            Some(Value::Int(*n as i64))
        }
        Operand::Literal(Literal::Number(n)) => Some(Value::Float(*n)),
        Operand::Literal(Literal::Str(s)) => Some(Value::from(s.as_str())),
    }
}

fn bad(path: &str, why: &str) -> Error {
    Error::Runtime(format!("invalid JSONPath {path:?}: {why}"))
}

fn parse(path: &str) -> Result<Vec<Segment>, Error> {
    let trimmed = path.trim();
    let rest = match trimmed.strip_prefix('$') {
        Some(r) => r,
        // Jayway reads a path without `$` as relative to the root.
        None if trimmed.starts_with(['.', '[']) => trimmed,
        None => return Cursor::new(&format!(".{trimmed}"), path).segments(),
    };
    Cursor::new(rest, path).segments()
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
    whole: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str, whole: &'a str) -> Self {
        Self { s, pos: 0, whole }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn err(&self, why: &str) -> Error {
        bad(self.whole, why)
    }

    fn skip_ws(&mut self) {
        self.pos += self.rest().len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Segments until the end, or (inside a filter) until something that is not a segment.
    fn segments(&mut self) -> Result<Vec<Segment>, Error> {
        let mut out = Vec::new();
        loop {
            if self.eat("..") {
                let inner = if self.rest().starts_with('[') {
                    self.bracket()?
                } else {
                    self.dotted()?
                };
                out.push(Segment::Deep(Box::new(inner)));
            } else if self.eat(".") {
                out.push(self.dotted()?);
            } else if self.rest().starts_with('[') {
                out.push(self.bracket()?);
            } else {
                return Ok(out);
            }
        }
    }

    fn dotted(&mut self) -> Result<Segment, Error> {
        if self.eat("*") {
            return Ok(Segment::Wildcard);
        }
        let end = self
            .rest()
            .find(['.', '[', ' ', ')', '=', '!', '<', '>', '&', '|'])
            .unwrap_or(self.rest().len());
        if end == 0 {
            return Err(self.err("expected a name"));
        }
        let name = self.rest()[..end].to_owned();
        self.pos += end;
        Ok(Segment::Name(name))
    }

    fn bracket(&mut self) -> Result<Segment, Error> {
        self.eat("[");
        self.skip_ws();
        let seg = if self.eat("*") {
            Segment::Wildcard
        } else if self.eat("?(") {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.err("expected ')' closing a filter"));
            }
            Segment::Filter(f)
        } else if self.rest().starts_with(['\'', '"']) {
            let mut names = vec![self.quoted()?];
            loop {
                self.skip_ws();
                if !self.eat(",") {
                    break;
                }
                self.skip_ws();
                names.push(self.quoted()?);
            }
            if names.len() == 1 {
                Segment::Name(names.pop().unwrap_or_default())
            } else {
                Segment::Names(names)
            }
        } else {
            let first = self.int()?;
            self.skip_ws();
            if self.eat(":") {
                self.skip_ws();
                let to = self.int()?;
                Segment::Slice(first, to)
            } else {
                let mut is = vec![first.ok_or_else(|| self.err("expected an index"))?];
                while self.eat(",") {
                    self.skip_ws();
                    is.push(self.int()?.ok_or_else(|| self.err("expected an index"))?);
                    self.skip_ws();
                }
                if is.len() == 1 {
                    Segment::Index(is[0])
                } else {
                    Segment::Indexes(is)
                }
            }
        };
        self.skip_ws();
        if !self.eat("]") {
            return Err(self.err("expected ']'"));
        }
        Ok(seg)
    }

    fn int(&mut self) -> Result<Option<i64>, Error> {
        let end = self
            .rest()
            .char_indices()
            .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
            .map_or(self.rest().len(), |(i, _)| i);
        if end == 0 {
            return Ok(None);
        }
        let n = self.rest()[..end].parse().map_err(|_| self.err("bad index"))?;
        self.pos += end;
        Ok(Some(n))
    }

    fn quoted(&mut self) -> Result<String, Error> {
        let quote = self.rest().chars().next().unwrap_or('\'');
        self.pos += 1;
        let Some(end) = self.rest().find(quote) else {
            return Err(self.err("unterminated string"));
        };
        let s = self.rest()[..end].to_owned();
        self.pos += end + 1;
        Ok(s)
    }

    fn filter_or(&mut self) -> Result<Filter, Error> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if !self.eat("||") {
                return Ok(left);
            }
            left = Filter::Or(Box::new(left), Box::new(self.filter_and()?));
        }
    }

    fn filter_and(&mut self) -> Result<Filter, Error> {
        let mut left = self.filter_atom()?;
        loop {
            self.skip_ws();
            if !self.eat("&&") {
                return Ok(left);
            }
            left = Filter::And(Box::new(left), Box::new(self.filter_atom()?));
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, Error> {
        self.skip_ws();
        if self.eat("!") {
            return Ok(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.eat("(") {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.err("expected ')'"));
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| self.rest().starts_with(t));
        match (op, left) {
            (Some((tok, op)), left) => {
                self.pos += tok.len();
                self.skip_ws();
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
            (None, Operand::Current(path)) => Ok(Filter::Exists(path)),
            (None, Operand::Literal(_)) => Err(self.err("a filter needs a comparison")),
        }
    }

    fn operand(&mut self) -> Result<Operand, Error> {
        if self.eat("@") {
            return Ok(Operand::Current(self.segments()?));
        }
        if self.rest().starts_with(['\'', '"']) {
            return Ok(Operand::Literal(Literal::Str(self.quoted()?)));
        }
        for (word, lit) in [
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            ("null", Literal::Null),
        ] {
            if self.eat(word) {
                return Ok(Operand::Literal(lit));
            }
        }
        let end = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(self.rest().len());
        let n = self.rest()[..end]
            .parse()
            .map_err(|_| self.err("expected '@', a string, a number, true, false or null"))?;
        self.pos += end;
        Ok(Operand::Literal(Literal::Number(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        Value::from_json(&serde_json::json!({
            "store": {
                "book": [
                    {"title": "A", "price": 8, "tags": ["x"]},
                    {"title": "B", "price": 12},
                    {"title": "C", "price": 5.5, "isbn": "1"}
                ],
                "name": "shop"
            },
            "a.b": 1
        }))
    }

    fn json(path: &str) -> String {
        select(&doc(), path).unwrap().into_value().to_json()
    }

    #[test]
    fn definite_paths_select_one_value() {
        assert_eq!(json("$.store.name"), r#""shop""#);
        assert_eq!(json("$['store']['name']"), r#""shop""#);
        assert_eq!(json("$.store.book[1].title"), r#""B""#);
        assert_eq!(json("$.store.book[-1].title"), r#""C""#);
        assert_eq!(json("$.missing.deeper"), "null");
        assert_eq!(json("store.name"), r#""shop""#);
        assert_eq!(json("$['a.b']"), "1");
    }

    #[test]
    fn indefinite_paths_select_lists() {
        assert_eq!(json("$.store.book[*].title"), r#"["A","B","C"]"#);
        assert_eq!(json("$..title"), r#"["A","B","C"]"#);
        assert_eq!(json("$.store.book[0,2].price"), "[8,5.5]");
        assert_eq!(json("$.store.book[:2].title"), r#"["A","B"]"#);
        assert_eq!(json("$.store.book[?(@.price < 10)].title"), r#"["A","C"]"#);
        assert_eq!(json("$.store.book[?(@.isbn)].title"), r#"["C"]"#);
        assert_eq!(
            json("$.store.book[?(@.price > 6 && @.title != 'B')].title"),
            r#"["A"]"#
        );
        assert_eq!(json("$.nothing[*]"), "[]");
    }

    #[test]
    fn malformed_paths_are_errors() {
        for p in ["$.store.book[", "$.store.book[?(@.price <)]", "$[abc]", "$."] {
            assert!(select(&doc(), p).is_err(), "{p}");
        }
    }
}
