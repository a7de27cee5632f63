//! Aligned plain-text tables for the human-readable output, and the
//! 100-column limit every report keeps ([`fit`]).

/// The widest line of human-readable output.
pub const WIDTH: usize = 100;

/// The widest table line: [`WIDTH`] less room for a report's own indent.
const TABLE_WIDTH: usize = WIDTH - 4;

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

    /// The table as text, each line ending in a newline. A table wider
    /// than [`WIDTH`] (less room for an indent) is printed in parts, one
    /// below the other, each repeating the first column.
    pub fn render(&self) -> String {
        let widths = self.column_widths();
        let ncols = widths.len();
        let mut parts: Vec<Vec<usize>> = vec![(0..ncols.min(1)).collect()];
        let mut used = self.indent + widths.first().copied().unwrap_or(0);
        for (i, &w) in widths.iter().enumerate().skip(1) {
            let part = parts.last_mut().expect("one part at least");
            if used + 2 + w > TABLE_WIDTH && part.len() > 1 {
                parts.push(vec![0, i]);
                used = self.indent + widths[0] + 2 + w;
            } else {
                part.push(i);
                used += 2 + w;
            }
        }
        if parts.len() == 1 {
            return self.render_whole();
        }
        let pick = |row: &Vec<String>, cols: &[usize]| -> Vec<String> {
            cols.iter()
                .map(|&c| row.get(c).cloned().unwrap_or_default())
                .collect()
        };
        let texts: Vec<String> = parts
            .iter()
            .map(|cols| Table {
                header: self.header.as_ref().map(|h| pick(h, cols)),
                rows: self.rows.iter().map(|r| pick(r, cols)).collect(),
                align: cols
                    .iter()
                    .map(|&c| self.align.get(c).copied().unwrap_or(Align::Left))
                    .collect(),
                indent: self.indent,
            })
            .map(|t| t.render_whole())
            .collect();
        texts.join("\n")
    }

    /// Each column's width in characters: its widest cell, header included.
    fn column_widths(&self) -> Vec<usize> {
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
        widths
    }

    /// The table in one piece, however wide.
    fn render_whole(&self) -> String {
        let widths = self.column_widths();
        let ncols = widths.len();
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

/// `text` with every line longer than [`WIDTH`] broken at spaces (after a
/// comma where one is near the limit), the continuation lines indented
/// four columns deeper than the line they continue. A word longer than the
/// limit stays whole.
pub fn fit(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let indent = body.len() - body.trim_start().len();
        let more = " ".repeat(indent + 4);
        let mut rest: Vec<char> = body.chars().collect();
        let mut first = true;
        loop {
            let lead = if first { 0 } else { more.len() };
            if lead + rest.len() <= WIDTH {
                break;
            }
            let limit = WIDTH - lead;
            let spaces: Vec<usize> = (indent + 1..=limit)
                .filter(|&k| rest.get(k) == Some(&' ') && rest[k - 1] != ' ')
                .collect();
            // Prefer a break after a comma or semicolon in the last third.
            let cut = spaces
                .iter()
                .rev()
                .find(|&&k| k > limit * 2 / 3 && matches!(rest[k - 1], ',' | ';'))
                .or(spaces.last())
                .copied();
            let Some(k) = cut else { break };
            if !first {
                out.push_str(&more);
            }
            out.extend(rest[..k].iter());
            out.push('\n');
            let skip = rest[k..].iter().take_while(|c| **c == ' ').count();
            rest.drain(..k + skip);
            first = false;
        }
        if !first {
            out.push_str(&more);
        }
        out.extend(rest.iter());
        out.push_str(newline);
    }
    out
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

    #[test]
    fn wide_tables_come_in_parts() {
        let cell = "0.013296113341580066";
        let mut t = Table::new(&[Align::Left, Align::Right, Align::Right, Align::Right])
            .header(["", "a", "b", "c"]);
        t.row(["∂f/∂w", cell, cell, cell]);
        t.row(["∂f/∂x", cell, cell, &"x".repeat(60)]);
        let text = t.render();
        assert!(text.lines().all(|l| width(l) <= TABLE_WIDTH), "{text}");
        // Every cell is still there, and every part begins with the labels.
        assert_eq!(text.matches(cell).count(), 5, "{text}");
        assert_eq!(text.matches("∂f/∂x").count(), 2, "{text}");
    }

    #[test]
    fn long_lines_are_broken_at_spaces() {
        let line = format!("   where {}", "t1 = exp(0.1*x2 - 0.5*x1), ".repeat(8));
        let text = fit(&(line.clone() + "\nshort\n"));
        assert!(text.lines().all(|l| width(l) <= WIDTH), "{text}");
        let joined: String = text.split_whitespace().collect();
        assert_eq!(
            joined,
            line.split_whitespace().collect::<String>() + "short"
        );
        assert!(
            text.lines().nth(1).unwrap().starts_with("       t1"),
            "{text}"
        );
        assert!(text.ends_with("\nshort\n"));
        assert_eq!(fit("no change\n"), "no change\n");
    }
}
