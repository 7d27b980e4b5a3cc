//! An output folder written safely: every file goes to a staging folder
//! inside it first and is renamed into place only when the whole run
//! succeeded, so a failed or interrupted run leaves the previous output
//! intact and never a half-written file.

use anyhow::{Context, Result, bail};
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A folder being written.
pub struct OutputDir {
    dir: PathBuf,
    staging: PathBuf,
    files: Vec<String>,
    /// Files of an earlier run that this one does not write: removed on
    /// commit, so the folder never mixes two runs.
    stale: Vec<String>,
    committed: bool,
}

impl OutputDir {
    /// Prepare `dir` (created if missing) for new files.
    pub fn create(dir: &Path) -> Result<OutputDir> {
        if dir.exists() && !dir.is_dir() {
            bail!("output path {} is a file, not a folder", dir.display());
        }
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        let staging = dir.join(format!(".pooldrill-staging-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).ok();
        }
        fs::create_dir(&staging)
            .with_context(|| format!("cannot write in the output folder {}", dir.display()))?;
        Ok(OutputDir {
            dir: dir.to_owned(),
            staging,
            files: Vec::new(),
            stale: Vec::new(),
            committed: false,
        })
    }

    /// The final folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A new staged file named `name`.
    pub fn file(&mut self, name: &str) -> Result<BufWriter<File>> {
        let path = self.staging.join(name);
        let f = File::create(&path)
            .with_context(|| format!("cannot create {}", self.dir.join(name).display()))?;
        self.files.push(name.to_owned());
        Ok(BufWriter::with_capacity(1 << 16, f))
    }

    /// Write a whole staged file at once.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.staging.join(name);
        fs::write(&path, bytes)
            .with_context(|| format!("cannot write {}", self.dir.join(name).display()))?;
        self.files.push(name.to_owned());
        Ok(())
    }

    /// The staging path of a new file `name`, for writers that want a path
    /// (charts): whatever is written there moves into place on commit.
    pub fn staged_path(&mut self, name: &str) -> PathBuf {
        self.files.push(name.to_owned());
        self.staging.join(name)
    }

    /// The staging stem of a chart `stem` (`stem.png` and `stem.svg`).
    pub fn chart_stem(&mut self, stem: &str) -> PathBuf {
        self.staged_path(&format!("{stem}.png"));
        self.staged_path(&format!("{stem}.svg"));
        self.staging.join(stem)
    }

    /// Remove `name`, left by an earlier run, when this run commits (it does
    /// not write that file).
    pub fn remove_on_commit(&mut self, name: &str) {
        self.stale.push(name.to_owned());
    }

    /// Move every staged file into place and remove the stale ones.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        for name in &self.files {
            let target = self.dir.join(name);
            fs::rename(self.staging.join(name), &target)
                .with_context(|| format!("cannot move {} into place", target.display()))?;
            done.push(target);
        }
        for name in &self.stale {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e)
                        .with_context(|| format!("cannot remove the stale {}", path.display()));
                }
                _ => {}
            }
        }
        fs::remove_dir_all(&self.staging).ok();
        self.committed = true;
        Ok(done)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            fs::remove_dir_all(&self.staging).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn nothing_lands_until_commit_and_a_dropped_run_leaves_the_old_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut out = OutputDir::create(&dir).unwrap();
        out.write("a.txt", b"old").unwrap();
        out.commit().unwrap();
        let mut out = OutputDir::create(&dir).unwrap();
        let mut f = out.file("a.txt").unwrap();
        f.write_all(b"new, half written").unwrap();
        drop(f);
        drop(out); // failed run
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "staging folder removed"
        );
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = OutputDir::create(&file).err().unwrap().to_string();
        assert!(err.contains("is a file, not a folder"), "{err}");
    }
}
