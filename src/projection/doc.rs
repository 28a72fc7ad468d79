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
