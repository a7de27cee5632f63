//! Canonical form, applied as formulas are built (smart constructors).
//!
//! - Numbers fold: exact rationals stay exact (`1/2`), floats where a float
//!   is involved; values that do not exist (`1/0`, `log(0)`) stay unevaluated.
//! - Sums and products are flat and sorted; like terms are collected
//!   (`2*x + 3*x → 5*x`) and so are powers of one base (`x*x → x^2`,
//!   `x/x → 1` as in SymPy; a numeric `0/0` stays unevaluated).
//! - A number times a sum is distributed (`2*(x + 1) → 2*x + 2`), as SymPy
//!   does; an integer power of a product or of a power is distributed.
//! - Identities: `x + 0`, `1*x`, `x^1`, `x^0 = 1`, `exp(log x) → x`,
//!   `log(exp x) → x`, `exp(1) → e`, `e^x → exp(x)`, special values
//!   (`sin(0) = 0`, `cos(0) = 1`, ...), parity (`sin(-x) = -sin(x)`,
//!   `cos(-x) = cos(x)`), `c*sin(u)^2 + c*cos(u)^2 → c` and
//!   `c - c*tanh(u)^2 → c/cosh(u)^2`, `exp(a)*exp(b) → exp(a + b)`.
//! - `−x` is `-1*x`, `x − y` is `x + (-1)*y`, `x/y` is `x*y^-1`, `sqrt(x)`
//!   is `x^(1/2)`, so there is one spelling of each formula.

use std::cmp::Ordering;
use std::rc::Rc;

use super::expr::{Constant, Expr, FxMap, Node};
use super::num::{float_pow, Num};
use crate::ops::{BinaryOp, Parity, UnaryOp};

/// A number as a formula.
pub(crate) fn num(n: Num) -> Expr {
    match n {
        Num::Rat(0, 1) => Expr::zero(),
        Num::Rat(1, 1) => Expr::one(),
        Num::Rat(-1, 1) => Expr::minus_one(),
        _ => Expr::intern(Node::Num(n)),
    }
}

fn zero() -> Expr {
    Expr::zero()
}
fn one() -> Expr {
    Expr::one()
}

/// Splits a term of a sum into (numeric coefficient, the rest).
fn split_coeff(t: Expr) -> (Num, Expr) {
    let parts = t.with(|n| match n {
        Node::Num(c) => Some((*c, None)),
        Node::Mul(fs) => fs[0].as_num().map(|c| (c, Some(fs[1..].to_vec()))),
        _ => None,
    });
    match parts {
        None => (Num::ONE, t),
        Some((c, None)) => (c, one()),
        Some((c, Some(rest))) => {
            if rest.len() == 1 {
                (c, rest[0])
            } else {
                (c, Expr::intern(Node::Mul(rest.into())))
            }
        }
    }
}

/// Splits a factor of a product into (base, exponent).
fn split_pow(f: Expr) -> (Expr, Expr) {
    match f.with(|n| match n {
        Node::Pow([b, e]) => Some((*b, *e)),
        _ => None,
    }) {
        Some(be) => be,
        None => (f, one()),
    }
}

/// coefficient · rest, for a rest that has no numeric factor.
fn with_coeff(c: Num, rest: Expr) -> Expr {
    if c.is_one() {
        return rest;
    }
    if rest.is_one() {
        return num(c);
    }
    let mut fs = vec![num(c)];
    match rest.node() {
        Node::Mul(xs) => fs.extend(xs.iter().copied()),
        _ => fs.push(rest),
    }
    Expr::intern(Node::Mul(fs.into()))
}

/// Exponent order in a monomial: numbers by value, others after numbers.
fn cmp_exponent(a: Expr, b: Expr) -> Ordering {
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => x.cmp_value(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp_base(b),
    }
}

/// Appends the (base, exponent) factors of a term, without its
/// coefficient, to `out` (nothing for a number).
fn monomial_into(t: Expr, out: &mut Vec<(Expr, Expr)>) {
    let factors: Option<Rc<[Expr]>> = t.with(|n| match n {
        Node::Num(_) => Some(Rc::from([])),
        Node::Mul(fs) => Some(fs.clone()),
        _ => None,
    });
    match factors {
        None => out.push(split_pow(t)),
        Some(fs) => {
            let skip = usize::from(fs.first().is_some_and(|f| f.as_num().is_some()));
            out.extend(fs[skip..].iter().map(|&f| split_pow(f)));
        }
    }
}

/// SymPy-like order of the terms of a sum: lexicographic monomial order,
/// higher powers of the first base first, numbers last. A term is its
/// monomial (see [`monomial_into`]) and itself.
fn cmp_term(ma: &[(Expr, Expr)], ta: Expr, mb: &[(Expr, Expr)], tb: Expr) -> Ordering {
    cmp_monomial(ma, mb).then_with(|| ta.cmp_base(tb))
}

/// The monomial part of [`cmp_term`]: distinct terms of a canonical sum
/// have distinct monomials, so this alone orders them.
fn cmp_monomial(ma: &[(Expr, Expr)], mb: &[(Expr, Expr)]) -> Ordering {
    for i in 0.. {
        match (ma.get(i), mb.get(i)) {
            (None, None) => break,
            (Some(_), None) => return Ordering::Less,
            (None, Some(_)) => return Ordering::Greater,
            (Some(&(ba, ea)), Some(&(bb, eb))) => {
                let o = ba.cmp_base(bb);
                if o != Ordering::Equal {
                    return o;
                }
                let o = cmp_exponent(ea, eb).reverse();
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
    Ordering::Equal
}

/// Whether `r` is `sin(u)^2`, `cos(u)^2` or `tanh(u)^2`, the terms that
/// [`trig_identities`] combines.
fn is_trig_square(r: Expr) -> bool {
    let (b, e) = split_pow(r);
    e.as_num() == Some(Num::int(2))
        && b.with(|n| {
            matches!(
                n,
                Node::Unary(UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Tanh, _)
            )
        })
}

/// `s + t` for a canonical sum `s` and a term `t` that is not a sum, a
/// number, or a square that [`trig_identities`] reads: `s`'s terms are
/// already collected and sorted, so `t` joins its like term or is inserted
/// at its place, found by binary search, instead of every term being
/// collected and sorted again. The result is the node [`add`] builds; a sum
/// built term by term (`a + b + c + …`, a traced `reduce`) then costs
/// O(log n) comparisons per term instead of O(n) work. `None` where [`add`]
/// must decide.
fn add_term(s: Expr, t: Expr) -> Option<Expr> {
    let terms: Rc<[Expr]> = s.with(|n| match n {
        Node::Add(xs) => Some(xs.clone()),
        _ => None,
    })?;
    if t.is_zero() {
        return Some(s);
    }
    if t.with(|n| matches!(n, Node::Add(_))) {
        return None;
    }
    let (c, rest) = split_coeff(t);
    if rest.is_one() || c.is_zero() || is_trig_square(rest) {
        return None;
    }
    let t = with_coeff(c, rest);
    let n = terms.len();
    let (body, constant) = match terms[n - 1].as_num() {
        Some(_) => (&terms[..n - 1], Some(terms[n - 1])),
        None => (&terms[..], None),
    };
    let (mut mt, mut mx) = (Vec::new(), Vec::new());
    monomial_into(t, &mut mt);
    let (mut lo, mut hi, mut like) = (0, body.len(), false);
    while lo < hi {
        let mid = (lo + hi) / 2;
        mx.clear();
        monomial_into(body[mid], &mut mx);
        match cmp_monomial(&mx, &mt) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => {
                (lo, like) = (mid, true);
                break;
            }
        }
    }
    let mut out: Vec<Expr> = Vec::with_capacity(n + 1);
    out.extend_from_slice(&body[..lo]);
    if like {
        let (c0, r0) = split_coeff(body[lo]);
        if r0 != rest {
            return None;
        }
        let sum = c0.plus(c);
        if !sum.is_zero() {
            out.push(with_coeff(sum, rest));
        }
        out.extend_from_slice(&body[lo + 1..]);
    } else {
        out.push(t);
        out.extend_from_slice(&body[lo..]);
    }
    out.extend(constant);
    Some(match out.len() {
        0 => zero(),
        1 => out[0],
        _ => Expr::intern(Node::Add(out.into())),
    })
}

/// Keys in first-seen order with a value each: a linear scan while small,
/// a hash index once large (sums and products are usually short).
struct Collector<V> {
    items: Vec<(Expr, V)>,
    index: Option<FxMap<Expr, usize>>,
}

impl<V> Collector<V> {
    /// Room for `n` keys before the list grows.
    fn with_capacity(n: usize) -> Self {
        Collector {
            items: Vec::with_capacity(n),
            index: None,
        }
    }

    fn position(&self, k: Expr) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(&k).copied(),
            None => self.items.iter().position(|(x, _)| *x == k),
        }
    }

    fn get(&self, k: Expr) -> Option<&V> {
        self.position(k).map(|i| &self.items[i].1)
    }

    /// The value of `k`, inserting `new()` first if absent.
    fn entry(&mut self, k: Expr, new: impl FnOnce() -> V) -> (&mut V, bool) {
        if let Some(i) = self.position(k) {
            return (&mut self.items[i].1, false);
        }
        self.items.push((k, new()));
        let n = self.items.len();
        if let Some(ix) = &mut self.index {
            ix.insert(k, n - 1);
        } else if n > 16 {
            self.index = Some(
                self.items
                    .iter()
                    .enumerate()
                    .map(|(i, (x, _))| (*x, i))
                    .collect(),
            );
        }
        (&mut self.items[n - 1].1, true)
    }
}

/// The canonical sum of `terms`.
pub(crate) fn add(terms: impl IntoIterator<Item = Expr>) -> Expr {
    // Terms 0 are skipped (as below); a sum of at most one other term is
    // that term, already canonical (see `mul`).
    let mut terms = terms.into_iter().filter(|t| !t.is_zero());
    let Some(a) = terms.next() else {
        return zero();
    };
    let Some(b) = terms.next() else {
        // (A product with coefficient 0, the 0/0 of zero_times, is dropped
        // by collecting: it keeps that path.)
        if !a.with(|n| matches!(n, Node::Mul(fs) if fs[0].is_zero())) {
            return a;
        }
        return collect_sum([a]);
    };
    collect_sum([a, b].into_iter().chain(terms))
}

/// The canonical sum of `terms`, by collecting every term.
fn collect_sum(terms: impl IntoIterator<Item = Expr>) -> Expr {
    let mut constant = Num::ZERO;
    let mut coeffs: Collector<Num> = Collector::with_capacity(8);
    let mut push = |t: Expr, constant: &mut Num| {
        let (c, rest) = split_coeff(t);
        if rest.is_one() {
            *constant = constant.plus(c);
            return;
        }
        let (k, fresh) = coeffs.entry(rest, || c);
        if !fresh {
            *k = k.plus(c);
        }
    };
    for t in terms {
        if t.is_zero() {
            continue;
        }
        match t.with(|n| match n {
            Node::Add(xs) => Some(xs.to_vec()),
            _ => None,
        }) {
            Some(xs) => {
                for x in xs {
                    push(x, &mut constant);
                }
            }
            None => push(t, &mut constant),
        }
    }
    trig_identities(&mut coeffs, &mut constant);
    // Every term's monomial in one buffer, a term's being a range of it.
    let mut factors: Vec<(Expr, Expr)> = Vec::with_capacity(4 * coeffs.items.len());
    let mut keyed: Vec<(usize, usize, Expr)> = Vec::with_capacity(coeffs.items.len());
    for &(r, c) in &coeffs.items {
        if c.is_zero() {
            continue;
        }
        let t = with_coeff(c, r);
        let start = factors.len();
        monomial_into(t, &mut factors);
        keyed.push((start, factors.len(), t));
    }
    keyed.sort_by(|a, b| cmp_term(&factors[a.0..a.1], a.2, &factors[b.0..b.1], b.2));
    let mut out: Vec<Expr> = keyed.into_iter().map(|(_, _, t)| t).collect();
    if !constant.is_zero() {
        out.push(num(constant));
    }
    match out.len() {
        0 => zero(),
        1 => out[0],
        _ => Expr::intern(Node::Add(out.into())),
    }
}

/// `c*sin(u)^2 + c*cos(u)^2 → c` and `c - c*tanh(u)^2 → c*cosh(u)^-2`.
fn trig_identities(coeffs: &mut Collector<Num>, constant: &mut Num) {
    let two = num(Num::int(2));
    let squared_fn = |r: Expr| -> Option<(UnaryOp, Expr)> {
        let (b, e) = split_pow(r);
        if e != two {
            return None;
        }
        b.with(|n| match n {
            Node::Unary(op @ (UnaryOp::Sin | UnaryOp::Tanh), u) => Some((*op, *u)),
            _ => None,
        })
    };
    let mut added = Vec::new();
    for i in 0..coeffs.items.len() {
        let (r, c) = coeffs.items[i];
        if c.is_zero() {
            continue;
        }
        let Some((op, u)) = squared_fn(r) else {
            continue;
        };
        if op == UnaryOp::Sin {
            let Some(cos) = Expr::find(&Node::Unary(UnaryOp::Cos, u)) else {
                continue;
            };
            let Some(cos2) = Expr::find(&Node::Pow([cos, two])) else {
                continue;
            };
            if let Some(j) = coeffs.position(cos2).filter(|&j| coeffs.items[j].1 == c) {
                coeffs.items[i].1 = Num::ZERO;
                coeffs.items[j].1 = Num::ZERO;
                *constant = constant.plus(c);
            }
        } else if !constant.is_zero() && constant.negated() == c {
            let sech2 = pow(unary(UnaryOp::Cosh, u), num(Num::int(-2)));
            coeffs.items[i].1 = Num::ZERO;
            added.push((sech2, *constant));
            *constant = Num::ZERO;
        }
    }
    for (r, c) in added {
        let (k, fresh) = coeffs.entry(r, || c);
        if !fresh {
            *k = k.plus(c);
        }
    }
}

/// The canonical product of `factors`.
pub(crate) fn mul(factors: impl IntoIterator<Item = Expr>) -> Expr {
    // Factors 1 are skipped (as below); a product of at most one other
    // factor is that factor, already canonical (every node is built by
    // these constructors, and a canonical node is their fixed point), with
    // no vector and no pass.
    let mut factors = factors.into_iter().filter(|f| !f.is_one());
    let Some(a) = factors.next() else {
        return one();
    };
    let Some(b) = factors.next() else {
        return a;
    };
    let mut work: Vec<Expr> = Vec::with_capacity(4);
    work.extend([a, b]);
    work.extend(factors);
    collect_product(work)
}

/// The canonical product of `work`, by collecting every factor.
fn collect_product(mut work: Vec<Expr>) -> Expr {
    // A product whose collected powers expand into new products is
    // re-collected; each round removes a level, so this ends quickly.
    for _round in 0..8 {
        let mut coeff = Num::ONE;
        let mut exps: Collector<Exponents> = Collector::with_capacity(8);
        // exp(a)·exp(b) = exp(a + b), as SymPy combines them.
        let mut exp_args: Vec<Expr> = Vec::new();
        let mut stack = std::mem::take(&mut work);
        loop {
            while let Some(f) = stack.pop() {
                if f.is_one() {
                    continue;
                }
                let kind = f.with(|n| match n {
                    Node::Num(c) => Kind::Num(*c),
                    Node::Mul(xs) => Kind::Many(xs.clone()),
                    Node::Pow([b, e]) => Kind::Pow(*b, *e),
                    Node::Unary(UnaryOp::Exp, u) => Kind::Exp(*u),
                    _ => Kind::Other,
                });
                match kind {
                    Kind::Num(c) => coeff = coeff.times(c),
                    Kind::Many(xs) => stack.extend(xs.iter().copied()),
                    Kind::Pow(b, e) => record(&mut exps, b, e),
                    Kind::Exp(u) => exp_args.push(u),
                    Kind::Other => record(&mut exps, f, one()),
                }
            }
            match exp_args.len() {
                0 => break,
                1 => {
                    record(&mut exps, unary(UnaryOp::Exp, exp_args[0]), one());
                    break;
                }
                _ => {
                    let combined = unary(UnaryOp::Exp, add(std::mem::take(&mut exp_args)));
                    if combined.with(|n| matches!(n, Node::Unary(UnaryOp::Exp, _))) {
                        record(&mut exps, combined, one());
                        break;
                    }
                    // exp(log(x) + ...) may simplify to anything: collect it.
                    stack.push(combined);
                }
            }
        }
        if coeff.is_zero() {
            return zero_times(&exps);
        }
        // Each factor with its (base, exponent), read once, for the sort.
        let mut keyed: Vec<((Expr, Expr), Expr)> = Vec::with_capacity(exps.items.len());
        let mut again = false;
        for (b, es) in &exps.items {
            let p = pow(*b, es.total());
            let split = p.with(|n| match n {
                Node::Num(c) => Err(Some(*c)),
                Node::Mul(_) => Err(None),
                Node::Pow([b, e]) => Ok((*b, *e)),
                _ => Ok((p, one())),
            });
            match split {
                Err(Some(c)) => coeff = coeff.times(c),
                Err(None) => {
                    again = true;
                    keyed.push(((p, one()), p));
                }
                Ok(be) => keyed.push((be, p)),
            }
        }
        if again {
            work = keyed.into_iter().map(|(_, p)| p).collect();
            work.push(num(coeff));
            continue;
        }
        if coeff.is_zero() {
            return zero();
        }
        keyed.sort_by(|((ba, ea), _), ((bb, eb), _)| {
            ba.cmp_base(*bb).then_with(|| cmp_exponent(*ea, *eb))
        });
        if keyed.is_empty() {
            return num(coeff);
        }
        if keyed.len() == 1 {
            let only = keyed[0].1;
            if coeff.is_one() {
                return only;
            }
            if let Node::Add(ts) = only.node() {
                // Distribute a number over a sum, as SymPy does.
                return add(ts.iter().map(|&t| mul([num(coeff), t])));
            }
        }
        // One allocation: the coefficient (if not 1) and the sorted factors.
        let c = (!coeff.is_one()).then(|| num(coeff));
        let factors: Rc<[Expr]> = c.into_iter().chain(keyed.iter().map(|k| k.1)).collect();
        return Expr::intern(Node::Mul(factors));
    }
    // Not reached in practice: keep whatever is left as a plain product.
    Expr::intern(Node::Mul(work.into()))
}

/// The product of the factors of a canonical product `fs` but the i-th
/// (the "rest" of the product rule): what [`mul`] of them gives. Leaving a
/// factor out of a canonical product leaves them sorted, with distinct
/// bases, at most one exp and at most one number (first), so the rest is
/// canonical as it stands, except where a number and a lone sum remain
/// (a number is distributed over a sum) or one factor does (itself); those
/// go through [`mul`].
pub(crate) fn product_without(fs: &[Expr], i: usize) -> Expr {
    let others = || {
        fs.iter()
            .enumerate()
            .filter(move |&(j, _)| j != i)
            .map(|(_, &g)| g)
    };
    let numbered = fs[0].as_num().is_some() && i != 0;
    if fs.len() <= 2 || (fs.len() == 3 && numbered) {
        return mul(others());
    }
    Expr::intern(Node::Mul(others().collect()))
}

/// 0 times the collected factors: 0, unless a factor is a numeric `0^-k`
/// (a division by zero), where the product stays `0/0` (NaN when evaluated),
/// as SymPy's `0*zoo = nan`.
fn zero_times(exps: &Collector<Exponents>) -> Expr {
    let zero_base = num(Num::ZERO);
    if let Some(es) = exps.get(zero_base) {
        let e = es.total();
        if e.as_num().is_some_and(|k| k.is_negative()) {
            let inf = pow(zero_base, e);
            return Expr::intern(Node::Mul(Rc::from([zero(), inf])));
        }
    }
    zero()
}

/// What a factor is, read under a short borrow of the arena.
enum Kind {
    Num(Num),
    Many(Rc<[Expr]>),
    Pow(Expr, Expr),
    Exp(Expr),
    Other,
}

/// The exponents collected for one base (usually one: no allocation).
struct Exponents {
    first: Expr,
    more: Vec<Expr>,
}

impl Exponents {
    /// Their sum.
    fn total(&self) -> Expr {
        if self.more.is_empty() {
            self.first
        } else {
            add(std::iter::once(self.first).chain(self.more.iter().copied()))
        }
    }
}

fn record(exps: &mut Collector<Exponents>, b: Expr, e: Expr) {
    let (slot, fresh) = exps.entry(b, || Exponents {
        first: e,
        more: Vec::new(),
    });
    if !fresh {
        slot.more.push(e);
    }
}

/// The canonical power `b^e`.
pub(crate) fn pow(b: Expr, e: Expr) -> Expr {
    // x^1 and x^0 (the numbers 1 and 0 have one node each), before reading
    // any node: most factors of a product come here with exponent 1.
    if e.is_one() {
        return b;
    }
    if e.is_zero() {
        return one();
    }
    let (bn, en) = (b.node(), e.node());
    if let Node::Num(n) = en {
        if n.is_zero() {
            return one();
        }
        if n.is_one() {
            return b;
        }
        if let Node::Num(m) = bn {
            if let Some(folded) = pow_num(m, n) {
                return num(folded);
            }
            if m.is_zero() && n.is_negative() {
                // Every 0^-k is the same (unsigned) infinity: one spelling, 1/0.
                return Expr::intern(Node::Pow([b, Expr::minus_one()]));
            }
        }
        if n.as_int().is_some() {
            // Integer powers distribute, as in SymPy: (x^a)^k = x^(a·k),
            // (x·y)^k = x^k·y^k, exp(u)^k = exp(k·u).
            match &bn {
                Node::Pow([b0, e0]) => return pow(*b0, mul([*e0, e])),
                Node::Mul(fs) => return mul(fs.iter().map(|&f| pow(f, e))),
                Node::Unary(UnaryOp::Exp, u) => return unary(UnaryOp::Exp, mul([*u, e])),
                _ => {}
            }
        }
    }
    match bn {
        Node::Num(m) if m.is_one() => return one(),
        Node::Const(Constant::E) => return unary(UnaryOp::Exp, e),
        _ => {}
    }
    Expr::intern(Node::Pow([b, e]))
}

/// m^n for numbers when the result is a number (exact where possible).
fn pow_num(m: Num, n: Num) -> Option<Num> {
    match n {
        Num::Rat(p, 1) => m.powi(p),
        Num::Rat(p, q) => {
            if let Num::Float(x) = m {
                return float_pow(x, n.to_f64());
            }
            if m.is_zero() {
                return (p > 0).then_some(Num::ZERO);
            }
            m.exact_root(q)?.powi(p)
        }
        Num::Float(y) if m.is_zero() => (y > 0.0).then_some(Num::ZERO),
        Num::Float(y) => float_pow(m.to_f64(), y),
    }
}

/// The canonical `op(x)`.
pub(crate) fn unary(op: UnaryOp, x: Expr) -> Expr {
    use UnaryOp::*;
    match op {
        Neg => return mul([Expr::minus_one(), x]),
        Powi(n) => return pow(x, num(Num::int(i64::from(n)))),
        Sqrt => return pow(x, num(Num::rational(1, 2))),
        _ => {}
    }
    let node = x.node();
    if let Node::Num(n) = node {
        if let Some(v) = fold_unary(op, n) {
            return num(v);
        }
    }
    // Parity, as SymPy: sin(-u) = -sin(u), cos(-u) = cos(u).
    let odd = op.parity() == Parity::Odd;
    if odd || op.parity() == Parity::Even {
        if let Some(minus_u) = negated_argument(&node) {
            let f = unary(op, minus_u);
            return if odd { mul([Expr::minus_one(), f]) } else { f };
        }
    }
    match (op, &node) {
        (Exp, Node::Unary(Ln, u)) => return *u,
        (Ln, Node::Unary(Exp, u)) => return *u,
        (Ln, Node::Const(Constant::E)) => return one(),
        (Exp, Node::Num(n)) if n.is_one() => return Expr::intern(Node::Const(Constant::E)),
        (Abs | Relu | Sign | Step, Node::Unary(inner, _)) if *inner == op => return x,
        _ => {}
    }
    Expr::intern(Node::Unary(op, x))
}

/// `-x` when `x` is a negative number or a product with a negative
/// coefficient (the sign SymPy extracts from odd and even functions).
fn negated_argument(node: &Node) -> Option<Expr> {
    match node {
        Node::Num(n) if n.is_negative() => Some(num(n.negated())),
        Node::Mul(fs) => {
            let c = fs[0].as_num()?;
            c.is_negative().then(|| {
                let rest = fs[1..].iter().copied();
                mul(std::iter::once(num(c.negated())).chain(rest))
            })
        }
        _ => None,
    }
}

/// The value of `op(n)` when it is a number: exact special values for exact
/// arguments, the f64 kernel for float arguments (only when finite).
fn fold_unary(op: UnaryOp, n: Num) -> Option<Num> {
    use UnaryOp::*;
    if let Num::Float(x) = n {
        let v = op.eval(x);
        return v.is_finite().then(|| Num::float(v));
    }
    // The table's exact value (exp(0) = 1, log(1) = 0, sigmoid(0) = 1/2).
    if let Some((x, (p, q))) = op.exact_point() {
        if n == Num::int(x) {
            return Some(Num::rational(p, q));
        }
    }
    let (z, neg) = (n.is_zero(), n.is_negative());
    match op {
        Cbrt => n.exact_root(3),
        Abs => Some(if neg { n.negated() } else { n }),
        Relu => Some(if neg { Num::ZERO } else { n }),
        Sign => Some(if neg {
            Num::MINUS_ONE
        } else if z {
            Num::ZERO
        } else {
            Num::ONE
        }),
        Step => Some(if neg || z { Num::ZERO } else { Num::ONE }),
        _ => None,
    }
}

/// The canonical `op(a, b)`.
pub(crate) fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    use BinaryOp::*;
    match op {
        Add => {
            return add_term(a, b)
                .or_else(|| add_term(b, a))
                .unwrap_or_else(|| add([a, b]))
        }
        Sub => {
            let minus_b = mul([Expr::minus_one(), b]);
            return add_term(a, minus_b).unwrap_or_else(|| add([a, minus_b]));
        }
        Mul => return mul([a, b]),
        Div => return mul([a, pow(b, Expr::minus_one())]),
        Pow => return pow(a, b),
        // Functions of two arguments (atan2, max, min, and any new row of
        // the op table): folded when both are numbers, else a node.
        _ => {}
    }
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        match op {
            Max | Min => {
                let first = match x.cmp_value(y) {
                    Ordering::Less => op == Min,
                    _ => op == Max || x.cmp_value(y) == Ordering::Equal,
                };
                return if first { a } else { b };
            }
            _ => {
                let exact = matches!((x, y), (Num::Rat(..), Num::Rat(..)));
                if !exact {
                    let v = op.eval(x.to_f64(), y.to_f64());
                    if v.is_finite() {
                        return num(Num::float(v));
                    }
                } else if x.is_zero() && !y.is_negative() && !y.is_zero() {
                    return zero();
                }
            }
        }
    }
    if a == b && matches!(op, Max | Min) {
        return a;
    }
    Expr::intern(Node::Binary(op, [a, b]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Real;

    /// Terms that exercise the merge: like terms (which cancel or combine),
    /// numbers, float and exact coefficients, products, powers, the squares
    /// the trig identities read, and sums.
    fn terms() -> Vec<Expr> {
        let (x, y) = (Expr::var("x"), Expr::var("y"));
        vec![
            x,
            y,
            x * y,
            Expr::integer(3) * x,
            Expr::integer(-1) * x,
            Expr::constant(0.5) * y,
            Expr::integer(2),
            x.sin().square(),
            x.cos().square(),
            Expr::integer(-1) * x.tanh().square(),
            Expr::integer(1),
            x.exp() * y.sin() / (y.square() + 1.0),
            x.square(),
            Expr::integer(-3) * x,
            x + y,
            y.powi(3),
            Expr::var("x10"),
            Expr::var("x2"),
        ]
    }

    /// The fast paths of `mul` and `add` return a lone factor or term as
    /// it is: that is what collecting it gives, for every kind of node
    /// (canonical nodes are the constructors' fixed points).
    #[test]
    fn a_lone_factor_or_term_is_its_own_product_and_sum() {
        let (x, y) = (Expr::var("x"), Expr::var("y"));
        let mut corpus = terms();
        corpus.extend([
            Expr::zero(),
            Expr::one(),
            Expr::minus_one(),
            Expr::rational(1, 2),
            Expr::constant(0.25),
            x.exp(),
            (x * y).sin() * x.exp() / (y.square() + 1.0),
            (x + y).exp() * x.cos(),
            x.powf(0.5) * y.powi(-2),
            Expr::integer(0).pow_expr(&Expr::integer(-1)),
            Expr::integer(0) * Expr::integer(0).pow_expr(&Expr::integer(-1)),
            Expr::integer(2) * (x + 1.0),
            x.ln().exp() + y.tanh().square() * -1.0 + 1.0,
            x.atan2(&y).max(&x),
        ]);
        for &t in &corpus {
            assert_eq!(mul([t]), collect_product(vec![t]), "product of {t}");
            assert_eq!(add([t]), collect_sum([t]), "sum of {t}");
            assert_eq!(mul([t, Expr::one()]), mul([t]));
            assert_eq!(add([Expr::zero(), t]), add([t]));
            // Every one but 0/0 (a product with coefficient 0, which a sum
            // drops) is its own product and sum.
            if t.to_string() != "0/0" {
                assert_eq!(add([t]), t, "sum of {t}");
                assert_eq!(mul([t]), t, "product of {t}");
            }
        }
        assert_eq!(mul([]), Expr::one());
        assert_eq!(add([]), Expr::zero());
    }

    /// The product rule's "rest" of a canonical product (a factor left
    /// out) is what collecting the other factors gives.
    #[test]
    fn a_product_without_a_factor_is_the_product_of_the_others() {
        let (x, y, z) = (Expr::var("x"), Expr::var("y"), Expr::var("z"));
        let products = [
            x * y,
            Expr::integer(3) * x * y,
            Expr::integer(3) * x * (y + 1.0),
            Expr::integer(-2) * (x + y) * z.exp(),
            (x * y).sin() * x.exp() / (y.square() + 1.0),
            Expr::constant(0.5) * x.powf(0.5) * y.powi(-2) * z.cos() * (x + z),
            x.pow_expr(&Expr::rational(1, 2))
                .pow_expr(&Expr::rational(1, 3))
                * x.sqrt()
                * y,
            Expr::integer(2) * x.tanh().square() * (y + z).exp(),
        ];
        for p in products {
            let Node::Mul(fs) = p.node() else {
                panic!("{p} is not a product");
            };
            for i in 0..fs.len() {
                let others = fs
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, &g)| g);
                assert_eq!(
                    product_without(&fs, i),
                    mul(others),
                    "{p} without factor {i}"
                );
            }
        }
    }

    #[test]
    fn a_term_merged_into_a_sum_is_the_sum_collected_again() {
        // binary's fast path (add_term) against add's general path, on
        // the same partial sums: every rotation of the terms, term by term.
        let ts = terms();
        for start in 0..ts.len() {
            let order: Vec<Expr> = ts[start..].iter().chain(&ts[..start]).copied().collect();
            let (mut s, mut d) = (Expr::zero(), order[0]);
            for &t in &order {
                let next = binary(BinaryOp::Add, s, t);
                assert_eq!(next, add([s, t]), "{s} + {t}");
                assert_eq!(binary(BinaryOp::Add, t, s), next, "{t} + {s}");
                s = next;
                let minus = mul([Expr::minus_one(), t]);
                let next = binary(BinaryOp::Sub, d, t);
                assert_eq!(next, add([d, minus]), "{d} - {t}");
                d = next;
            }
        }
    }
}
