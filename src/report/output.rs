//! An output folder written safely: every file goes to a staging folder
//! inside it first and is renamed into place only when the whole command
//! succeeded, so a failed or interrupted command leaves the previous output
//! intact and never a half-written file.
//!
//! Committing is all or nothing for a whole set of folders
//! ([`commit_all`]): every target is checked before the first rename (a
//! folder or a special file in the way fails with nothing changed), each
//! replaced file is kept aside until the last rename is done, and a rename
//! that still fails undoes the ones done before it. Folders are never
//! swapped whole, so files pooldrill did not write stay.
//!
//! Each folder records the files pooldrill wrote into it in
//! [`RECORD`]; the next command into that folder removes those it does not
//! write itself (a single run after a replicated one, a 1-key sweep after a
//! 2-key sweep), and never a file that is not in the record.

use super::staging;
use crate::interrupt;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The file, in every output folder, listing what pooldrill wrote there.
pub const RECORD: &str = ".pooldrill-files.json";

/// The contents of [`RECORD`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// The files the last command wrote into the folder, sorted.
    pub files: Vec<String>,
}

impl Record {
    /// The record of `dir`: empty if there is none or it cannot be read (then
    /// nothing is removed). Names that are not plain file names are dropped,
    /// so a record can never point outside its folder.
    pub fn read(dir: &Path) -> Record {
        let files = fs::read(dir.join(RECORD))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
            .map(|r| r.files)
            .unwrap_or_default();
        Record {
            files: files.into_iter().filter(|n| plain_name(n)).collect(),
        }
    }
}

/// Whether `name` is a file name of its own folder (not `..`, no separator,
/// not the record).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name != RECORD
        && !name.contains(['/', '\\', '\0'])
}

/// A rename: (from, to).
type Rename = (PathBuf, PathBuf);

/// A folder being written.
pub struct OutputDir {
    dir: PathBuf,
    staging: PathBuf,
    files: Vec<String>,
    /// The highest folder of `dir`'s path that this created: removed again
    /// (when empty) if the command fails.
    created: Option<PathBuf>,
    committed: bool,
}

impl OutputDir {
    /// Prepare `dir` (created if missing) for new files; first remove the
    /// staging folders this host's dead processes left in it.
    pub fn create(dir: &Path) -> Result<OutputDir> {
        if dir.exists() && !dir.is_dir() {
            bail!("output path {} is a file, not a folder", dir.display());
        }
        let created = highest_missing(dir);
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        staging::reap(dir);
        let out = OutputDir {
            dir: dir.to_owned(),
            staging: dir.join(staging::new_name()),
            files: Vec::new(),
            created,
            committed: false,
        };
        fs::create_dir(&out.staging)
            .with_context(|| format!("cannot write in the output folder {}", dir.display()))?;
        Ok(out)
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

    /// Move every staged file into place and remove the files an earlier
    /// command recorded here that this one does not write (see
    /// [`commit_all`]).
    pub fn commit(self) -> Result<()> {
        commit_all(vec![self])
    }

    /// Write the record of this command's files into the staging folder;
    /// returns the renames (staged, target) and the stale files.
    fn plan(&self) -> Result<(Vec<Rename>, Vec<PathBuf>)> {
        let written: BTreeSet<&str> = self.files.iter().map(String::as_str).collect();
        let record = Record {
            files: written.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut json = serde_json::to_vec_pretty(&record)?;
        json.push(b'\n');
        fs::write(self.staging.join(RECORD), json)
            .with_context(|| format!("cannot write {}", self.dir.join(RECORD).display()))?;
        let moves = written
            .iter()
            .copied()
            .chain([RECORD])
            .map(|name| (self.staging.join(name), self.dir.join(name)))
            .collect();
        let stale = Record::read(&self.dir)
            .files
            .into_iter()
            .filter(|name| !written.contains(name.as_str()))
            .map(|name| self.dir.join(name))
            .filter(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .collect();
        Ok((moves, stale))
    }

    /// Where a file replaced or removed by the commit is kept until the
    /// commit is complete.
    fn aside(&self, target: &Path) -> PathBuf {
        self.staging
            .join(".replaced")
            .join(target.file_name().unwrap_or_default())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        fs::remove_dir_all(&self.staging).ok();
        if let Some(top) = &self.created {
            remove_created(&self.dir, top);
        }
    }
}

/// The highest folder of `dir`'s path that does not exist yet (what
/// `create_dir_all(dir)` will create first), if any.
pub fn highest_missing(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(Path::to_owned)
}

/// Remove `dir` and its parents up to `top`, each only if it is empty:
/// the folders a failed command created, never anything else.
pub fn remove_created(dir: &Path, top: &Path) {
    for d in dir.ancestors() {
        if fs::remove_dir(d).is_err() || d == top {
            break;
        }
    }
}

/// Commit several output folders as one set: all of their files are in
/// place, or none (the previous files stay).
///
/// Before the first rename, every target must be absent or a regular file
/// (a folder, a symbolic link or a special file in the way fails the commit
/// with nothing changed). Each replaced or stale file is first moved into
/// its folder's staging folder and deleted only once every rename is done;
/// if a rename fails, the ones done are undone in reverse order. A signal
/// during the commit is acted on once it is complete.
pub fn commit_all(mut dirs: Vec<OutputDir>) -> Result<()> {
    let _hold = interrupt::hold();
    if interrupt::requested() {
        return Err(interrupt::Stopped.into());
    }
    // (from, to) renames in order: old file aside, new file in place, stale
    // files aside.
    let mut renames: Vec<Rename> = Vec::new();
    let mut targets = BTreeSet::new();
    for d in &dirs {
        let (moves, stale) = d.plan()?;
        fs::create_dir_all(d.staging.join(".replaced"))
            .with_context(|| format!("cannot write in the output folder {}", d.dir.display()))?;
        for (staged, target) in moves {
            if !targets.insert(target.clone()) {
                bail!(
                    "two outputs of this command would both be {}: nothing was changed",
                    target.display()
                );
            }
            match fs::symlink_metadata(&target) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(m) if m.is_file() => renames.push((target.clone(), d.aside(&target))),
                Ok(m) => bail!(
                    "cannot replace {}: it is {}, not a file pooldrill wrote; nothing was changed \
                     (move it away or write elsewhere)",
                    target.display(),
                    kind(&m.file_type())
                ),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", target.display()));
                }
            }
            if !staged.is_file() {
                bail!(
                    "{} was not written (staged at {}): nothing was changed",
                    target.display(),
                    staged.display()
                );
            }
            renames.push((staged, target));
        }
        for path in stale {
            let aside = d.aside(&path);
            renames.push((path, aside));
        }
    }
    if let Err(failed) = rename_all(&renames) {
        let what = if failed.left.is_empty() {
            "nothing was changed".to_owned()
        } else {
            // Keep the staging folders: they hold what could not be put back.
            for d in &mut dirs {
                d.committed = true;
            }
            format!("could not put back: {}", failed.left.join("; "))
        };
        return Err(failed.error).with_context(|| {
            format!(
                "cannot move {} to {}; {what}",
                failed.from.display(),
                failed.to.display()
            )
        });
    }
    for d in &mut dirs {
        fs::remove_dir_all(&d.staging).ok();
        d.committed = true;
    }
    Ok(())
}

/// A rename of [`rename_all`] that failed, and what could not be undone.
struct RenameFailed {
    from: PathBuf,
    to: PathBuf,
    error: std::io::Error,
    /// The files that could not be put back, with where they are.
    left: Vec<String>,
}

/// Do every rename (from, to) in order; if one fails, undo the ones done,
/// in reverse order.
fn rename_all(renames: &[Rename]) -> Result<(), RenameFailed> {
    for (i, (from, to)) in renames.iter().enumerate() {
        if let Err(error) = fs::rename(from, to) {
            let mut left = Vec::new();
            for (from, to) in renames[..i].iter().rev() {
                if let Err(e) = fs::rename(to, from) {
                    left.push(format!("{} (now {}: {e})", from.display(), to.display()));
                }
            }
            return Err(RenameFailed {
                from: from.clone(),
                to: to.clone(),
                error,
                left,
            });
        }
    }
    Ok(())
}

/// Whether `a` and `b` are the same existing folder (through any link or
/// spelling of the path).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.is_dir() && a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// What a file type is, in words.
pub fn kind(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

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
        assert_eq!(names(&dir), [RECORD, "a.txt"], "staging folder removed");
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let err = OutputDir::create(&file).err().unwrap().to_string();
        assert!(err.contains("is a file, not a folder"), "{err}");
    }

    #[test]
    fn a_failed_command_removes_the_empty_folders_it_created_and_only_those() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/c");
        drop(OutputDir::create(&dir).unwrap());
        assert!(!tmp.path().join("a").exists());
        fs::create_dir(tmp.path().join("kept")).unwrap();
        drop(OutputDir::create(&tmp.path().join("kept/new")).unwrap());
        assert!(tmp.path().join("kept").exists());
        assert!(!tmp.path().join("kept/new").exists());
    }

    #[test]
    fn a_folder_in_the_way_fails_the_whole_set_with_nothing_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for d in [&a, &b] {
            let mut out = OutputDir::create(d).unwrap();
            out.write("x", b"old").unwrap();
            out.write("y", b"old").unwrap();
            out.commit().unwrap();
        }
        fs::remove_file(b.join("y")).unwrap();
        fs::create_dir(b.join("y")).unwrap();
        let mut sets = Vec::new();
        for d in [&a, &b] {
            let mut out = OutputDir::create(d).unwrap();
            out.write("x", b"new").unwrap();
            out.write("y", b"new").unwrap();
            sets.push(out);
        }
        let err = format!("{:#}", commit_all(sets).unwrap_err());
        assert!(err.contains("it is a folder"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        for d in [&a, &b] {
            assert_eq!(fs::read_to_string(d.join("x")).unwrap(), "old");
        }
        assert_eq!(names(&b), [RECORD, "x", "y"]);
    }

    #[test]
    fn a_rename_that_fails_midway_is_undone() {
        let tmp = tempfile::tempdir().unwrap();
        let p = |n: &str| tmp.path().join(n);
        fs::write(p("a"), "old").unwrap();
        fs::write(p("new-a"), "new").unwrap();
        let renames = [
            (p("a"), p("aside-a")),
            (p("new-a"), p("a")),
            (p("missing"), p("b")),
        ];
        let failed = rename_all(&renames).err().unwrap();
        assert_eq!(failed.from, p("missing"));
        assert!(failed.left.is_empty());
        assert_eq!(fs::read_to_string(p("a")).unwrap(), "old");
        assert_eq!(fs::read_to_string(p("new-a")).unwrap(), "new");
        assert!(!p("aside-a").exists());
    }

    #[test]
    fn files_an_earlier_command_wrote_are_removed_and_others_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut out = OutputDir::create(&dir).unwrap();
        out.write("summary.json", b"{}").unwrap();
        out.write("pods.csv", b"").unwrap();
        out.commit().unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        let mut out = OutputDir::create(&dir).unwrap();
        out.write("kpis.csv", b"").unwrap();
        out.write("pods.csv", b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(names(&dir), [RECORD, "kpis.csv", "notes.txt", "pods.csv"]);
        let record = Record::read(&dir);
        assert_eq!(record.files, ["kpis.csv", "pods.csv"]);
    }

    #[test]
    fn a_record_naming_files_outside_its_folder_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(tmp.path().join("victim"), "x").unwrap();
        fs::write(
            dir.join(RECORD),
            r#"{"files": ["../victim", "/etc/passwd", ".."]}"#,
        )
        .unwrap();
        let mut out = OutputDir::create(&dir).unwrap();
        out.write("a", b"").unwrap();
        out.commit().unwrap();
        assert!(tmp.path().join("victim").exists());
    }
}
