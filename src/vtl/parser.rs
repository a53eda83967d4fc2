//! Template text → AST, in one pass over the source (Velocity's grammar changes with context,
//! so lexing and parsing go together). Lines holding only a directive vanish whole, indentation
//! and newline included (Velocity's "lines" whitespace mode), so templates can be indented
//! without leaking whitespace into the output.

use std::collections::HashMap;

use super::Error;
use super::ast::{Access, BinOp, Block, Expr, Macro, Node, Reference};

/// Deeper nesting than this (blocks, parentheses, literals) is refused.
pub const MAX_DEPTH: usize = 64;

pub struct Parsed {
    pub body: Block,
    pub defines: Vec<Block>,
    pub macros: HashMap<Box<str>, Macro>,
    /// The variables the template reads or writes, by root name (`input`, `context`, ...).
    pub roots: Vec<Box<str>>,
}

pub fn parse(src: &str) -> Result<Parsed, Error> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        depth: 0,
        defines: Vec::new(),
        macros: HashMap::new(),
        roots: Vec::new(),
    };
    let (body, end) = p.block()?;
    match end {
        Closer::Eof => Ok(Parsed {
            body,
            defines: p.defines,
            macros: p.macros,
            roots: p.roots,
        }),
        other => Err(p.error(&format!("#{} without a matching #if or #foreach", other.word()))),
    }
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    depth: usize,
    defines: Vec<Block>,
    macros: HashMap<Box<str>, Macro>,
    roots: Vec<Box<str>>,
}

/// How a block ended.
enum Closer {
    Eof,
    End,
    Else,
    ElseIf(Expr),
}

impl Closer {
    fn word(&self) -> &'static str {
        match self {
            Closer::Eof => "eof",
            Closer::End => "end",
            Closer::Else => "else",
            Closer::ElseIf(_) => "elseif",
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'s> Parser<'s> {
    fn error(&self, msg: &str) -> Error {
        let before = &self.src[..self.pos.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Error::Parse(format!("{msg} at line {line}, column {column}"))
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("the template nests too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A block of nodes up to `#end`, `#else`, `#elseif(...)` or the end of the text.
    fn block(&mut self) -> Result<(Block, Closer), Error> {
        self.enter()?;
        let mut nodes = Vec::new();
        let mut text = String::new();
        let end = loop {
            let Some(c) = self.peek() else {
                break Closer::Eof;
            };
            match c {
                b'\\' => self.backslashes(&mut text),
                b'$' => match self.reference()? {
                    Some(r) => {
                        flush(&mut text, &mut nodes);
                        nodes.push(Node::Ref(r));
                    }
                    None => {
                        text.push('$');
                        self.pos += 1;
                    }
                },
                b'#' => {
                    if let Some(end) = self.directive(&mut text, &mut nodes)? {
                        break end;
                    }
                }
                _ => {
                    let start = self.pos;
                    while self.peek().is_some_and(|c| !matches!(c, b'\\' | b'$' | b'#')) {
                        self.pos += 1;
                    }
                    text.push_str(&self.src[start..self.pos]);
                }
            }
        };
        flush(&mut text, &mut nodes);
        self.leave();
        Ok((nodes, end))
    }

    /// `\$x` and `\#x` are literal; `\\` before them is one backslash.
    fn backslashes(&mut self, text: &mut String) {
        let start = self.pos;
        while self.peek() == Some(b'\\') {
            self.pos += 1;
        }
        let n = self.pos - start;
        match self.peek() {
            Some(c @ (b'$' | b'#')) => {
                text.extend(std::iter::repeat_n('\\', n / 2));
                if n % 2 == 1 {
                    text.push(c as char);
                    self.pos += 1;
                    // The escaped reference or directive name stays text.
                    while self.peek().is_some_and(|c| is_ident(c) || c == b'!' || c == b'{') {
                        text.push(self.b[self.pos] as char);
                        self.pos += 1;
                    }
                }
            }
            _ => text.extend(std::iter::repeat_n('\\', n)),
        }
    }

    /// A reference at `$`, or `None` (and nothing consumed) when the `$` is plain text.
    fn reference(&mut self) -> Result<Option<Reference>, Error> {
        let start = self.pos;
        self.pos += 1;
        if self.peek() == Some(b'!') {
            self.pos += 1;
        }
        let formal = self.peek() == Some(b'{');
        if formal {
            self.pos += 1;
        }
        let Some(root) = self.ident() else {
            self.pos = start;
            return Ok(None);
        };
        let slot = match self.roots.iter().position(|r| &**r == root) {
            Some(i) => i,
            None => {
                self.roots.push(root.into());
                self.roots.len() - 1
            }
        } as u32;
        let path = self.accessors()?;
        if formal {
            if self.peek() != Some(b'}') {
                self.pos = start;
                return Ok(None);
            }
            self.pos += 1;
        }
        Ok(Some(Reference {
            root: root.into(),
            slot,
            path,
        }))
    }

    fn ident(&mut self) -> Option<&'s str> {
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let start = self.pos;
        // As in Velocity 1.7, a `-` between identifier characters belongs to the name
        // (`$context.requestOverride.header.X-Tenant`).
        while self.peek().is_some_and(is_ident)
            || (self.peek() == Some(b'-') && self.peek_at(1).is_some_and(is_ident))
        {
            self.pos += 1;
        }
        Some(&self.src[start..self.pos])
    }

    /// `.name`, `.name(args)` and `[index]` after a reference's root.
    fn accessors(&mut self) -> Result<Vec<Access>, Error> {
        let mut path = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') if self.peek_at(1).is_some_and(is_ident_start) => {
                    self.pos += 1;
                    let name: Box<str> = self.ident().unwrap_or_default().into();
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        let args = self.call_args()?;
                        path.push(Access::Method(name, args));
                    } else {
                        path.push(Access::Property(name));
                    }
                }
                Some(b'[') => {
                    let save = self.pos;
                    self.pos += 1;
                    self.skip_ws();
                    let index = match self.expr() {
                        Ok(e) => e,
                        Err(_) => {
                            self.pos = save;
                            break;
                        }
                    };
                    self.skip_ws();
                    if self.peek() != Some(b']') {
                        self.pos = save;
                        break;
                    }
                    self.pos += 1;
                    path.push(Access::Index(index));
                }
                _ => break,
            }
        }
        Ok(path)
    }

    /// Arguments after `(` up to `)`, separated by commas.
    fn call_args(&mut self) -> Result<Vec<Expr>, Error> {
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            self.skip_ws();
            args.push(self.expr()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return Err(self.error("expected ',' or ')' in a method call")),
            }
        }
    }

    /// At `#`: a comment, a directive, or plain text. Returns how the block ends when the
    /// directive closes it.
    fn directive(&mut self, text: &mut String, nodes: &mut Block) -> Result<Option<Closer>, Error> {
        let start = self.pos;
        if self.starts_with("##") {
            while self.peek().is_some_and(|c| c != b'\n') {
                self.pos += 1;
            }
            self.pos = (self.pos + 1).min(self.b.len());
            if at_line_start(self.b, start) {
                trim_indent(text);
            }
            return Ok(None);
        }
        if self.starts_with("#*") {
            let Some(len) = self.src[self.pos + 2..].find("*#") else {
                return Err(self.error("unterminated #* comment"));
            };
            self.pos += len + 4;
            self.gobble(start, text);
            return Ok(None);
        }
        if self.starts_with("#[[") {
            let Some(len) = self.src[self.pos + 3..].find("]]#") else {
                return Err(self.error("unterminated #[[ block"));
            };
            text.push_str(&self.src[self.pos + 3..self.pos + 3 + len]);
            self.pos += len + 6;
            return Ok(None);
        }
        self.pos += 1;
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let Some(name) = self.ident() else {
            self.pos = start + 1;
            text.push('#');
            return Ok(None);
        };
        if braced {
            if self.peek() != Some(b'}') {
                self.pos = start + 1;
                text.push('#');
                return Ok(None);
            }
            self.pos += 1;
        }
        match name {
            "end" => {
                self.gobble(start, text);
                Ok(Some(Closer::End))
            }
            "else" => {
                self.gobble(start, text);
                Ok(Some(Closer::Else))
            }
            "elseif" => {
                let cond = self.paren_expr()?;
                self.gobble(start, text);
                Ok(Some(Closer::ElseIf(cond)))
            }
            "set" => {
                self.open_paren()?;
                self.skip_ws();
                if self.peek() != Some(b'$') {
                    return Err(self.error("#set needs a reference to assign to"));
                }
                let Some(target) = self.reference()? else {
                    return Err(self.error("#set needs a reference to assign to"));
                };
                self.skip_ws();
                if self.peek() != Some(b'=') {
                    return Err(self.error("expected '=' in #set"));
                }
                self.pos += 1;
                self.skip_ws();
                let value = self.expr()?;
                self.close_paren()?;
                self.gobble(start, text);
                flush(text, nodes);
                nodes.push(Node::Set(target, value));
                Ok(None)
            }
            "if" => {
                let cond = self.paren_expr()?;
                self.gobble(start, text);
                flush(text, nodes);
                let mut branches = Vec::new();
                let mut cond = cond;
                let otherwise = loop {
                    let (body, end) = self.block()?;
                    branches.push((cond, body));
                    match end {
                        Closer::End => break None,
                        Closer::ElseIf(c) => cond = c,
                        Closer::Else => {
                            let (body, end) = self.block()?;
                            if !matches!(end, Closer::End) {
                                return Err(self.error("#else without #end"));
                            }
                            break Some(body);
                        }
                        Closer::Eof => return Err(self.error("#if without #end")),
                    }
                };
                nodes.push(Node::If { branches, otherwise });
                Ok(None)
            }
            "foreach" => {
                self.open_paren()?;
                self.skip_ws();
                let var = match self.reference()? {
                    Some(r) if r.path.is_empty() => r.slot,
                    _ => return Err(self.error("#foreach needs a loop variable")),
                };
                self.skip_ws();
                if !self.starts_with("in") || self.peek_at(2).is_some_and(is_ident) {
                    return Err(self.error("expected 'in' in #foreach"));
                }
                self.pos += 2;
                self.skip_ws();
                let iterable = self.expr()?;
                self.close_paren()?;
                self.gobble(start, text);
                flush(text, nodes);
                let (body, end) = self.block()?;
                if !matches!(end, Closer::End) {
                    return Err(self.error("#foreach without #end"));
                }
                nodes.push(Node::Foreach { var, iterable, body });
                Ok(None)
            }
            "break" | "stop" => {
                // `#break($foreach)` names the loop; only the innermost one is supported.
                let save = self.pos;
                self.skip_inline_ws();
                if self.peek() == Some(b'(') {
                    let _ = self.paren_expr()?;
                } else {
                    self.pos = save;
                }
                self.gobble(start, text);
                flush(text, nodes);
                nodes.push(if name == "break" { Node::Break } else { Node::Stop });
                Ok(None)
            }
            "define" => {
                self.open_paren()?;
                self.skip_ws();
                let var = match self.reference()? {
                    Some(r) if r.path.is_empty() => r.slot,
                    _ => return Err(self.error("#define needs a reference")),
                };
                self.close_paren()?;
                self.gobble(start, text);
                flush(text, nodes);
                let (body, end) = self.block()?;
                if !matches!(end, Closer::End) {
                    return Err(self.error("#define without #end"));
                }
                self.defines.push(body);
                nodes.push(Node::Define {
                    var,
                    index: self.defines.len() - 1,
                });
                Ok(None)
            }
            "macro" => {
                self.open_paren()?;
                self.skip_ws();
                let Some(macro_name) = self.ident() else {
                    return Err(self.error("#macro needs a name"));
                };
                let macro_name: Box<str> = macro_name.into();
                let mut params = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b'$') => match self.reference()? {
                            Some(r) if r.path.is_empty() => params.push(r.slot),
                            _ => return Err(self.error("bad #macro parameter")),
                        },
                        _ => return Err(self.error("bad #macro parameter")),
                    }
                }
                self.gobble(start, text);
                // Known before its body is parsed, so the body may call it.
                self.macros.insert(
                    macro_name.clone(),
                    Macro {
                        params: params.clone(),
                        body: Vec::new(),
                    },
                );
                let (body, end) = self.block()?;
                if !matches!(end, Closer::End) {
                    return Err(self.error("#macro without #end"));
                }
                self.macros.insert(macro_name, Macro { params, body });
                Ok(None)
            }
            _ if self.macros.contains_key(name) => {
                let name: Box<str> = name.into();
                self.skip_inline_ws();
                let mut args = Vec::new();
                if self.peek() == Some(b'(') {
                    self.pos += 1;
                    loop {
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b')') => {
                                self.pos += 1;
                                break;
                            }
                            Some(_) => args.push(self.expr()?),
                            None => return Err(self.error("unterminated macro call")),
                        }
                    }
                }
                self.gobble(start, text);
                flush(text, nodes);
                nodes.push(Node::MacroCall { name, args });
                Ok(None)
            }
            _ => {
                // Not a directive: `#` and the word are text.
                text.push_str(&self.src[start..self.pos]);
                Ok(None)
            }
        }
    }

    /// Removes a line that holds only the directive that began at `start`: its indentation
    /// (already in `text`) and its newline.
    fn gobble(&mut self, start: usize, text: &mut String) {
        if !at_line_start(self.b, start) {
            return;
        }
        let mut end = self.pos;
        while matches!(self.b.get(end), Some(b' ' | b'\t' | b'\r')) {
            end += 1;
        }
        match self.b.get(end) {
            Some(b'\n') => self.pos = end + 1,
            None => self.pos = end,
            Some(_) => return,
        }
        trim_indent(text);
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn skip_inline_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn open_paren(&mut self) -> Result<(), Error> {
        self.skip_inline_ws();
        if self.peek() != Some(b'(') {
            return Err(self.error("expected '('"));
        }
        self.pos += 1;
        Ok(())
    }

    fn close_paren(&mut self) -> Result<(), Error> {
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.error("expected ')'"));
        }
        self.pos += 1;
        Ok(())
    }

    fn paren_expr(&mut self) -> Result<Expr, Error> {
        self.open_paren()?;
        self.skip_ws();
        let e = self.expr()?;
        self.close_paren()?;
        Ok(e)
    }

    // Expressions, lowest precedence first: || && ==/!= </<=/>/>= +/- * / % unary.

    fn expr(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let e = self.binary(0);
        self.leave();
        e
    }

    fn binary(&mut self, level: usize) -> Result<Expr, Error> {
        const LEVELS: usize = 5;
        if level == LEVELS {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            self.skip_ws();
            let Some((op, len)) = self.operator(level) else {
                return Ok(left);
            };
            self.pos += len;
            self.skip_ws();
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    /// The operator of precedence `level` at the cursor, and its length.
    fn operator(&self, level: usize) -> Option<(BinOp, usize)> {
        let rest = &self.b[self.pos..];
        let word =
            |w: &str| rest.starts_with(w.as_bytes()) && !rest.get(w.len()).copied().is_some_and(is_ident);
        let table: &[(&str, BinOp)] = match level {
            0 => &[("||", BinOp::Or), ("or", BinOp::Or)],
            1 => &[("&&", BinOp::And), ("and", BinOp::And)],
            2 => &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("eq", BinOp::Eq),
                ("ne", BinOp::Ne),
            ],
            3 => &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
                ("le", BinOp::Le),
                ("ge", BinOp::Ge),
                ("lt", BinOp::Lt),
                ("gt", BinOp::Gt),
            ],
            4 => &[("+", BinOp::Add), ("-", BinOp::Sub)],
            _ => &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
        };
        table
            .iter()
            .find(|(tok, _)| {
                if tok.as_bytes()[0].is_ascii_alphabetic() {
                    word(tok)
                } else {
                    rest.starts_with(tok.as_bytes())
                }
            })
            .map(|(tok, op)| (*op, tok.len()))
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        // Level 5 is multiplicative: handled here so `binary` stays table-driven.
        let mut left = self.prefix()?;
        loop {
            self.skip_ws();
            let Some((op, len)) = self.operator(5) else {
                return Ok(left);
            };
            self.pos += len;
            self.skip_ws();
            let right = self.prefix()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn prefix(&mut self) -> Result<Expr, Error> {
        self.skip_ws();
        self.enter()?;
        let rest = &self.b[self.pos..];
        let e = if rest.first() == Some(&b'!') && rest.get(1) != Some(&b'=') {
            self.pos += 1;
            Expr::Not(Box::new(self.prefix()?))
        } else if rest.starts_with(b"not") && !rest.get(3).copied().is_some_and(is_ident) {
            self.pos += 3;
            Expr::Not(Box::new(self.prefix()?))
        } else if rest.first() == Some(&b'-') && !rest.get(1).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            Expr::Neg(Box::new(self.prefix()?))
        } else {
            self.primary()?
        };
        self.leave();
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        self.skip_ws();
        match self.peek() {
            Some(b'$') => match self.reference()? {
                Some(r) => Ok(Expr::Ref(r)),
                None => Err(self.error("expected a reference after '$'")),
            },
            Some(b'\'') => Ok(Expr::Str(self.quoted(b'\'')?.into())),
            Some(b'"') => {
                let s = self.quoted(b'"')?;
                if !s.contains(['$', '#']) {
                    return Ok(Expr::Str(s.into()));
                }
                let mut inner = Parser {
                    src: &s,
                    b: s.as_bytes(),
                    pos: 0,
                    depth: self.depth,
                    defines: Vec::new(),
                    macros: std::mem::take(&mut self.macros),
                    roots: std::mem::take(&mut self.roots),
                };
                let parsed = inner.block();
                self.macros = std::mem::take(&mut inner.macros);
                self.roots = std::mem::take(&mut inner.roots);
                match parsed? {
                    (nodes, Closer::Eof) if inner.defines.is_empty() => Ok(Expr::Interpolated(nodes)),
                    _ => Err(self.error("unsupported directive inside a string")),
                }
            }
            Some(b'(') => {
                self.pos += 1;
                let e = self.expr()?;
                self.close_paren()?;
                Ok(e)
            }
            Some(b'[') => self.list(),
            Some(b'{') => self.map(),
            Some(c) if c.is_ascii_digit() || c == b'-' => self.number(),
            Some(c) if is_ident_start(c) => {
                let word = self.ident().unwrap_or_default();
                match word {
                    "true" => Ok(Expr::Bool(true)),
                    "false" => Ok(Expr::Bool(false)),
                    "null" => Ok(Expr::Null),
                    _ => Err(self.error(&format!("unexpected word '{word}' in an expression"))),
                }
            }
            Some(_) => Err(self.error("expected an expression")),
            None => Err(self.error("unexpected end of template in an expression")),
        }
    }

    /// A quoted string; a doubled quote stands for one.
    fn quoted(&mut self, quote: u8) -> Result<String, Error> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.peek().is_some_and(|c| c != quote) {
                self.pos += 1;
            }
            out.push_str(&self.src[start..self.pos]);
            if self.peek().is_none() {
                return Err(self.error("unterminated string"));
            }
            self.pos += 1;
            if self.peek() == Some(quote) {
                out.push(quote as char);
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn number(&mut self) -> Result<Expr, Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let float = self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        if float {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let raw = &self.src[start..self.pos];
        if float {
            raw.parse().map(Expr::Float).map_err(|_| self.error("bad number"))
        } else {
            raw.parse().map(Expr::Int).map_err(|_| self.error("bad number"))
        }
    }

    fn list(&mut self) -> Result<Expr, Error> {
        self.pos += 1;
        self.skip_ws();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Expr::List(items));
        }
        let first = self.expr()?;
        self.skip_ws();
        if self.starts_with("..") {
            self.pos += 2;
            self.skip_ws();
            let last = self.expr()?;
            self.skip_ws();
            if self.peek() != Some(b']') {
                return Err(self.error("expected ']' after a range"));
            }
            self.pos += 1;
            return Ok(Expr::Range(Box::new(first), Box::new(last)));
        }
        items.push(first);
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    items.push(self.expr()?);
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Expr::List(items));
                }
                _ => return Err(self.error("expected ',' or ']' in a list")),
            }
        }
    }

    fn map(&mut self) -> Result<Expr, Error> {
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Expr::Map(entries));
                }
                Some(b',') if !entries.is_empty() => self.pos += 1,
                Some(_) => {
                    let key = self.expr()?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected ':' in a map"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let value = self.expr()?;
                    entries.push((key, value));
                }
                None => return Err(self.error("unterminated map")),
            }
        }
    }
}

fn flush(text: &mut String, nodes: &mut Block) {
    if !text.is_empty() {
        nodes.push(Node::Text(std::mem::take(text).into()));
    }
}

/// Whether only spaces and tabs stand between the line's start and `pos`.
fn at_line_start(b: &[u8], pos: usize) -> bool {
    b[..pos]
        .iter()
        .rev()
        .take_while(|c| **c != b'\n')
        .all(|c| matches!(c, b' ' | b'\t'))
}

/// Drops the spaces and tabs that end `text` (a directive's indentation).
fn trim_indent(text: &mut String) {
    let kept = text.trim_end_matches([' ', '\t']).len();
    text.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(src: &str) -> Block {
        parse(src).unwrap().body
    }

    #[test]
    fn text_and_references() {
        let b = body("a $x.y b ${z}c $!q.m(1, 'two') $ 5");
        assert_eq!(b.len(), 7);
        assert!(matches!(&b[0], Node::Text(t) if &**t == "a "));
        assert!(matches!(&b[1], Node::Ref(r) if &*r.root == "x" && r.path.len() == 1));
        assert!(matches!(&b[6], Node::Text(t) if &**t == " $ 5"));
    }

    #[test]
    fn a_period_after_a_reference_is_text() {
        let b = body("Hello $name.");
        assert!(matches!(&b[2], Node::Text(t) if &**t == "."));
    }

    #[test]
    fn directive_lines_vanish() {
        let b = body("{\n  #set($a = 1)\n  \"a\": $a\n}");
        assert!(matches!(&b[0], Node::Text(t) if &**t == "{\n"));
        assert!(matches!(&b[2], Node::Text(t) if &**t == "  \"a\": "));
    }

    #[test]
    fn escapes_and_comments() {
        let b = body("\\$x \\\\$y ## gone\n#* also\ngone *#kept#[[ $raw ]]#");
        assert!(matches!(&b[0], Node::Text(t) if &**t == "$x \\"));
        assert!(matches!(&b[2], Node::Text(t) if &**t == " kept $raw "));
    }

    #[test]
    fn precedence() {
        let b = body("#set($x = 1 + 2 * 3 == 7 && !false)");
        let Node::Set(_, Expr::Binary(BinOp::And, l, _)) = &b[0] else {
            panic!("{b:?}")
        };
        assert!(matches!(**l, Expr::Binary(BinOp::Eq, _, _)));
    }

    #[test]
    fn malformed_templates_are_errors() {
        for src in [
            "#if($a)",
            "#end",
            "#set($a 1)",
            "#foreach($a $b)#end",
            "#set($a = 'x)",
            "#* open",
        ] {
            assert!(parse(src).is_err(), "{src}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "#if(true)".repeat(200) + &"#end".repeat(200);
        assert!(parse(&deep).is_err());
        let parens = format!("#set($a = {}1{})", "(".repeat(500), ")".repeat(500));
        assert!(parse(&parens).is_err());
    }
}
