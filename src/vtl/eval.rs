//! Renders a parsed template against variables, within [`Limits`]: loops stop at their
//! iteration cap (as Velocity's `directive.foreach.maxloops` does), while output, time, range
//! and recursion overruns are errors.

use std::rc::Rc;
use std::time::Instant;

use super::ast::{Access, BinOp, Block, Expr, Node, Reference, Slot};
use super::value::{LoopState, Value};
use super::{Error, Limits, Template, builtins};

enum Flow {
    Next,
    Break,
    Stop,
}

pub(super) struct Eval<'a> {
    pub template: &'a Template,
    /// Every variable the template names, by slot.
    pub vars: Vec<Value>,
    /// The slots of `$foreach`, `$velocityCount` and `$velocityHasNext`, when the template
    /// reads them (a loop keeps them up to date only then).
    pub loop_slots: [Option<Slot>; 3],
    pub limits: &'a Limits,
    pub started: Instant,
    pub ticks: u32,
    pub depth: usize,
}

impl Eval<'_> {
    pub fn run(&mut self, out: &mut String) -> Result<(), Error> {
        self.block(&self.template.parsed.body, out).map(|_| ())
    }

    /// Counts work; every 64th step looks at the clock.
    fn tick(&mut self) -> Result<(), Error> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(64) && self.started.elapsed() > self.limits.max_time {
            return Err(Error::Limit("evaluation time"));
        }
        Ok(())
    }

    fn put(&mut self, slot: Slot, v: Value) {
        self.vars[slot as usize] = v;
    }

    /// Sets a slot and returns what it held, for [`Self::put`] back.
    fn shadow(&mut self, slot: Slot, v: Value) -> Value {
        std::mem::replace(&mut self.vars[slot as usize], v)
    }

    fn block(&mut self, block: &Block, out: &mut String) -> Result<Flow, Error> {
        for node in block {
            // Text and references, most of any template, skip the general dispatch.
            let flow = match node {
                Node::Text(t) => {
                    out.push_str(t);
                    Flow::Next
                }
                Node::Ref(r) => {
                    self.render_reference(r, out)?;
                    Flow::Next
                }
                _ => self.node(node, out)?,
            };
            if out.len() > self.limits.max_output {
                return Err(Error::Limit("output size"));
            }
            if !matches!(flow, Flow::Next) {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    fn node(&mut self, node: &Node, out: &mut String) -> Result<Flow, Error> {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Ref(r) => self.render_reference(r, out)?,
            Node::Set(target, e) => {
                let v = self.expr(e)?;
                self.assign(target, v)?;
            }
            Node::If { branches, otherwise } => {
                for (cond, body) in branches {
                    if self.expr(cond)?.truthy() {
                        return self.block(body, out);
                    }
                }
                if let Some(body) = otherwise {
                    return self.block(body, out);
                }
            }
            Node::Foreach { var, iterable, body } => return self.foreach(*var, iterable, body, out),
            Node::Break => return Ok(Flow::Break),
            Node::Stop => return Ok(Flow::Stop),
            Node::Define { var, index } => self.put(*var, Value::Define(*index)),
            Node::MacroCall { name, args } => return self.call_macro(name, args, out),
        }
        Ok(Flow::Next)
    }

    fn foreach(&mut self, var: Slot, iterable: &Expr, body: &Block, out: &mut String) -> Result<Flow, Error> {
        // Items are read one by one (no copy of the list); a list the body shortens ends the loop.
        let source = self.expr(iterable)?;
        let item_at = |i: usize| match &source {
            Value::List(l) => l.items.borrow().get(i).cloned(),
            Value::Map(m) => m.entries.borrow().get_index(i).map(|(_, v)| v.clone()),
            _ => None,
        };
        let len = match &source {
            Value::List(l) => l.items.borrow().len(),
            Value::Map(m) => m.entries.borrow().len(),
            _ => return Ok(Flow::Next),
        };
        let n = len.min(self.limits.max_loop_iterations);
        let [foreach, count, has_next] = self.loop_slots;
        let state = foreach.map(|_| {
            Rc::new(LoopState {
                index: Default::default(),
                has_next: Default::default(),
            })
        });
        let old_var = self.shadow(var, Value::Null);
        let old_foreach = foreach.map(|s| {
            let v = Value::Object(state.clone().expect("made with the slot"));
            self.shadow(s, v)
        });
        let old_count = count.map(|s| self.shadow(s, Value::Null));
        let old_has_next = has_next.map(|s| self.shadow(s, Value::Null));
        let mut flow = Flow::Next;
        for i in 0..n {
            let Some(item) = item_at(i) else {
                break;
            };
            // An error ends the whole render, so nothing needs restoring on the way out.
            self.tick()?;
            if let Some(state) = &state {
                state.index.set(i);
                state.has_next.set(i + 1 < n);
            }
            self.put(var, item);
            if let Some(s) = count {
                self.put(s, Value::Int(i as i64 + 1));
            }
            if let Some(s) = has_next {
                self.put(s, Value::Bool(i + 1 < n));
            }
            match self.block(body, out)? {
                Flow::Next => {}
                Flow::Break => break,
                Flow::Stop => {
                    flow = Flow::Stop;
                    break;
                }
            }
        }
        self.put(var, old_var);
        for (slot, old) in [
            (foreach, old_foreach),
            (count, old_count),
            (has_next, old_has_next),
        ] {
            if let (Some(s), Some(v)) = (slot, old) {
                self.put(s, v);
            }
        }
        Ok(flow)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Error::Limit("macro or #define recursion"));
        }
        self.tick()
    }

    fn call_macro(&mut self, name: &str, args: &[Expr], out: &mut String) -> Result<Flow, Error> {
        let Some(m) = self.template.parsed.macros.get(name) else {
            return Ok(Flow::Next);
        };
        self.enter()?;
        let values = args.iter().map(|a| self.expr(a)).collect::<Result<Vec<_>, _>>()?;
        let mut saved = Vec::with_capacity(m.params.len());
        for (i, p) in m.params.iter().enumerate() {
            let v = values.get(i).cloned().unwrap_or_default();
            saved.push(self.shadow(*p, v));
        }
        let flow = self.block(&m.body, out);
        for (p, old) in m.params.iter().zip(saved) {
            self.put(*p, old);
        }
        self.depth -= 1;
        match flow? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Next),
        }
    }

    /// Prints a reference: in place when its path only reads map entries (no copy of the
    /// value), else through [`Self::reference`].
    fn render_reference(&mut self, r: &Reference, out: &mut String) -> Result<(), Error> {
        if render_in_place(&self.vars[r.slot as usize], &r.path, out).is_none() {
            self.reference(r)?.render(out);
        }
        Ok(())
    }

    fn reference(&mut self, r: &Reference) -> Result<Value, Error> {
        // The first property is read in place: no copy of the root.
        let (mut v, rest) = match r.path.split_first() {
            Some((Access::Property(name), rest)) => {
                (builtins::property(&self.vars[r.slot as usize], name)?, rest)
            }
            _ => (self.vars[r.slot as usize].clone(), &r.path[..]),
        };
        for access in rest {
            if v.is_null() {
                return Ok(Value::Null);
            }
            v = self.access(&v, access)?;
        }
        if let Value::Define(index) = v {
            self.enter()?;
            let mut s = String::new();
            let block = &self.template.parsed.defines[index];
            let rendered = self.block(block, &mut s);
            self.depth -= 1;
            rendered?;
            return Ok(Value::from(s));
        }
        Ok(v)
    }

    fn access(&mut self, v: &Value, access: &Access) -> Result<Value, Error> {
        match access {
            Access::Property(name) => builtins::property(v, name),
            Access::Method(name, args) => {
                let args = args.iter().map(|a| self.expr(a)).collect::<Result<Vec<_>, _>>()?;
                builtins::call(v, name, &args, self.limits)
            }
            Access::Index(e) => {
                let key = self.expr(e)?;
                Ok(builtins::index(v, &key))
            }
        }
    }

    /// `#set`: a variable, or a map entry / property / list slot at the end of a path. As in
    /// Velocity, a null value leaves the target as it was.
    fn assign(&mut self, target: &Reference, value: Value) -> Result<(), Error> {
        if value.is_null() {
            return Ok(());
        }
        let Some((last, init)) = target.path.split_last() else {
            self.put(target.slot, value);
            return Ok(());
        };
        let mut obj = self.vars[target.slot as usize].clone();
        for access in init {
            if obj.is_null() {
                return Ok(());
            }
            obj = self.access(&obj, access)?;
        }
        match last {
            Access::Property(name) => builtins::set_property(&obj, name, value),
            Access::Index(e) => {
                let key = self.expr(e)?;
                builtins::set_index(&obj, &key, value);
                Ok(())
            }
            Access::Method(..) => Err(Error::Runtime("#set cannot assign to a method call".into())),
        }
    }

    pub fn expr(&mut self, e: &Expr) -> Result<Value, Error> {
        Ok(match e {
            Expr::Null => Value::Null,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::from(&**s),
            Expr::Interpolated(nodes) => {
                let mut s = String::new();
                self.block(nodes, &mut s)?;
                Value::from(s)
            }
            Expr::Ref(r) => self.reference(r)?,
            Expr::List(items) => Value::list(items.iter().map(|i| self.expr(i)).collect::<Result<_, _>>()?),
            Expr::Map(entries) => {
                let mut map = super::value::entries(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k)?.to_java_string();
                    let v = self.expr(v)?;
                    map.insert(Rc::from(k), v);
                }
                Value::map(map)
            }
            Expr::Range(from, to) => {
                let (Some(from), Some(to)) = (self.expr(from)?.as_int(), self.expr(to)?.as_int()) else {
                    return Ok(Value::Null);
                };
                if from.abs_diff(to) >= self.limits.max_range as u64 {
                    return Err(Error::Limit("range size"));
                }
                let items: Vec<Value> = if from <= to {
                    (from..=to).map(Value::Int).collect()
                } else {
                    (to..=from).rev().map(Value::Int).collect()
                };
                Value::list(items)
            }
            Expr::Not(e) => Value::Bool(!self.expr(e)?.truthy()),
            Expr::Neg(e) => match self.expr(e)? {
                Value::Int(i) => i.checked_neg().map_or(Value::Float(-(i as f64)), Value::Int),
                Value::Float(f) => Value::Float(-f),
                _ => Value::Null,
            },
            Expr::Binary(BinOp::And, l, r) => Value::Bool(self.expr(l)?.truthy() && self.expr(r)?.truthy()),
            Expr::Binary(BinOp::Or, l, r) => Value::Bool(self.expr(l)?.truthy() || self.expr(r)?.truthy()),
            Expr::Binary(op, l, r) => {
                let (l, r) = (self.expr(l)?, self.expr(r)?);
                builtins::binary(*op, &l, &r, self.limits)?
            }
        })
    }
}

/// Prints `v` followed along `path` when that takes nothing but map lookups, as
/// [`Eval::reference`] would print it; `None` (nothing printed) when the path needs the
/// evaluator: methods, indexes, host objects, `#define` blocks.
fn render_in_place(v: &Value, path: &[Access], out: &mut String) -> Option<()> {
    match (v, path.split_first()) {
        (Value::Define(_) | Value::Object(_), None) => None,
        (v, None) => {
            v.render(out);
            Some(())
        }
        (Value::Map(m), Some((Access::Property(name), rest))) => {
            let entries = m.entries.borrow();
            match builtins::map_lookup(&entries, m.case_insensitive, name) {
                Some(child) => render_in_place(child, rest, out),
                // A missing entry is null, and so is everything after it: nothing to print.
                None => Some(()),
            }
        }
        _ => None,
    }
}
