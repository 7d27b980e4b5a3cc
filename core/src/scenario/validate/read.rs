//! A scenario's bytes as text: size-capped, UTF-8 checked, BOM removed. The
//! bytes come from the caller's resolver (`scenario::resolve`): the core
//! touches no filesystem.

use crate::scenario::ScenarioError;

/// Largest scenario file read (a scenario is a page of text).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Scenario bytes as text: size-capped, UTF-8 checked, BOM removed; `file`
/// names them in errors.
pub fn decode(file: &str, bytes: &[u8]) -> std::result::Result<String, ScenarioError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::at_span(
            file,
            "",
            None,
            "",
            "expected a scenario file of at most 1 MiB, found more",
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ScenarioError {
            line: 1,
            column: 1,
            ..ScenarioError::at_span(
                file,
                "",
                None,
                "",
                "expected UTF-8 text, found UTF-16 (save the file as UTF-8)",
            )
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = crate::scenario::error::line_column(valid, valid.len());
            Err(ScenarioError {
                file: file.to_owned(),
                line,
                column,
                path: String::new(),
                message: format!(
                    "expected UTF-8 text, found the byte 0x{:02x} (a binary file, or text in another encoding?)",
                    bytes[e.valid_up_to()]
                ),
                snippet: None,
            })
        }
    }
}
