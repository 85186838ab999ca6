//! Scenario errors: one or more diagnostics, each with file:line:column, the field path, a
//! message, an optional hint and the offending source line, rendered like rustc does.

use super::model::SourceLocation;
use super::yaml::Pos;
use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in a scenario or manifest file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Option<SourceLocation>,
    /// Field path such as `spec.actions[2].kubectl`; empty for the whole document.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// The text of the source line `location` points into, for the excerpt.
    pub excerpt: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The scenario (or a manifest it references) is not valid.
    #[error("{}", render_all(.0))]
    Invalid(Vec<Diagnostic>),
    /// A file could not be read.
    #[error("{}", render_io(.file, .reference.as_ref(), .excerpt.as_deref(), .source))]
    Io {
        /// The file that could not be read.
        file: PathBuf,
        /// Where the scenario refers to it (`file:` of a manifest entry), if it does.
        reference: Option<SourceLocation>,
        /// The referencing source line.
        excerpt: Option<String>,
        source: std::io::Error,
    },
}

impl ScenarioError {
    /// The diagnostics, empty for an I/O error.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ScenarioError::Invalid(d) => d,
            ScenarioError::Io { .. } => &[],
        }
    }
}

/// A file's name and text, to turn positions into locations with excerpts.
#[derive(Clone, Debug)]
pub struct Source {
    pub file: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(file: &Path, text: &str) -> Self {
        Source {
            file: file.to_path_buf(),
            text: text.to_string(),
        }
    }
    pub fn location(&self, pos: Pos) -> SourceLocation {
        SourceLocation {
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
        }
    }
    /// The text of 1-based line `line`, if the file has it.
    pub fn line_text(&self, line: u64) -> Option<String> {
        let index = usize::try_from(line.checked_sub(1)?).ok()?;
        self.text.lines().nth(index).map(str::to_string)
    }
    /// A diagnostic at `pos`.
    pub fn diag(&self, pos: Pos, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: Some(self.location(pos)),
            path: path.to_string(),
            message: message.into(),
            hint: None,
            excerpt: self.line_text(pos.line),
        }
    }
}

impl Diagnostic {
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("error: ")?;
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        if let (Some(loc), Some(line)) = (&self.location, &self.excerpt) {
            write_excerpt(f, loc, line)?;
        }
        Ok(())
    }
}

/// The source line with a caret under the column:
/// ```text
///    |
/// 12 |     replica: 3
///    |     ^
/// ```
fn write_excerpt(f: &mut fmt::Formatter<'_>, loc: &SourceLocation, line: &str) -> fmt::Result {
    let number = loc.line.to_string();
    let gutter = " ".repeat(number.len());
    // Tabs would shift the caret: show them as single spaces.
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let col = usize::try_from(loc.column.max(1) - 1)
        .unwrap_or(0)
        .min(shown.chars().count());
    write!(
        f,
        "\n{gutter} |\n{number} | {shown}\n{gutter} | {}^",
        " ".repeat(col)
    )
}

fn render_all(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_io(
    file: &Path,
    reference: Option<&SourceLocation>,
    excerpt: Option<&str>,
    err: &std::io::Error,
) -> String {
    let d = Diagnostic {
        location: reference.cloned(),
        path: String::new(),
        message: format!("cannot read {}: {err}", file.display()),
        hint: None,
        excerpt: excerpt.map(str::to_string),
    };
    d.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_path_hint_and_caret() {
        let src = Source::new(Path::new("s.yaml"), "spec:\n  replica: 3\n");
        let d = src
            .diag(
                Pos { line: 2, column: 3 },
                "spec.replica",
                "unknown field `replica`",
            )
            .with_hint(Some("did you mean \"replicas\"?".into()));
        let want = "error: s.yaml:2:3: spec.replica: unknown field `replica`\n  hint: did you mean \"replicas\"?\n  |\n2 |   replica: 3\n  |   ^";
        assert_eq!(d.to_string(), want);
        let err = ScenarioError::Invalid(vec![d.clone(), d]);
        assert_eq!(err.to_string(), format!("{want}\n{want}"));
    }

    #[test]
    fn io_errors_name_the_file_and_the_reference() {
        let src = Source::new(Path::new("s.yaml"), "manifests:\n  - file: x.yaml\n");
        let err = ScenarioError::Io {
            file: PathBuf::from("dir/x.yaml"),
            reference: Some(src.location(Pos {
                line: 2,
                column: 11,
            })),
            excerpt: src.line_text(2),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("error: s.yaml:2:11: cannot read dir/x.yaml: not found"),
            "{text}"
        );
        assert!(text.ends_with("|           ^"), "{text}");
        assert!(src.line_text(0).is_none() && src.line_text(9).is_none());
    }
}
