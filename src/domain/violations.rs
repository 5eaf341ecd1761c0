//! Field violations gathered while parsing a request, so a caller learns of every bad
//! field at once rather than one per round trip.

/// One bad field: its path in the request (e.g. `application.employer.bin`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records the error of a parse, if any, and returns the value if there was one.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldViolation> {
        self.0.iter()
    }
}

impl Violations {
    /// A required, trimmed text of at most `max_chars` characters without control
    /// characters (other than newlines and tabs).
    pub fn text(
        &mut self,
        field: &str,
        value: &str,
        what: &str,
        max_chars: usize,
    ) -> Option<String> {
        let t = value.trim();
        if t.is_empty() {
            self.add(field, format!("{what} is required"));
            None
        } else if t.chars().count() > max_chars {
            self.add(
                field,
                format!("{what} is longer than {max_chars} characters"),
            );
            None
        } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.add(field, format!("{what} contains control characters"));
            None
        } else {
            Some(t.to_owned())
        }
    }

    /// A count within `0..=max`.
    pub fn count(&mut self, field: &str, value: u32, max: u32) -> u32 {
        if value > max {
            self.add(field, format!("must be from 0 to {max}"));
        }
        value.min(max)
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for Violations {
    /// `field: description; …`, the summary a status message carries.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.description)?;
        }
        Ok(())
    }
}
