//! Column alignment as Go's `text/tabwriter` does it (kubectl aligns both `get` tables and
//! `describe` output with it): cells end at a tab, the text after a line's last tab is
//! never padded, and a column's width is set per *block* of consecutive lines that have a
//! cell in that column — so a line without tabs ends every block, which is why each
//! section of `kubectl describe` aligns on its own.

/// The writer's settings (`tabwriter.NewWriter(out, minwidth, tabwidth, padding, ' ', 0)`).
#[derive(Clone, Copy, Debug)]
pub struct TabWriter {
    pub min_width: usize,
    pub padding: usize,
}

/// `kubectl get`: `printers.GetNewTabWriter` (minwidth 6, padding 3).
pub const GET: TabWriter = TabWriter {
    min_width: 6,
    padding: 3,
};

/// stsim's own tables (the summary's SLO verdicts): two spaces between columns.
pub const TABLE: TabWriter = DESCRIBE;

/// `kubectl describe`: `tabbedString` (minwidth 0, padding 2).
pub const DESCRIBE: TabWriter = TabWriter {
    min_width: 0,
    padding: 2,
};

impl TabWriter {
    /// Aligns `text` (lines ending in `\n`, cells ending in `\t`).
    pub fn align(self, text: &str) -> String {
        let lines: Vec<Vec<&str>> = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(|l| l.split('\t').collect())
            .collect();
        let mut out = String::with_capacity(text.len() * 2);
        let mut widths = Vec::new();
        self.format(&lines, 0, lines.len(), &mut widths, &mut out);
        out
    }

    // Port of text/tabwriter (*Writer).format: find the blocks of lines with a cell in the
    // next column, fix that column's width per block, recurse for the columns to the right.
    fn format(
        self,
        lines: &[Vec<&str>],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            Self::write_lines(lines, line0, this, widths, out);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                width = width.max(lines[this][column].chars().count() + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        Self::write_lines(lines, line0, line1, widths, out);
    }

    // Port of (*Writer).writeLines: pad every cell that has a width; the last is text.
    fn write_lines(
        lines: &[Vec<&str>],
        line0: usize,
        line1: usize,
        widths: &[usize],
        out: &mut String,
    ) {
        for line in &lines[line0..line1] {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if let Some(&w) = widths.get(j) {
                    let used = cell.chars().count();
                    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
                }
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_tables_pad_to_the_widest_cell_plus_three_at_least_six() {
        let text = "NAME\tREADY\tSTATUS\nweb-0\t1/1\tRunning\n";
        assert_eq!(
            GET.align(text),
            "NAME    READY   STATUS\nweb-0   1/1     Running\n"
        );
    }

    #[test]
    fn a_line_without_tabs_ends_the_block() {
        let text = "Name:\tweb-0\nNamespace:\tdefault\nContainers:\n  app:\n    Image:\tapp:1\n    Restart Count:\t0\n";
        assert_eq!(
            DESCRIBE.align(text),
            "Name:       web-0\nNamespace:  default\nContainers:\n  app:\n    Image:          app:1\n    Restart Count:  0\n"
        );
    }

    #[test]
    fn nested_columns_align_within_their_block() {
        // Column 1 exists only on the first two lines: it aligns there, line 3 is free.
        let text = "a\tbb\tc\naaa\tb\tc\nx\ty\n";
        assert_eq!(DESCRIBE.align(text), "a    bb  c\naaa  b   c\nx    y\n");
    }
}
