//! The parsed template. Immutable and shareable across threads: values made while rendering
//! live in the evaluator, never here.

pub type Block = Vec<Node>;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(Box<str>),
    /// `$a.b`, `$!a`, `${a.b}`: printed; a null prints nothing.
    Ref(Reference),
    Set(Reference, Expr),
    If {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
    },
    Foreach {
        var: Slot,
        iterable: Expr,
        body: Block,
    },
    Break,
    Stop,
    /// `#define($name) ... #end`: the block is `Template::defines[index]`.
    Define {
        var: Slot,
        index: usize,
    },
    MacroCall {
        name: Box<str>,
        args: Vec<Expr>,
    },
}

/// A variable's place in the evaluator's table: every name a template uses is known when it
/// is parsed, so lookups need no hashing.
pub type Slot = u32;

#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub root: Box<str>,
    pub slot: Slot,
    pub path: Vec<Access>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Property(Box<str>),
    Method(Box<str>, Vec<Expr>),
    Index(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    /// A double-quoted string with references or directives inside.
    Interpolated(Block),
    Ref(Reference),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    pub params: Vec<Slot>,
    pub body: Block,
}
