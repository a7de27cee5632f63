//! Aligned plain-text tables for the human-readable output.

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// A table: an optional header row and rows of cells, printed with columns
/// padded to their widest cell (widths counted in characters).
#[derive(Debug, Clone)]
pub struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    align: Vec<Align>,
    indent: usize,
}

impl Table {
    /// A table whose columns are aligned as given.
    pub fn new(align: &[Align]) -> Self {
        Table {
            header: None,
            rows: Vec::new(),
            align: align.to_vec(),
            indent: 2,
        }
    }

    /// Sets the header row (underlined when printed).
    pub fn header<S: Into<String>>(mut self, cells: impl IntoIterator<Item = S>) -> Self {
        self.header = Some(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Adds a row.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as text, each line ending in a newline.
    pub fn render(&self) -> String {
        let ncols = self
            .rows
            .iter()
            .chain(self.header.iter())
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        for row in self.rows.iter().chain(self.header.iter()) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let mut out = String::new();
        let line = |row: &[String], out: &mut String| {
            let mut text = " ".repeat(self.indent);
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i] - width(cell);
                let align = self.align.get(i).copied().unwrap_or(Align::Left);
                let last = i + 1 == row.len();
                match align {
                    Align::Right => {
                        text.push_str(&" ".repeat(pad));
                        text.push_str(cell);
                    }
                    Align::Left => {
                        text.push_str(cell);
                        if !last {
                            text.push_str(&" ".repeat(pad));
                        }
                    }
                }
                if !last {
                    text.push_str("  ");
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        if let Some(h) = &self.header {
            line(h, &mut out);
            let total: usize = widths.iter().sum::<usize>() + 2 * ncols.saturating_sub(1);
            out.push_str(&" ".repeat(self.indent));
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
        for row in &self.rows {
            line(row, &mut out);
        }
        out
    }
}

/// Display width of a cell: characters (the output uses no wide characters).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&[Align::Left, Align::Right]).header(["var", "∂f"]);
        t.row(["x", "13"]);
        t.row(["theta", "-0.5"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  var      ∂f");
        assert_eq!(lines[1], "  -----------");
        assert_eq!(lines[2], "  x        13");
        assert_eq!(lines[3], "  theta  -0.5");
    }
}
