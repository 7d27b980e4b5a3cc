//! An alert rule's severity: `page` wakes someone up; the rest is whatever
//! the rule's author wrote (`warning`, `ticket`…), kept as written.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How urgent an alert is. Written and read as its text: `page`,
/// `warning`, or any other word (empty when the rule sets none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Severity {
    /// `page`: someone is woken up.
    Page,
    /// `warning`: looked at in working hours.
    Warning,
    /// Any other text, empty if the rule sets none.
    Other(String),
}

impl Severity {
    /// The text of the severity, as written in a rule.
    pub fn as_str(&self) -> &str {
        match self {
            Severity::Page => "page",
            Severity::Warning => "warning",
            Severity::Other(text) => text,
        }
    }
}

impl Default for Severity {
    /// No severity set: the empty text.
    fn default() -> Severity {
        Severity::Other(String::new())
    }
}

impl From<String> for Severity {
    fn from(text: String) -> Severity {
        match text.as_str() {
            "page" => Severity::Page,
            "warning" => Severity::Warning,
            _ => Severity::Other(text),
        }
    }
}

impl From<Severity> for String {
    fn from(severity: Severity) -> String {
        severity.as_str().to_owned()
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn severities_read_and_write_as_their_text() {
        for (text, severity) in [
            ("page", Severity::Page),
            ("warning", Severity::Warning),
            ("ticket", Severity::Other("ticket".into())),
            ("", Severity::default()),
        ] {
            let parsed: Severity = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(parsed, severity);
            assert_eq!(
                serde_json::to_string(&severity).unwrap(),
                format!("\"{text}\"")
            );
            assert_eq!(severity.to_string(), text);
        }
    }
}
