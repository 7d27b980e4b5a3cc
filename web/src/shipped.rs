//! The scenarios shipped in scenarios/, compiled in: the page fetches
//! nothing but its own files.

use serde_json::{Value, json};

/// File names and texts, in the picker's order.
const SHIPPED: [(&str, &str); 14] = [
    ("before.toml", include_str!("../../scenarios/before.toml")),
    ("after.toml", include_str!("../../scenarios/after.toml")),
    ("fixed.toml", include_str!("../../scenarios/fixed.toml")),
    (
        "incident.toml",
        include_str!("../../scenarios/incident.toml"),
    ),
    (
        "incident-as-told.toml",
        include_str!("../../scenarios/incident-as-told.toml"),
    ),
    (
        "shared-pool.toml",
        include_str!("../../scenarios/shared-pool.toml"),
    ),
    (
        "separate-pool.toml",
        include_str!("../../scenarios/separate-pool.toml"),
    ),
    (
        "retry-none.toml",
        include_str!("../../scenarios/retry-none.toml"),
    ),
    (
        "retry-storm.toml",
        include_str!("../../scenarios/retry-storm.toml"),
    ),
    (
        "retry-budget.toml",
        include_str!("../../scenarios/retry-budget.toml"),
    ),
    ("sidecar.toml", include_str!("../../scenarios/sidecar.toml")),
    (
        "priorities.toml",
        include_str!("../../scenarios/priorities.toml"),
    ),
    (
        "queue-based.toml",
        include_str!("../../scenarios/queue-based.toml"),
    ),
    (
        "cpu-contention.toml",
        include_str!("../../scenarios/cpu-contention.toml"),
    ),
];

/// The shipped scenarios: `[{"name": "after", "file": "after.toml", "text": …}]`.
pub fn list() -> Vec<Value> {
    SHIPPED
        .iter()
        .map(|(file, text)| json!({ "name": file.trim_end_matches(".toml"), "file": file, "text": text }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::SHIPPED;

    #[test]
    fn every_shipped_scenario_is_in_the_list() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        files.sort();
        let mut listed: Vec<&str> = SHIPPED.iter().map(|(f, _)| *f).collect();
        listed.sort();
        assert_eq!(
            files, listed,
            "a scenario added to scenarios/ goes in the page's picker"
        );
    }
}
