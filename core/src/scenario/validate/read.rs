//! Reading a scenario file: size-capped, UTF-8 checked, BOM removed. The
//! only part of validation that touches the filesystem.

use super::{Overrides, parse_with};
use crate::scenario::{Scenario, ScenarioError};
use std::io::Read;
use std::path::Path;

/// Largest scenario file read (a scenario is a page of text).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Read, parse and validate a scenario file.
pub fn load_file(
    path: &Path,
    overrides: Overrides,
) -> std::result::Result<Scenario, ScenarioError> {
    let source = read_source(path)?;
    parse_with(&path.display().to_string(), &source, overrides)
}

/// Read a scenario file as text: size-capped, UTF-8 checked, BOM removed.
/// At most [`MAX_FILE_BYTES`] + 1 bytes are read, so that a device or a pipe
/// (`/dev/zero`) cannot exhaust memory.
pub fn read_source(path: &Path) -> std::result::Result<String, ScenarioError> {
    let name = path.display().to_string();
    let whole = |message: String| ScenarioError::at_span(&name, "", None, "", message);
    let cannot = |e: std::io::Error| whole(format!("cannot read the file: {}", io_reason(&e)));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(whole("expected a scenario file, found a directory".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(whole(format!(
            "expected a scenario file of at most 1 MiB, found {:.1} MiB",
            meta.len() as f64 / 1048576.0
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    decode(&name, &bytes)
}

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

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
