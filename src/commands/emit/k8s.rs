//! A Kubernetes manifest: a ConfigMap with the scenario (scenario files
//! refer to no other file), an Indexed Job whose pod `i` runs shard `i/N`
//! (`JOB_COMPLETION_INDEX`), and a suspended merge Job to resume once every
//! shard has completed. The shards and the merge share the volume claim
//! `pooldrill-results`, mounted at `--out` (default `/results`).

use super::{ShardedRun, shell_quote};
use anyhow::{Result, bail};
use std::path::Path;

/// Where the ConfigMap is mounted in the pods.
const SCENARIO_DIR: &str = "/pooldrill-scenario";
/// The scenario's key in the ConfigMap, and its file name in the pods.
const SCENARIO_KEY: &str = "scenario.toml";
/// The volume claim the shards write to (ReadWriteMany).
const RESULTS_CLAIM: &str = "pooldrill-results";

/// The manifest for `run`; the pods run `image` (default
/// `pooldrill:VERSION`), which has `pooldrill` on its `PATH`.
pub fn manifest(run: &ShardedRun, image: Option<&str>) -> Result<String> {
    let out = match &run.out {
        Some(out) => mount_path(out)?,
        None => "/results".to_owned(),
    };
    let image = match image {
        Some(i) => super::utf8(Path::new(i), "--image")?,
        None => format!("pooldrill:{}", env!("CARGO_PKG_VERSION")),
    };
    let name = format!("pooldrill-{}", run.command);
    let scenario = format!("{SCENARIO_DIR}/{SCENARIO_KEY}");
    let task = run.task_command("pooldrill", &scenario, &out, "JOB_COMPLETION_INDEX", " ");
    let merge = run.merge_command("pooldrill", &out);
    let mut data = yaml_serde::Mapping::new();
    data.insert(SCENARIO_KEY.into(), run.source.as_str().into());
    let data = indent(&yaml_serde::to_string(&data)?, "  ");
    let (n, cpus) = (run.shards, run.cpus);
    Ok(format!(
        "# {summary}.
# The shards write to the volume claim {RESULTS_CLAIM} (ReadWriteMany, to be
# created first), mounted at {out_comment}; the image {image_comment} has
# pooldrill on its PATH. Each pod requests {cpus} CPU(s): no node with fewer
# can run it. Apply, wait for the shards, then resume the merge:
#   kubectl apply -f sweep.yaml
#   kubectl wait --for=condition=complete --timeout=-1s job/{name}
#   kubectl patch job/{name}-merge --type=merge -p '{{\"spec\":{{\"suspend\":false}}}}'
#   kubectl wait --for=condition=complete --timeout=-1s job/{name}-merge
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-scenario
data:
{data}---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  completionMode: Indexed  # pod i gets JOB_COMPLETION_INDEX = i, runs shard i/{n}
  completions: {n}
  parallelism: {n}
  backoffLimitPerIndex: 2  # a failed shard is retried on its own
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: shard
          image: {image_q}
          command: [\"sh\", \"-c\"]
          args:
            - {task_q}
          env:
            - name: RAYON_NUM_THREADS
              value: \"{cpus}\"
          resources:
            requests:
              cpu: \"{cpus}\"
          volumeMounts:
            - name: scenario
              mountPath: {SCENARIO_DIR}
              readOnly: true
            - name: results
              mountPath: {out_q}
      volumes:
        - name: scenario
          configMap:
            name: {name}-scenario
        - name: results
          persistentVolumeClaim:
            claimName: {RESULTS_CLAIM}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}-merge
spec:
  suspend: true  # resumed (kubectl patch above) once job/{name} has completed
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: merge
          image: {image_q}
          command: [\"sh\", \"-c\"]
          args:
            - {merge_q}
          volumeMounts:
            - name: results
              mountPath: {out_q}
      volumes:
        - name: results
          persistentVolumeClaim:
            claimName: {RESULTS_CLAIM}
",
        summary = run.summary(),
        out_comment = shell_quote(&out),
        image_comment = shell_quote(&image),
        image_q = yaml_quote(&image),
        task_q = yaml_quote(&task),
        merge_q = yaml_quote(&merge),
        out_q = yaml_quote(&out),
    ))
}

/// `--out` is where the results volume is mounted in the pods: an absolute
/// folder other than `/` and the scenario's.
fn mount_path(out: &Path) -> Result<String> {
    let text = super::utf8(out, "--out")?;
    let text = text.trim_end_matches('/');
    if !out.is_absolute() || text.is_empty() || Path::new(text).starts_with(SCENARIO_DIR) {
        bail!(
            "--out: expected the absolute folder the results volume is mounted at in the pods (e.g. /results), found {}",
            out.display()
        );
    }
    Ok(text.to_owned())
}

/// Every non-empty line of `text` prefixed with `prefix`.
fn indent(text: &str, prefix: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.trim_end_matches(['\n', '\r']).is_empty() {
                line.to_owned()
            } else {
                format!("{prefix}{line}")
            }
        })
        .collect()
}

/// `s` as a YAML double-quoted scalar: `\\`, `"` and every character
/// outside printable ASCII escaped, so no YAML reader folds or drops any.
fn yaml_quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                q.push('\\');
                q.push(c);
            }
            ' '..='~' => q.push(c),
            c if u32::from(c) <= 0xffff => q.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => q.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_string_reads_back_unchanged() {
        for s in [
            "plain",
            "",
            "say \"hi\" \\ there",
            "tab\tnew\nline\r",
            "ls\u{2028}ps\u{2029}nel\u{85}bom\u{feff}",
            "ü ☃ 🦀",
            "#: - {x} [y] &z *w !v %u @t `s`",
        ] {
            let back: String = yaml_serde::from_str(&yaml_quote(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn the_results_folder_is_absolute_and_apart() {
        assert_eq!(mount_path(Path::new("/results/")).unwrap(), "/results");
        for bad in [
            "results",
            "/",
            "/pooldrill-scenario",
            "/pooldrill-scenario/x",
        ] {
            assert!(mount_path(Path::new(bad)).is_err(), "{bad}");
        }
    }
}
