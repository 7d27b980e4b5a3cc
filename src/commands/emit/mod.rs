//! `--emit slurm|k8s`: instead of running a sweep, print what runs it on a
//! cluster in `--shards N` slices — a Slurm job array ([`slurm`]) or a
//! Kubernetes Indexed Job ([`k8s`]) — with the merge step. Nothing is run
//! and nothing is written; the text goes to stdout in one write.

pub mod k8s;
pub mod slurm;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The batch engines `--emit` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// A Slurm job array script, for `sbatch`.
    Slurm,
    /// A Kubernetes Indexed Job manifest, for `kubectl apply -f`.
    K8s,
}

/// One flag the shards are run with, as the user gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The long name with its dashes, e.g. `--set`.
    pub name: &'static str,
    /// The value, unquoted; `None` for a switch.
    pub value: Option<String>,
}

impl Flag {
    /// `name value` with the value quoted for a POSIX shell.
    fn shell(&self) -> String {
        match &self.value {
            Some(v) => format!("{} {}", self.name, shell_quote(v)),
            None => self.name.to_owned(),
        }
    }
}

/// A command cut into shards: what every task runs, less the shard and the
/// output folder, which the emitted file fills in per task.
#[derive(Clone, Debug)]
pub struct ShardedRun {
    /// The subcommand, e.g. `sweep`.
    pub command: &'static str,
    /// The scenario's name, for comments.
    pub name: String,
    /// The scenario file as given.
    pub scenario: PathBuf,
    /// The scenario's text (a Kubernetes ConfigMap carries it).
    pub source: String,
    /// Every other flag the tasks need, in order.
    pub flags: Vec<Flag>,
    /// Grid points.
    pub points: usize,
    /// Replications per point.
    pub replications: u32,
    /// How many shards (array tasks, Job completions).
    pub shards: u32,
    /// CPUs per shard.
    pub cpus: u32,
    /// The folder the shards' folders and the merge go into, as given
    /// (default: `output/COMMAND-NAME` for Slurm, `/results` for Kubernetes).
    pub out: Option<PathBuf>,
}

impl ShardedRun {
    /// Every run of the sweep: grid points × replications.
    pub fn runs(&self) -> usize {
        self.points * self.replications as usize
    }

    /// `--shards` must give every shard at least one run.
    pub fn check_shards(&self) -> Result<()> {
        let runs = self.runs();
        if self.shards == 0 || self.shards as usize > runs {
            bail!(
                "--shards: expected a number of shards from 1 to {runs} (the sweep's runs: {} points × {} replications), found {}",
                self.points,
                self.replications,
                self.shards
            );
        }
        Ok(())
    }

    /// The first comment line of every emitted file.
    fn summary(&self) -> String {
        format!(
            "pooldrill {} of \"{}\": {} points × {} replications = {} runs in {} shards",
            self.command,
            self.name.escape_debug(),
            self.points,
            self.replications,
            self.runs(),
            self.shards
        )
    }

    /// The task's command, `program … --shard "${var}/N" --out out/shard-"${var}"`,
    /// reading the scenario at `scenario`, the words joined by `separator`.
    fn task_command(
        &self,
        program: &str,
        scenario: &str,
        out: &str,
        var: &str,
        separator: &str,
    ) -> String {
        let mut lines = vec![format!(
            "{} -q {} {}",
            shell_quote(program),
            self.command,
            shell_quote(scenario)
        )];
        lines.extend(self.flags.iter().map(Flag::shell));
        lines.push(format!("--shard \"${{{var}}}/{}\"", self.shards));
        lines.push(format!("--out {}/shard-\"${{{var}}}\"", shell_quote(out)));
        lines.join(separator)
    }

    /// The merge of every shard folder under `out` into `out/merged`.
    fn merge_command(&self, program: &str, out: &str) -> String {
        let out = shell_quote(out);
        format!(
            "{} merge {out}/shard-* --out {out}/merged",
            shell_quote(program)
        )
    }
}

/// Print `run` for `target` on stdout, in one write. Returns the exit code:
/// 0, or 141 when the reader has gone (the text is the product).
pub fn emit(target: Emit, run: &ShardedRun, image: Option<&str>) -> Result<i32> {
    run.check_shards()?;
    let text = match target {
        Emit::Slurm => {
            if image.is_some() {
                bail!("--image: only used by --emit k8s, found --emit slurm");
            }
            let program = std::env::current_exe()
                .context("cannot find the running pooldrill binary's path")?;
            let out = match &run.out {
                Some(out) => out.clone(),
                None => Path::new("output").join(format!("{}-{}", run.command, run.name)),
            };
            slurm::script(
                run,
                &utf8(&program, "the pooldrill binary")?,
                &absolute(&out)?,
            )?
        }
        Emit::K8s => k8s::manifest(run, image)?,
    };
    crate::stdout::product(format_args!("{text}"))?;
    Ok(0)
}

/// `path` from the current folder, without `.` steps or a trailing `/`.
fn absolute(path: &Path) -> Result<String> {
    let abs = std::path::absolute(path)
        .with_context(|| format!("cannot make {} absolute", path.display()))?;
    utf8(&abs.components().collect::<PathBuf>(), "a path")
}

/// `path` as UTF-8 text without control characters, which a script or a
/// manifest can hold (and show in a comment).
fn utf8(path: &Path, what: &str) -> Result<String> {
    match path.to_str() {
        Some(s) if !s.chars().any(char::is_control) => Ok(s.to_owned()),
        _ => bail!(
            "--emit: expected {what} in UTF-8 without control characters, found {:?}",
            path.as_os_str()
        ),
    }
}

/// `s` as one word for a POSIX shell: as is when it has only characters no
/// shell treats specially, else in single quotes (a `'` as `'\''`).
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+./:=,@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sh` makes of `word`, echoed back with a separator per word.
    fn sh_words(line: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s|' {line}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn a_quoted_word_reaches_the_program_unchanged() {
        for word in [
            "pool.max=4..12:2",
            "",
            "a b",
            "it's",
            "$HOME",
            "`id`",
            "*",
            "x\"y\\z",
            "tab\there",
            "line\nbreak",
            "~user",
            "-",
            "ü",
        ] {
            assert_eq!(sh_words(&shell_quote(word)), format!("{word}|"), "{word:?}");
        }
        assert_eq!(
            shell_quote("traffic.rate=1000/s..3000/s:500/s"),
            "traffic.rate=1000/s..3000/s:500/s"
        );
    }

    fn run(points: usize, replications: u32, shards: u32) -> ShardedRun {
        ShardedRun {
            command: "sweep",
            name: "tiny".into(),
            scenario: "tiny.toml".into(),
            source: String::new(),
            flags: Vec::new(),
            points,
            replications,
            shards,
            cpus: 1,
            out: None,
        }
    }

    #[test]
    fn every_shard_gets_a_run() {
        assert!(run(6, 2, 12).check_shards().is_ok());
        assert!(run(6, 2, 1).check_shards().is_ok());
        let e = run(6, 2, 13).check_shards().unwrap_err().to_string();
        assert_eq!(
            e,
            "--shards: expected a number of shards from 1 to 12 (the sweep's runs: 6 points × 2 replications), found 13"
        );
        assert!(run(6, 2, 0).check_shards().is_err());
    }
}
