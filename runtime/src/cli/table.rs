//! The aligned tables the commands print (`--status`, `--timeline`): each column as wide
//! as its widest cell, two spaces between columns, the last one not padded.

/// `header` and `rows` as aligned lines; a column whose `right` entry is true is aligned
/// right (numbers, durations).
pub(crate) fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]], right: [bool; N]) -> String {
    let header = header.map(str::to_owned);
    let mut widths = [0usize; N];
    for row in std::iter::once(&header).chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(cell.chars().count()));
            match (i + 1 == N, right[i]) {
                (true, _) => line.push_str(cell),
                (false, true) => line.push_str(&format!("{pad}{cell}  ")),
                (false, false) => line.push_str(&format!("{cell}{pad}  ")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
