//! A plain text table with aligned columns (display width, so that names
//! with accents or wide characters line up), for `list` and `status`.

use unicode_width::UnicodeWidthStr;

/// Renders `header` and `rows` with two spaces between columns; the last
/// column is not padded, so lines carry no trailing spaces.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate().take(columns) {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            if i + 1 < columns {
                text.push_str(&" ".repeat(widths[i].saturating_sub(cell.width())));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_by_display_width() {
        let rows = vec![
            vec!["José".to_string(), "1".to_string()],
            vec!["al".to_string(), "22".to_string()],
        ];
        assert_eq!(
            super::render(&["NAME", "N"], &rows),
            "NAME  N\nJosé  1\nal    22\n"
        );
    }
}
