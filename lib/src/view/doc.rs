//! A tiny document model so every view renders the same way as plain text or as markdown
//! (for pasting into an agent's prompt).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Doc {
    pub title: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
    /// What to say when there are no lines.
    pub empty: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

impl Doc {
    pub fn new(title: impl Into<String>) -> Doc {
        Doc {
            title: title.into(),
            sections: Vec::new(),
        }
    }

    pub fn section(&mut self, heading: &str, lines: Vec<String>, empty: &str) -> &mut Doc {
        self.sections.push(Section {
            heading: heading.to_string(),
            lines,
            empty: empty.to_string(),
        });
        self
    }

    /// Render within `max_bytes`: while the text is too long, the biggest section gives up
    /// its oldest line (sections list oldest first), and each trimmed section says how many
    /// lines it left out. Returns the text and how many lines were left out.
    pub fn render_within(&self, format: Format, max_bytes: usize) -> (String, usize) {
        let full = self.render(format);
        if full.len() <= max_bytes {
            return (full, 0);
        }
        // Every line costs its text and three bytes ("  " or "- ", and the newline); the
        // "… N older" line is reserved in full once a section is trimmed.
        const MARKER: usize = 48;
        let cost = |line: &String| line.len() + 3;
        let mut sizes: Vec<usize> = self
            .sections
            .iter()
            .map(|s| s.lines.iter().map(cost).sum())
            .collect();
        let mut dropped = vec![0usize; self.sections.len()];
        let mut total = full.len();
        while total > max_bytes {
            let Some((i, _)) = sizes
                .iter()
                .enumerate()
                .filter(|(i, _)| dropped[*i] < self.sections[*i].lines.len())
                .max_by_key(|(i, size)| (**size, std::cmp::Reverse(*i)))
            else {
                break;
            };
            let line = &self.sections[i].lines[dropped[i]];
            if dropped[i] == 0 {
                total += MARKER;
            }
            dropped[i] += 1;
            sizes[i] -= cost(line);
            total -= cost(line);
        }
        let mut trimmed = self.clone();
        for (section, &n) in trimmed.sections.iter_mut().zip(&dropped) {
            if n > 0 {
                section.lines.drain(..n);
                section
                    .lines
                    .insert(0, format!("… {n} older line(s) left out (--max-bytes)"));
            }
        }
        let mut text = trimmed.render(format);
        if text.len() > max_bytes {
            // Headings alone are over the budget: cut the text itself.
            let mut end = max_bytes.saturating_sub(1).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            if max_bytes > 0 {
                text.push('\n');
            }
        }
        (text, dropped.iter().sum())
    }

    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Text => {
                out.push_str(&self.title);
                out.push('\n');
                for section in &self.sections {
                    out.push('\n');
                    out.push_str(&section.heading);
                    out.push('\n');
                    if section.lines.is_empty() {
                        out.push_str(&format!("  {}\n", section.empty));
                    }
                    for line in &section.lines {
                        out.push_str(&format!("  {line}\n"));
                    }
                }
            }
            Format::Markdown => {
                out.push_str(&format!("# {}\n", self.title));
                for section in &self.sections {
                    out.push_str(&format!("\n## {}\n\n", section.heading));
                    if section.lines.is_empty() {
                        out.push_str(&format!("_{}_\n", section.empty));
                    }
                    for line in &section.lines {
                        out.push_str(&format!("- {line}\n"));
                    }
                }
            }
        }
        out
    }
}
