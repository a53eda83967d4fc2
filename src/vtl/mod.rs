//! Gatehouse's own Velocity Template Language engine, as API Gateway's mapping templates use it.
//! Pure: no I/O. A template is parsed once ([`Template::parse`], in the compiler, once per
//! deployment) and rendered per request ([`Template::render`]) within [`Limits`].
//!
//! - `parser` turns text into the `ast` in one pass; `eval` walks it; `value` is what it
//!   computes with; `builtins` are the Java methods templates call on strings, lists and maps;
//! - `apigateway` holds API Gateway's variables (`$input`, `$util`) and `jsonpath` the JSONPath
//!   that `$input.path` / `$input.json` speak.
//!
//! Differences from Apache Velocity 1.7, chosen to match what API Gateway answers: a null
//! reference prints nothing (not its source text) and compares equal to `""`; lines that hold only
//! a directive vanish whole.

pub mod apigateway;
pub mod ast;
mod builtins;
mod eval;
pub mod jsonpath;
mod parser;
pub mod value;

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use value::Value;

/// Variables by name (`input`, `context`, `util`, ...); `#set` adds to them.
pub type Vars = HashMap<String, Value, value::Hasher>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("template syntax: {0}")]
    Parse(String),
    #[error("template limit exceeded: {0}")]
    Limit(&'static str),
    #[error("template evaluation: {0}")]
    Runtime(String),
    /// The payload a template reads is not what it claims (`$input.json` on a body that is not
    /// JSON): the client's fault, not the template's.
    #[error("{0}")]
    InvalidInput(String),
}

/// What one render may use.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A `#foreach` stops after this many iterations (API Gateway's 1,000).
    pub max_loop_iterations: usize,
    /// Output (and any string built on the way) beyond this is an error.
    pub max_output: usize,
    pub max_time: Duration,
    /// Nested macro calls and `#define` expansions.
    pub max_depth: usize,
    /// Elements of a `[a..b]` range.
    pub max_range: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_loop_iterations: 1000,
            max_output: 10 << 20,
            max_time: Duration::from_millis(250),
            max_depth: 32,
            max_range: 10_000,
        }
    }
}

#[derive(Debug)]
pub struct Template {
    parsed: parser::Parsed,
    /// What the output usually needs: the template's own length, and some.
    capacity: usize,
    /// The slots of `$foreach`, `$velocityCount` and `$velocityHasNext`, when the template
    /// reads them.
    loop_slots: [Option<ast::Slot>; 3],
}

impl std::fmt::Debug for parser::Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("nodes", &self.body.len())
            .field("roots", &self.roots)
            .finish()
    }
}

impl Template {
    pub fn parse(src: &str) -> Result<Self, Error> {
        let parsed = parser::parse(src)?;
        let slot = |name: &str| {
            let i = parsed.roots.iter().position(|r| &**r == name)?;
            Some(i as ast::Slot)
        };
        let loop_slots = [slot("foreach"), slot("velocityCount"), slot("velocityHasNext")];
        Ok(Self {
            parsed,
            capacity: (src.len() * 2).clamp(256, 64 << 10),
            loop_slots,
        })
    }

    /// Whether the template mentions the variable `name` (so the caller can skip building it).
    pub fn uses(&self, name: &str) -> bool {
        self.parsed.roots.iter().any(|r| &**r == name)
    }

    /// Renders with `vars` as the template's variables (`#set` changes only the render's own
    /// copies).
    pub fn render(&self, vars: &Vars, limits: &Limits) -> Result<String, Error> {
        let mut out = String::with_capacity(self.capacity);
        eval::Eval {
            template: self,
            vars: self
                .parsed
                .roots
                .iter()
                .map(|r| vars.get(&**r).cloned().unwrap_or_default())
                .collect(),
            loop_slots: self.loop_slots,
            limits,
            started: Instant::now(),
            ticks: 0,
            depth: 0,
        }
        .run(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
