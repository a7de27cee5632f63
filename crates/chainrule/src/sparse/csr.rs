//! [`CsrMatrix`]: a sparse matrix of f64 in compressed sparse row form.

use std::sync::Arc;

use super::Pattern;

/// A sparse matrix: a [`Pattern`] (shared, so that many matrices of one
/// structure cost one copy of it) and one value per entry of the pattern,
/// in the pattern's row order. Entries outside the pattern are 0.
#[derive(Clone, Debug, PartialEq)]
pub struct CsrMatrix {
    pattern: Arc<Pattern>,
    values: Vec<f64>,
}

impl CsrMatrix {
    /// The matrix with `values` at the entries of `pattern`, in its order;
    /// `None` unless there is one value per entry.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chainrule::sparse::{CsrMatrix, Pattern};
    /// let p = Arc::new(Pattern::from_entries(2, 2, [(0, 0), (1, 0)]).unwrap());
    /// let m = CsrMatrix::new(p, vec![1.0, 2.0]).unwrap();
    /// assert_eq!(m.to_dense(), vec![vec![1.0, 0.0], vec![2.0, 0.0]]);
    /// ```
    pub fn new(pattern: Arc<Pattern>, values: Vec<f64>) -> Option<CsrMatrix> {
        (values.len() == pattern.nnz()).then_some(CsrMatrix { pattern, values })
    }

    /// The structure.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The structure, shared.
    pub fn shared_pattern(&self) -> &Arc<Pattern> {
        &self.pattern
    }

    /// The values of the entries, in the pattern's row order (CSR data).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.pattern.n_rows()
    }

    /// The number of columns.
    pub fn n_cols(&self) -> usize {
        self.pattern.n_cols()
    }

    /// The number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Entry `(i, j)`: its value, or 0 outside the pattern (also outside
    /// the matrix).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.pattern.position(i, j).map_or(0.0, |k| self.values[k])
    }

    /// Every stored entry `(row, column, value)`, in row order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.pattern
            .iter()
            .zip(&self.values)
            .map(|((i, j), &v)| (i, j, v))
    }

    /// The dense matrix, row by row.
    pub fn to_dense(&self) -> Vec<Vec<f64>> {
        let mut d = vec![vec![0.0; self.n_cols()]; self.n_rows()];
        for (i, j, v) in self.iter() {
            d[i][j] = v;
        }
        d
    }

    /// `A·v`.
    ///
    /// # Panics
    /// If `v` does not have [`CsrMatrix::n_cols`] entries.
    pub fn mul_vec(&self, v: &[f64]) -> Vec<f64> {
        assert_eq!(v.len(), self.n_cols(), "CsrMatrix::mul_vec: vector length");
        let p = &self.pattern;
        (0..self.n_rows())
            .map(|i| {
                let r = p.row_ptr()[i]..p.row_ptr()[i + 1];
                p.col_indices()[r.clone()]
                    .iter()
                    .zip(&self.values[r])
                    .map(|(&j, &a)| a * v[j])
                    .sum()
            })
            .collect()
    }
}
