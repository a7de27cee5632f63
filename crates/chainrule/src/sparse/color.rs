//! Colourings that let a few products recover a whole sparse matrix.
//!
//! - [`column_coloring`] (for Jacobians): columns that share a row get
//!   different colours (a distance-2 colouring of the bipartite graph), so
//!   the product `J·v_c` with `v_c` = the sum of the unit vectors of colour
//!   `c` holds each entry of those columns alone in its row:
//!   `J_ij = (J·v_{colour(j)})_i`.
//! - [`star_coloring`] (for symmetric Hessians): a proper colouring of the
//!   adjacency graph of the off-diagonal entries in which every path on
//!   four vertices uses at least three colours (Gebremedhin, Manne and
//!   Pothen, "What color is your Jacobian?", SIAM Review 2005). Then for
//!   every entry `(i, j)` either `j` is the only neighbour of `i` with its
//!   colour or `i` the only neighbour of `j` with its own, so each entry is
//!   read directly from `H·v_{colour(j)}` at row `i` or `H·v_{colour(i)}`
//!   at row `j`; a star colouring needs fewer colours than a column
//!   colouring of the symmetric matrix (an arrow matrix: 2 instead of n).
//!
//! Both are greedy in the natural order of the columns, and both are
//! checked by recovering matrices in the tests.

use super::Pattern;

/// A colour per column, colours numbered `0..n_colors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coloring {
    colors: Vec<u32>,
    n_colors: usize,
}

impl Coloring {
    fn new(colors: Vec<u32>) -> Coloring {
        let n_colors = colors.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        Coloring { colors, n_colors }
    }

    /// The colour of each column.
    pub fn colors(&self) -> &[u32] {
        &self.colors
    }

    /// How many colours (products) the colouring needs.
    pub fn n_colors(&self) -> usize {
        self.n_colors
    }

    /// Colour `c`'s seed: 1.0 at the columns of colour `c`, else 0.0.
    pub fn seed(&self, c: usize) -> Vec<f64> {
        self.colors
            .iter()
            .map(|&k| if k as usize == c { 1.0 } else { 0.0 })
            .collect()
    }
}

/// The smallest colour not marked with `stamp` in `forbidden` (grown as needed).
fn first_free(forbidden: &mut Vec<usize>, stamp: usize) -> u32 {
    let c = forbidden
        .iter()
        .position(|&s| s != stamp)
        .unwrap_or(forbidden.len());
    if c == forbidden.len() {
        forbidden.push(usize::MAX);
    }
    c as u32
}

/// A column colouring of `p`: no two columns with an entry in the same row
/// share a colour (greedy, columns in order).
///
/// ```
/// use chainrule::sparse::{column_coloring, Pattern};
/// // A diagonal matrix: one colour. A full row: every column its own.
/// let diag = Pattern::from_entries(3, 3, (0..3).map(|i| (i, i))).unwrap();
/// assert_eq!(column_coloring(&diag).n_colors(), 1);
/// let row = Pattern::from_entries(1, 3, (0..3).map(|j| (0, j))).unwrap();
/// assert_eq!(column_coloring(&row).n_colors(), 3);
/// ```
pub fn column_coloring(p: &Pattern) -> Coloring {
    let by_col = p.transpose();
    const NONE: u32 = u32::MAX;
    let mut colors = vec![NONE; p.n_cols()];
    // forbidden[c] == j: colour c is taken by a column sharing a row with j.
    let mut forbidden: Vec<usize> = Vec::new();
    for j in 0..p.n_cols() {
        for &i in by_col.row(j) {
            for &k in p.row(i) {
                let c = colors[k];
                if c != NONE {
                    mark(&mut forbidden, c, j);
                }
            }
        }
        colors[j] = first_free(&mut forbidden, j);
    }
    Coloring::new(colors)
}

fn mark(forbidden: &mut Vec<usize>, c: u32, stamp: usize) {
    let c = c as usize;
    if c >= forbidden.len() {
        forbidden.resize(c + 1, usize::MAX);
    }
    forbidden[c] = stamp;
}

/// A star colouring of the symmetric pattern `p` (its diagonal ignored):
/// adjacent vertices differ, and no path on four vertices is coloured with
/// two colours alone (greedy, vertices in order).
///
/// # Panics
/// If `p` is not square.
///
/// ```
/// use chainrule::sparse::{star_coloring, Pattern};
/// // An arrow: vertex 0 joined to all others. Two colours suffice.
/// let arrow = Pattern::from_entries(5, 5, (1..5).flat_map(|i| [(0, i), (i, 0)])).unwrap();
/// assert_eq!(star_coloring(&arrow).n_colors(), 2);
/// // A tridiagonal matrix: three.
/// let tri = Pattern::from_entries(6, 6, (0..5).flat_map(|i| [(i, i + 1), (i + 1, i)])).unwrap();
/// assert_eq!(star_coloring(&tri).n_colors(), 3);
/// ```
pub fn star_coloring(p: &Pattern) -> Coloring {
    assert_eq!(p.n_rows(), p.n_cols(), "star_coloring: a square pattern");
    let n = p.n_rows();
    const NONE: u32 = u32::MAX;
    let mut colors = vec![NONE; n];
    let mut forbidden: Vec<usize> = Vec::new();
    // How many coloured neighbours of the current vertex have each colour.
    let mut count: Vec<u32> = Vec::new();
    let nbrs = |v: usize| p.row(v).iter().copied().filter(move |&w| w != v);
    for v in 0..n {
        for w in nbrs(v) {
            let c = colors[w];
            if c != NONE {
                mark(&mut forbidden, c, v);
                if c as usize >= count.len() {
                    count.resize(c as usize + 1, 0);
                }
                count[c as usize] += 1;
            }
        }
        for w in nbrs(v) {
            let cw = colors[w];
            if cw == NONE {
                continue;
            }
            // v interior: y – v – w – x with colour(y) = colour(w) for
            // another neighbour y of v: every colour next to w is out.
            let shared = count[cw as usize] >= 2;
            for x in nbrs(w) {
                let cx = colors[x];
                if x == v || cx == NONE {
                    continue;
                }
                // v at an end: v – w – x – y with colour(y) = colour(w).
                if shared || nbrs(x).any(|y| y != w && colors[y] == cw) {
                    mark(&mut forbidden, cx, v);
                }
            }
        }
        for w in nbrs(v) {
            if colors[w] != NONE {
                count[colors[w] as usize] = 0;
            }
        }
        colors[v] = first_free(&mut forbidden, v);
    }
    Coloring::new(colors)
}

/// Where each entry of a symmetric matrix with pattern `p` is read from in
/// the products `H·v_c` of a star colouring `coloring`: for entry `k` (in
/// the pattern's order), `(row, colour)` such that `H_ij = (H·v_colour)_row`.
///
/// # Panics
/// If `coloring` is not a star colouring of `p` (an entry with neither
/// end alone in its colour among the other's neighbours).
pub(crate) fn star_sources(p: &Pattern, coloring: &Coloring) -> Vec<(usize, u32)> {
    let colors = coloring.colors();
    let n = p.n_rows();
    // unique[v]: per colour, how many neighbours of v have it, as a sorted
    // list of (colour, count) built per row.
    let mut count = vec![0u32; coloring.n_colors()];
    let mut alone: Vec<Vec<bool>> = Vec::with_capacity(n);
    for v in 0..n {
        for &w in p.row(v) {
            if w != v {
                count[colors[w] as usize] += 1;
            }
        }
        alone.push(
            p.row(v)
                .iter()
                .map(|&w| w == v || count[colors[w] as usize] == 1)
                .collect(),
        );
        for &w in p.row(v) {
            count[colors[w] as usize] = 0;
        }
    }
    // Whether column b is alone in its colour among row a's entries.
    let is_alone = |a: usize, b: usize| {
        let k = p.row(a).binary_search(&b).expect("a symmetric pattern");
        alone[a][k]
    };
    // Entry (i, j) and its mirror (j, i) read the same product entry (the
    // one of the smaller index first), so each pair is computed once.
    p.iter()
        .map(|(i, j)| {
            let (a, b) = (i.min(j), i.max(j));
            if is_alone(a, b) {
                (a, colors[b])
            } else {
                assert!(is_alone(b, a), "star_sources: not a star colouring");
                (b, colors[a])
            }
        })
        .collect()
}

/// Where each entry of a matrix with pattern `p` is read from in the
/// products `J·v_c` of a column colouring: `(row, colour of its column)`.
pub(crate) fn column_sources(p: &Pattern, coloring: &Coloring) -> Vec<(usize, u32)> {
    p.iter().map(|(i, j)| (i, coloring.colors()[j])).collect()
}
