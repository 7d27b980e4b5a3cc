//! One output file (`run --openmetrics PATH`, `report --out FILE`, `alerts
//! --write-test PATH`), written without ever replacing what is not a
//! regular file:
//!
//! * no file yet, or a regular file: a temporary file beside it, renamed
//!   onto it on [`commit`](OutputFile::commit) (all or nothing); a symbolic
//!   link to a regular file is followed, so the link stays a link;
//! * a FIFO or a character device (`/dev/null`, `/dev/stdout`): written
//!   through, opened without blocking, so a FIFO with no reader is refused
//!   at once instead of waited on;
//! * `-`: standard output; if it is closed the command ends with
//!   [`stdout::Closed`] (exit 141);
//! * a folder, a block device, a socket or a link to nothing: refused.

use super::output::{highest_missing, kind, remove_created};
use super::staging;
use crate::stdout;
use anyhow::{Context, Result, bail};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Where the bytes go.
enum Sink {
    /// Standard output.
    Stdout(BufWriter<stdout::Product>),
    /// A temporary file renamed onto `target` on commit; `created` is the
    /// highest folder of its path this created (removed again if empty
    /// when the command fails).
    Atomic {
        temp: PathBuf,
        target: PathBuf,
        file: BufWriter<File>,
        created: Option<PathBuf>,
    },
    /// A FIFO or character device, written through.
    Through(BufWriter<File>),
}

/// A single output file being written.
pub struct OutputFile {
    sink: Sink,
    committed: bool,
}

impl OutputFile {
    /// Open `path` for writing (`-`: standard output) as the module says;
    /// fails at once, before any work, on a path that cannot be written
    /// (a missing folder included) and on one of the command's `inputs`
    /// (by any name: a link, another path to the same file).
    pub fn create(path: &Path, inputs: &[&Path]) -> Result<OutputFile> {
        OutputFile::open(path, inputs, false)
    }

    /// [`create`](Self::create), creating the missing folders of `path`
    /// (removed again, when empty, if the command fails).
    pub fn create_with_folders(path: &Path, inputs: &[&Path]) -> Result<OutputFile> {
        OutputFile::open(path, inputs, true)
    }

    fn open(path: &Path, inputs: &[&Path], folders: bool) -> Result<OutputFile> {
        let sink = if path.as_os_str() == "-" {
            Sink::Stdout(BufWriter::with_capacity(1 << 16, stdout::Product))
        } else {
            refuse_an_input(path, inputs)?;
            open(path, folders)?
        };
        Ok(OutputFile {
            sink,
            committed: false,
        })
    }

    /// Whether this writes to standard output (the command's terminal text
    /// then goes to standard error).
    pub fn is_stdout(&self) -> bool {
        matches!(self.sink, Sink::Stdout(_))
    }

    /// Flush, and move the file into place if it is a regular file.
    pub fn commit(mut self) -> Result<()> {
        self.flush()?;
        if let Sink::Atomic { temp, target, .. } = &self.sink {
            fs::rename(temp, target)
                .with_context(|| format!("cannot move {} into place", target.display()))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(w) => w.write(buf),
            Sink::Atomic { file, .. } => file.write(buf),
            Sink::Through(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(w) => w.flush(),
            Sink::Atomic { file, .. } => file.flush(),
            Sink::Through(w) => w.flush(),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Sink::Atomic { temp, created, .. } = &self.sink
            && !self.committed
        {
            fs::remove_file(temp).ok();
            if let (Some(top), Some(folder)) = (created, temp.parent()) {
                remove_created(folder, top);
            }
        }
    }
}

/// Refuse `path` if it is one of `inputs` (the same file on the same
/// device, whatever the names): writing there would destroy what the
/// command reads.
fn refuse_an_input(path: &Path, inputs: &[&Path]) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Some(out) = fs::metadata(path).ok().filter(fs::Metadata::is_file) else {
        return Ok(());
    };
    for input in inputs {
        if fs::metadata(input).is_ok_and(|i| i.dev() == out.dev() && i.ino() == out.ino()) {
            bail!(
                "{} is the input {}: choose another output path",
                path.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Open `path` as the module says (creating its missing `folders` if
/// asked).
fn open(path: &Path, folders: bool) -> Result<Sink> {
    let shown = path.display();
    let meta = match fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                bail!("{shown} is a symbolic link to nothing: expected a file name");
            }
            None
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
    };
    let t = match meta {
        None => return atomic(path.to_owned(), folders),
        Some(m) if m.is_file() => {
            // A link is followed to the file it names, which is replaced.
            let target = fs::canonicalize(path)
                .with_context(|| format!("cannot resolve the path {shown}"))?;
            return atomic(target, false);
        }
        Some(m) => m.file_type(),
    };
    if !(t.is_fifo() || t.is_char_device()) {
        bail!(
            "{shown} is {}: expected a file name (or a FIFO, a character device like /dev/null, or - for standard output)",
            kind(&t)
        );
    }
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path);
    let file = match file {
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            bail!("{shown} is a FIFO with no reader: start its reader first")
        }
        f => f.with_context(|| format!("cannot open {shown}"))?,
    };
    if !file.metadata().is_ok_and(|m| !m.is_file()) {
        // Replaced by a regular file since it was looked at.
        bail!("{shown} changed while it was being opened: try again");
    }
    blocking(&file).with_context(|| format!("cannot open {shown}"))?;
    Ok(Sink::Through(BufWriter::with_capacity(1 << 16, file)))
}

/// A temporary file in `target`'s folder (created if missing and
/// `folders`), to be renamed onto it.
fn atomic(target: PathBuf, folders: bool) -> Result<Sink> {
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let created = folders.then(|| highest_missing(&folder)).flatten();
    if folders {
        fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    staging::reap(&folder);
    let temp = folder.join(staging::new_name());
    let file = OpenOptions::new().write(true).create_new(true).open(&temp);
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            if let Some(top) = &created {
                remove_created(&folder, top);
            }
            return Err(e).with_context(|| format!("cannot write {}", target.display()));
        }
    };
    Ok(Sink::Atomic {
        temp,
        target,
        file: BufWriter::with_capacity(1 << 16, file),
        created,
    })
}

/// Writes to `file` wait again (it was opened non-blocking).
#[allow(unsafe_code, reason = "std has no safe call to clear O_NONBLOCK")]
fn blocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: both fcntl calls act on a descriptor this process owns and
    // pass only integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) -> Result<()> {
        let mut f = OutputFile::create(path, &[])?;
        f.write_all(text.as_bytes())?;
        f.commit()
    }

    #[test]
    fn a_regular_file_is_replaced_whole_and_a_link_to_it_stays_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real.om");
        let link = tmp.path().join("link.om");
        write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, "new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mut names: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        names.sort_by_key(|e| e.as_ref().unwrap().file_name());
        assert_eq!(names.len(), 2, "no temporary file left");
    }

    #[test]
    fn a_dropped_file_leaves_the_old_one() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x");
        write(&path, "old").unwrap();
        let mut f = OutputFile::create(&path, &[]).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn dev_null_is_written_through_and_folders_and_dangling_links_are_refused() {
        write(Path::new("/dev/null"), "x").unwrap();
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        let tmp = tempfile::tempdir().unwrap();
        let err = write(tmp.path(), "x").unwrap_err().to_string();
        assert!(err.contains("is a folder"), "{err}");
        let dangling = tmp.path().join("dangling");
        std::os::unix::fs::symlink(tmp.path().join("nothing"), &dangling).unwrap();
        let err = write(&dangling, "x").unwrap_err().to_string();
        assert!(err.contains("symbolic link to nothing"), "{err}");
    }
}
