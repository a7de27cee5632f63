//! The hash-consed DAG: a thread-local arena of [`Node`]s, each stored once,
//! and [`Expr`], a small copyable id into it.
//!
//! Every node is built through the canonicalising constructors of
//! [`simplify`](super::simplify), so two formulas that mean the same thing
//! after canonicalisation are the same id: equality and hashing are O(1).
//! Dropping a handle is free (so dropping even a 100,000-deep formula never
//! recurses); nodes live until [`collect`] frees those that no [`Formula`]
//! reaches, or until their thread ends.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};

use rustc_hash::FxHasher;

use super::num::Num;
use crate::ops::{BinaryOp, UnaryOp};

/// Fast hashing for node ids and nodes (keys are not attacker-chosen sizes).
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A named mathematical constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constant {
    /// π, written `pi`.
    Pi,
    /// Euler's number e, written `e`.
    E,
}

impl Constant {
    /// The value.
    pub fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
        }
    }
    /// The name in the grammar.
    pub fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::E => "e",
        }
    }
}

/// One node of a formula, in canonical form.
///
/// Invariants kept by the constructors: `Add` has ≥ 2 terms, no nested `Add`,
/// at most one number (last), like terms collected, terms sorted; `Mul` has
/// ≥ 2 factors, no nested `Mul`, at most one number (first, never 1), powers
/// of one base collected, factors sorted; `Unary` never holds `Neg`, `Powi` or
/// `Sqrt` (they are `-1·x`, `x^n` and `x^(1/2)`); `Binary` only holds
/// `Atan2`, `Max` and `Min` (the others are `Add`, `Mul` and `Pow`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// An exact rational or an f64 constant.
    Num(Num),
    /// π or e.
    Const(Constant),
    /// A variable.
    Sym(Rc<str>),
    /// A sum of two or more terms (shared, so copying a node is cheap).
    Add(Rc<[Expr]>),
    /// A product of two or more factors.
    Mul(Rc<[Expr]>),
    /// `[base, exponent]`.
    Pow([Expr; 2]),
    /// A named function of one argument.
    Unary(UnaryOp, Expr),
    /// `atan2`, `max` or `min` with its two arguments.
    Binary(BinaryOp, [Expr; 2]),
}

impl Node {
    /// The children, in order.
    pub fn children(&self) -> &[Expr] {
        match self {
            Node::Num(_) | Node::Const(_) | Node::Sym(_) => &[],
            Node::Add(xs) | Node::Mul(xs) => xs,
            Node::Pow(ab) | Node::Binary(_, ab) => ab,
            Node::Unary(_, a) => std::slice::from_ref(a),
        }
    }
}

/// A formula: a cheap, copyable handle to a hash-consed node of this
/// thread's arena. Equality and hashing compare node identity, which after
/// canonicalisation is structural equality.
///
/// `Expr` is neither `Send` nor `Sync`: its nodes live in a thread-local
/// arena. To move a formula between threads, print it and parse it there.
///
/// A handle also records which arena it belongs to (the arena's
/// generation): one kept past [`collect`] or [`with_fresh_arena`] is never
/// read as another formula. [`Expr::is_live`] tells; evaluation,
/// `try_diff_n` and `compile` return `Error::StaleFormula`; printing gives
/// `<formula of a freed arena>`; the infallible algorithms panic with a
/// message that says what happened. Keep a formula that must outlive a
/// collection as a [`Formula`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Expr {
    pub(crate) id: u32,
    /// The generation of the arena the node lives in.
    generation: u32,
    _not_send: PhantomData<*const ()>,
}

/// Hashes the id only: handles of one arena (the only ones a map or a node
/// holds together) differ by id, so hashing the generation too would only
/// double the work of hashing every node's children.
impl std::hash::Hash for Expr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u32(self.id);
    }
}

/// Bytes of a node's sort signature that ordering looks at.
const SIG_LEN: usize = 48;

/// "No node" in the hash chains.
const NO_NODE: u32 = u32::MAX;

/// The nodes, each stored once: `index` maps a node's hash to the newest
/// node with that hash, and `next` chains the older ones (so a node is not
/// stored a second time as a hash-map key).
/// Signatures (see [`Arena::signature`]) live in one byte buffer, each a
/// span of it, so that interning a node allocates nothing for its signature.
struct Arena {
    /// Distinct for every arena made on this thread (see [`Expr`]).
    generation: u32,
    nodes: Vec<Node>,
    sig_bytes: Vec<u8>,
    sig_spans: Vec<(u32, u32)>,
    index: FxMap<u64, u32>,
    next: Vec<u32>,
}

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena::with_small_numbers());
    /// The generation of the arena in `ARENA` (a copy, so that making a
    /// handle of a small number does not borrow the arena).
    static GENERATION: Cell<u32> = const { Cell::new(0) };
    /// The last generation given out on this thread.
    static LAST_GENERATION: Cell<u32> = const { Cell::new(0) };
}

/// A generation not used before on this thread.
fn next_generation() -> u32 {
    LAST_GENERATION.with(|g| {
        let v = g.get().wrapping_add(1);
        g.set(v);
        v
    })
}

/// Installs `arena` as this thread's, returning the previous one.
fn swap_arena(arena: Arena) -> Arena {
    GENERATION.with(|g| g.set(arena.generation));
    ARENA.with(|a| std::mem::replace(&mut *a.borrow_mut(), arena))
}

/// The panic for a handle whose arena is gone.
#[cold]
#[inline(never)]
fn stale(e: Expr, current: u32) -> ! {
    panic!(
        "symbolic: this formula (Expr of arena generation {}) belongs to a formula arena that \
         is gone (replaced by with_fresh_arena, current generation {current}); a formula cannot \
         outlive its arena: keep it as text, numbers or a compiled Program",
        e.generation
    )
}

/// Puts the previous arena back when [`with_fresh_arena`] ends (also on a panic).
struct Restore(Option<Arena>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(old) = self.0.take() {
            swap_arena(old);
        }
    }
}

/// Runs `f` with a fresh, empty formula arena on this thread and puts the
/// previous arena back afterwards (the fresh one and all its nodes are
/// freed).
///
/// This is how to build formulas from scratch more than once, for example
/// to time their construction honestly: inside `f` nothing is already
/// interned, as in the first call on a new thread. It is also how a
/// long-running thread lets go of formulas it no longer needs.
///
/// `f` and its result must be `Send`, and [`Expr`] is not: no formula can
/// be carried into `f` or out of it, so no handle can outlive its arena.
/// (Formulas stored by `f` in a thread-local of its own would; they would
/// then refer to nodes of the restored arena, so do not do that.) Return
/// what a formula is worth outside as text, numbers or a compiled
/// [`Program`](super::Program).
///
/// ```
/// use chainrule::symbolic::{with_fresh_arena, Expr};
/// use chainrule::Real;
/// let text = with_fresh_arena(|| Expr::var("x").sin().diff("x").to_string());
/// assert_eq!(text, "cos(x)");
/// ```
pub fn with_fresh_arena<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    // Room for a few thousand nodes up front: a fresh arena is for real work.
    let fresh = Arena::with_capacity(4096);
    let old = swap_arena(fresh);
    let _restore = Restore(Some(old));
    f()
}

/// The number of nodes in this thread's arena (a measure of the work done
/// building formulas, for budgets).
pub(crate) fn arena_len() -> usize {
    ARENA.with(|a| a.borrow().nodes.len())
}

thread_local! {
    /// Every [`Formula`] made on this thread (dead ones are pruned): the
    /// roots of [`collect`].
    static ROOTS: RefCell<Vec<Weak<Cell<Expr>>>> = const { RefCell::new(Vec::new()) };
    /// Nodes kept by the last collection (the arena is collected again by
    /// [`collect_if_grown`] once it has doubled since).
    static KEPT: Cell<usize> = const { Cell::new(0) };
}

/// Below this many nodes [`collect_if_grown`] never collects (a few MB).
const COLLECT_FLOOR: usize = 1 << 16;

/// An owned formula: a handle that keeps its nodes alive across
/// [`collect`], which frees every node no `Formula` reaches and moves the
/// rest (the handle follows). A long-running session (the Python binding,
/// a server) keeps its formulas as `Formula`s and calls [`collect_if_grown`]
/// between requests: memory then stays proportional to what it keeps, not
/// to everything it ever built.
///
/// A plain [`Expr`] is a borrowed view, valid until the next collection
/// (or the end of [`with_fresh_arena`]); one used after that is refused
/// ([`Expr::is_live`] says so, evaluation returns
/// [`Error::StaleFormula`](crate::Error::StaleFormula)), never read as
/// another formula.
///
/// ```
/// use chainrule::symbolic::{collect, parse, Formula};
/// let kept = Formula::new(parse("sin(x)*x").unwrap().diff("x"));
/// for k in 0..100 {
///     parse(&format!("x^{k}*exp(x)")).unwrap().diff("x"); // garbage
/// }
/// assert!(collect() > 0);
/// assert_eq!(kept.to_string(), "x*cos(x) + sin(x)");
/// ```
#[derive(Clone)]
pub struct Formula {
    slot: Rc<Cell<Expr>>,
}

impl Formula {
    /// Keeps `e` (and everything below it) alive across collections.
    ///
    /// # Panics
    /// If `e` is stale (see [`Expr::is_live`]).
    pub fn new(e: Expr) -> Formula {
        assert!(
            e.is_live(),
            "symbolic: Formula::new of a formula whose arena is gone"
        );
        let slot = Rc::new(Cell::new(e));
        ROOTS.with(|r| {
            let mut r = r.borrow_mut();
            // Prune the dead now and then, so that the list stays
            // proportional to the live formulas.
            if r.len() >= 64 && r.len().is_power_of_two() {
                r.retain(|w| w.strong_count() > 0);
            }
            r.push(Rc::downgrade(&slot));
        });
        Formula { slot }
    }

    /// The formula, as a handle valid until the next collection.
    pub fn expr(&self) -> Expr {
        self.slot.get()
    }
}

impl PartialEq for Formula {
    fn eq(&self, other: &Formula) -> bool {
        self.expr() == other.expr()
    }
}

impl std::fmt::Display for Formula {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.expr(), f)
    }
}

impl std::fmt::Debug for Formula {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Formula({})", self.expr())
    }
}

/// Frees every node of this thread's arena that no live [`Formula`]
/// reaches, and returns how many were freed. The survivors move to a new
/// arena (in their old order, so canonical forms do not change) and every
/// `Formula` follows them; every plain [`Expr`] made before becomes stale.
/// Call it where no plain `Expr` is in use (between requests, after a
/// training step, from the Python binding after wrapping its results).
pub fn collect() -> usize {
    let roots: Vec<Rc<Cell<Expr>>> = ROOTS.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|w| w.strong_count() > 0);
        r.iter().filter_map(Weak::upgrade).collect()
    });
    let fresh = ARENA.with(|a| {
        let old = a.borrow();
        // Formulas of another arena (one swapped out by with_fresh_arena)
        // are left alone.
        let mine: Vec<&Rc<Cell<Expr>>> = roots
            .iter()
            .filter(|s| s.get().generation == old.generation)
            .collect();
        let mut keep = vec![false; old.nodes.len()];
        let mut stack: Vec<u32> = mine.iter().map(|s| s.get().id).collect();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut keep[id as usize], true) {
                continue;
            }
            stack.extend(old.nodes[id as usize].children().iter().map(|c| c.id));
        }
        let live = keep.iter().filter(|&&k| k).count();
        let mut new = Arena::with_capacity(live + 3);
        let mut map = vec![NO_NODE; old.nodes.len()];
        for id in [ZERO_ID, ONE_ID, MINUS_ONE_ID] {
            map[id as usize] = id;
        }
        // Ascending ids: children before parents, and the order of ids
        // (the last tie-break of canonical order) is kept.
        for (id, _) in keep.iter().enumerate().filter(|(_, &k)| k) {
            if map[id] != NO_NODE {
                continue;
            }
            let node = remap(&old.nodes[id], |c| Expr::in_arena(&new, map[c.id as usize]));
            map[id] = new.insert(node);
        }
        for s in &mine {
            s.set(Expr::in_arena(&new, map[s.get().id as usize]));
        }
        (old.nodes.len(), new)
    });
    let (before, new) = fresh;
    let after = new.nodes.len();
    KEPT.with(|k| k.set(after));
    // The old arena is dropped here, outside the borrow.
    drop(swap_arena(new));
    before - after
}

/// [`collect`] if the arena holds more than 65,536 nodes and has doubled
/// since the last collection (so the cost of collecting is proportional to
/// the work done building formulas). Returns whether it collected.
pub fn collect_if_grown() -> bool {
    let len = arena_len();
    if len > COLLECT_FLOOR && len > 2 * KEPT.with(Cell::get) {
        collect();
        true
    } else {
        false
    }
}

/// `node` with each child replaced by `f(child)`.
fn remap(node: &Node, f: impl Fn(Expr) -> Expr) -> Node {
    match node {
        Node::Num(_) | Node::Const(_) | Node::Sym(_) => node.clone(),
        Node::Add(xs) => Node::Add(xs.iter().map(|&c| f(c)).collect()),
        Node::Mul(xs) => Node::Mul(xs.iter().map(|&c| f(c)).collect()),
        Node::Pow([a, b]) => Node::Pow([f(*a), f(*b)]),
        Node::Unary(op, a) => Node::Unary(*op, f(*a)),
        Node::Binary(op, [a, b]) => Node::Binary(*op, [f(*a), f(*b)]),
    }
}

/// Ids of the numbers every formula needs, interned first.
pub(crate) const ZERO_ID: u32 = 0;
pub(crate) const ONE_ID: u32 = 1;
pub(crate) const MINUS_ONE_ID: u32 = 2;

impl Arena {
    fn with_small_numbers() -> Arena {
        // The thread's first arena: generation 0 (GENERATION's initial value).
        let mut a = Arena::with_capacity(0);
        a.generation = 0;
        a
    }

    /// Panics unless `e` is a handle of this arena.
    #[inline]
    fn check(&self, e: Expr) {
        if e.generation != self.generation {
            stale(e, self.generation);
        }
    }

    /// An arena with room for `nodes` nodes before it grows.
    fn with_capacity(nodes: usize) -> Arena {
        let mut a = Arena {
            generation: next_generation(),
            nodes: Vec::with_capacity(nodes),
            sig_bytes: Vec::with_capacity(nodes * 16),
            sig_spans: Vec::with_capacity(nodes),
            index: FxMap::with_capacity_and_hasher(nodes, Default::default()),
            next: Vec::with_capacity(nodes),
        };
        for n in [Num::ZERO, Num::ONE, Num::MINUS_ONE] {
            a.insert(Node::Num(n));
        }
        a
    }

    fn hash(node: &Node) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<FxHasher>::default().hash_one(node)
    }

    /// The id of `node` if it is stored (`hash` is its hash).
    fn find(&self, node: &Node, hash: u64) -> Option<u32> {
        let mut id = *self.index.get(&hash)?;
        while id != NO_NODE {
            if self.nodes[id as usize] == *node {
                return Some(id);
            }
            id = self.next[id as usize];
        }
        None
    }

    /// Stores `node` (not yet stored) and returns its id.
    fn insert_hashed(&mut self, node: Node, hash: u64) -> u32 {
        let id = u32::try_from(self.nodes.len()).expect("more than 2^32 formula nodes");
        self.push_signature(&node);
        self.nodes.push(node);
        let older = self.index.insert(hash, id).unwrap_or(NO_NODE);
        self.next.push(older);
        id
    }

    fn insert(&mut self, node: Node) -> u32 {
        let hash = Arena::hash(&node);
        self.insert_hashed(node, hash)
    }

    /// The signature of node `id`: the first bytes of its text, used to
    /// order bases deterministically.
    fn sig(&self, id: u32) -> &[u8] {
        let (start, len) = self.sig_spans[id as usize];
        &self.sig_bytes[start as usize..(start + len) as usize]
    }

    /// Appends `node`'s signature (at most `SIG_LEN` bytes of its text,
    /// built from its children's) to the buffer and records its span.
    fn push_signature(&mut self, node: &Node) {
        use std::io::Write;
        let start = self.sig_bytes.len();
        let child = |a: &mut Arena, e: &Expr| {
            let (s, l) = a.sig_spans[e.id as usize];
            a.sig_bytes.extend_from_within(s as usize..(s + l) as usize);
        };
        let text = |a: &mut Arena, t: &str| a.sig_bytes.extend_from_slice(t.as_bytes());
        match node {
            Node::Num(n) => {
                // Writing into a Vec cannot fail.
                let _ = write!(self.sig_bytes, "{n}");
            }
            Node::Const(c) => text(self, c.name()),
            Node::Sym(name) => text(self, name),
            Node::Add(xs) | Node::Mul(xs) => {
                let sep = if matches!(node, Node::Add(_)) {
                    "+"
                } else {
                    "*"
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        text(self, sep);
                    }
                    child(self, x);
                    if self.sig_bytes.len() - start > SIG_LEN {
                        break;
                    }
                }
            }
            Node::Pow([a, b]) => {
                child(self, a);
                text(self, "^");
                child(self, b);
            }
            Node::Unary(op, a) => {
                text(self, op.name());
                text(self, "(");
                if let UnaryOp::SphJ(n) = op {
                    let _ = write!(self.sig_bytes, "{n},");
                }
                child(self, a);
                text(self, ")");
            }
            Node::Binary(op, [a, b]) => {
                text(self, op.name());
                text(self, "(");
                child(self, a);
                text(self, ",");
                child(self, b);
                text(self, ")");
            }
        }
        // Truncate at a character boundary (continuation bytes are 10xxxxxx).
        let mut end = self.sig_bytes.len().min(start + SIG_LEN);
        while end < self.sig_bytes.len() && end > start && self.sig_bytes[end] & 0xC0 == 0x80 {
            end -= 1;
        }
        self.sig_bytes.truncate(end);
        self.sig_spans.push((start as u32, (end - start) as u32));
    }
}

impl Expr {
    fn from_id(id: u32) -> Expr {
        Expr {
            id,
            generation: GENERATION.with(Cell::get),
            _not_send: PhantomData,
        }
    }

    /// A handle of node `id` of `arena`.
    fn in_arena(arena: &Arena, id: u32) -> Expr {
        Expr {
            id,
            generation: arena.generation,
            _not_send: PhantomData,
        }
    }

    /// 0.
    pub(crate) fn zero() -> Expr {
        Expr::from_id(ZERO_ID)
    }
    /// 1.
    pub(crate) fn one() -> Expr {
        Expr::from_id(ONE_ID)
    }
    /// −1.
    pub(crate) fn minus_one() -> Expr {
        Expr::from_id(MINUS_ONE_ID)
    }

    /// Stores `node` (already canonical) once and returns its handle.
    pub(crate) fn intern(node: Node) -> Expr {
        ARENA.with(|a| {
            let mut a = a.borrow_mut();
            for &c in node.children() {
                a.check(c);
            }
            let hash = Arena::hash(&node);
            let id = match a.find(&node, hash) {
                Some(id) => id,
                None => a.insert_hashed(node, hash),
            };
            Expr::in_arena(&a, id)
        })
    }

    /// The handle of `node` if it has been built before (never builds it).
    pub(crate) fn find(node: &Node) -> Option<Expr> {
        ARENA.with(|a| {
            let a = a.borrow();
            a.find(node, Arena::hash(node))
                .map(|id| Expr::in_arena(&a, id))
        })
    }

    /// Whether this handle's arena is this thread's current one: `false`
    /// for a handle kept past [`collect`] or [`with_fresh_arena`], which
    /// every use refuses.
    pub fn is_live(&self) -> bool {
        self.generation == GENERATION.with(Cell::get)
    }

    /// `Err(`[`Error::StaleFormula`](crate::Error::StaleFormula)`)` unless
    /// [`is_live`](Expr::is_live).
    pub fn check_live(&self) -> crate::Result<()> {
        if self.is_live() {
            Ok(())
        } else {
            Err(crate::Error::StaleFormula)
        }
    }

    /// Runs `f` on this node without cloning it. `f` must not build nodes.
    pub(crate) fn with<R>(self, f: impl FnOnce(&Node) -> R) -> R {
        ARENA.with(|a| {
            let a = a.borrow();
            a.check(self);
            f(&a.nodes[self.id as usize])
        })
    }

    /// A copy of this node (children are handles, so this is shallow).
    pub fn node(&self) -> Node {
        self.with(Node::clone)
    }

    /// The children of this node, in order.
    pub fn children(&self) -> Vec<Expr> {
        self.with(|n| n.children().to_vec())
    }

    /// The number, if this is one.
    pub fn as_num(&self) -> Option<Num> {
        self.with(|n| match n {
            Node::Num(x) => Some(*x),
            _ => None,
        })
    }

    /// Whether this is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.id == ZERO_ID
    }

    /// Whether this is exactly one.
    pub fn is_one(&self) -> bool {
        self.id == ONE_ID
    }

    /// The arena id (stable within a thread; used for memo tables).
    pub(crate) fn index(self) -> usize {
        self.id as usize
    }

    /// Sort rank of the node's kind: numbers, constants, symbols, the rest.
    fn rank(n: &Node) -> u8 {
        match n {
            Node::Num(_) => 0,
            Node::Const(_) => 1,
            Node::Sym(_) => 2,
            _ => 3,
        }
    }

    /// The deterministic total order on bases used to sort factors of a
    /// product and terms of a sum: numbers, then constants, then variables
    /// (natural order: x2 < x10), then everything else by its signature.
    pub(crate) fn cmp_base(self, other: Expr) -> Ordering {
        if self == other {
            return Ordering::Equal;
        }
        ARENA.with(|a| {
            let a = a.borrow();
            a.check(self);
            a.check(other);
            let (na, nb) = (&a.nodes[self.index()], &a.nodes[other.index()]);
            let by_kind = Expr::rank(na).cmp(&Expr::rank(nb));
            if by_kind != Ordering::Equal {
                return by_kind;
            }
            if let (Node::Num(x), Node::Num(y)) = (na, nb) {
                let o = x.cmp_value(*y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            natural_cmp(a.sig(self.id), a.sig(other.id)).then_with(|| self.id.cmp(&other.id))
        })
    }
}

/// Compares strings with runs of digits compared as numbers (x2 < x10).
pub(crate) fn natural_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (da, db) = (&a[si..i], &b[sj..j]);
            let (ta, tb) = (trim_zeros(da), trim_zeros(db));
            let o = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            let o = a[i].cmp(&b[j]);
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j)).then_with(|| a.cmp(b))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().take_while(|&&c| c == b'0').count();
    &d[k.min(d.len().saturating_sub(1))..]
}

/// The distinct nodes reachable from `roots`, children before parents, each
/// once (an iterative post-order walk of the DAG).
pub(crate) fn topo(roots: &[Expr]) -> Vec<Expr> {
    let mut seen: FxMap<u32, ()> = FxMap::default();
    let mut order = Vec::new();
    let mut stack: Vec<(Expr, bool)> = Vec::new();
    ARENA.with(|a| {
        let a = a.borrow();
        for &r in roots.iter().rev() {
            stack.push((r, false));
        }
        while let Some((e, expanded)) = stack.pop() {
            if expanded {
                order.push(e);
                continue;
            }
            a.check(e);
            if seen.insert(e.id, ()).is_some() {
                continue;
            }
            stack.push((e, true));
            for &c in a.nodes[e.index()].children().iter().rev() {
                if !seen.contains_key(&c.id) {
                    stack.push((c, false));
                }
            }
        }
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp(b"x2", b"x10"), Ordering::Less);
        assert_eq!(natural_cmp(b"x1", b"x2"), Ordering::Less);
        assert_eq!(natural_cmp(b"x", b"x1"), Ordering::Less);
        assert_eq!(natural_cmp(b"a", b"b"), Ordering::Less);
        assert_ne!(natural_cmp(b"x01", b"x1"), Ordering::Equal);
    }

    #[test]
    fn a_handle_kept_past_its_arena_is_refused_not_misread() {
        thread_local! {
            static KEPT: Cell<Option<Expr>> = const { Cell::new(None) };
        }
        let outer = Expr::intern(Node::Sym("outer".into()));
        super::with_fresh_arena(|| {
            let z = Expr::intern(Node::Sym("z".into()));
            let e = Expr::intern(Node::Unary(UnaryOp::Exp, z));
            KEPT.with(|k| k.set(Some(e)));
        });
        let kept = KEPT.with(Cell::get).expect("kept");
        // Fill the restored arena so that the stale id is a valid index.
        for i in 0..100 {
            Expr::intern(Node::Sym(format!("v{i}").into()));
        }
        let read = std::panic::catch_unwind(|| kept.node());
        let msg = read.expect_err("a stale handle panics");
        let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("arena that is gone"), "{msg}");
        // The thread's own formulas still read.
        assert_eq!(outer.node(), Node::Sym("outer".into()));
        // Inside another fresh arena, an outer handle is refused too.
        let refused = super::with_fresh_arena(|| {
            let kept = KEPT.with(Cell::get).expect("kept");
            std::panic::catch_unwind(|| Expr::intern(Node::Unary(UnaryOp::Sin, kept))).is_err()
        });
        assert!(refused);
    }

    #[test]
    fn interning_shares_nodes() {
        let x = Expr::intern(Node::Sym("x".into()));
        let y = Expr::intern(Node::Sym("x".into()));
        assert_eq!(x, y);
        let s1 = Expr::intern(Node::Unary(UnaryOp::Sin, x));
        let s2 = Expr::intern(Node::Unary(UnaryOp::Sin, y));
        assert_eq!(s1, s2);
        assert_eq!(topo(&[s1, s2]).len(), 2);
    }
}
