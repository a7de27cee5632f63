//! [`Pattern`]: which entries of a sparse matrix may be nonzero.

/// The structure of a sparse matrix in compressed sparse row (CSR) form:
/// the columns of the entries that may be nonzero, row by row, each row's
/// columns sorted and distinct. Detected patterns are conservative: an
/// entry left out is zero at every point (a structural zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    n_rows: usize,
    n_cols: usize,
    row_ptr: Vec<usize>,
    cols: Vec<usize>,
}

impl Pattern {
    /// The pattern of the entries `(row, column)` of an `n_rows × n_cols`
    /// matrix, in any order, repeats ignored; `None` if an entry is out of
    /// range.
    ///
    /// ```
    /// use chainrule::sparse::Pattern;
    /// let p = Pattern::from_entries(2, 3, [(1, 2), (0, 1), (1, 0), (0, 1)]).unwrap();
    /// assert_eq!(p.nnz(), 3);
    /// assert_eq!(p.row(1), &[0, 2]);
    /// assert!(p.contains(0, 1) && !p.contains(0, 0));
    /// assert!(Pattern::from_entries(2, 2, [(2, 0)]).is_none());
    /// ```
    pub fn from_entries(
        n_rows: usize,
        n_cols: usize,
        entries: impl IntoIterator<Item = (usize, usize)>,
    ) -> Option<Pattern> {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n_rows];
        for (i, j) in entries {
            if i >= n_rows || j >= n_cols {
                return None;
            }
            rows[i].push(j);
        }
        Some(Pattern::from_rows(n_cols, rows))
    }

    /// The pattern whose row `i` holds the columns `rows[i]` (sorted and
    /// deduplicated here; all below `n_cols`, which the caller checks).
    pub(crate) fn from_rows(n_cols: usize, rows: Vec<Vec<usize>>) -> Pattern {
        let mut row_ptr = Vec::with_capacity(rows.len() + 1);
        let mut cols = Vec::new();
        row_ptr.push(0);
        for mut r in rows {
            r.sort_unstable();
            r.dedup();
            debug_assert!(r.iter().all(|&j| j < n_cols));
            cols.extend_from_slice(&r);
            row_ptr.push(cols.len());
        }
        Pattern {
            n_rows: row_ptr.len() - 1,
            n_cols,
            row_ptr,
            cols,
        }
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// The number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// The number of entries that may be nonzero.
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// CSR row pointers: row `i`'s entries are `row_ptr[i]..row_ptr[i + 1]`
    /// of [`Pattern::col_indices`] (length `n_rows + 1`).
    pub fn row_ptr(&self) -> &[usize] {
        &self.row_ptr
    }

    /// CSR column indices of all entries, row after row.
    pub fn col_indices(&self) -> &[usize] {
        &self.cols
    }

    /// The columns of row `i`'s entries, sorted.
    ///
    /// # Panics
    /// If `i` is not below [`Pattern::n_rows`].
    pub fn row(&self, i: usize) -> &[usize] {
        &self.cols[self.row_ptr[i]..self.row_ptr[i + 1]]
    }

    /// The position of entry `(i, j)` among all entries (the index into a
    /// CSR matrix's values), if it is in the pattern.
    pub fn position(&self, i: usize, j: usize) -> Option<usize> {
        if i >= self.n_rows {
            return None;
        }
        self.row(i)
            .binary_search(&j)
            .ok()
            .map(|k| self.row_ptr[i] + k)
    }

    /// Whether entry `(i, j)` may be nonzero.
    pub fn contains(&self, i: usize, j: usize) -> bool {
        self.position(i, j).is_some()
    }

    /// Every entry `(row, column)`, in row order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.n_rows).flat_map(move |i| self.row(i).iter().map(move |&j| (i, j)))
    }

    /// The transposed pattern (columns become rows).
    pub fn transpose(&self) -> Pattern {
        let mut rows = vec![Vec::new(); self.n_cols];
        for (i, j) in self.iter() {
            rows[j].push(i);
        }
        Pattern::from_rows(self.n_rows, rows)
    }
}
