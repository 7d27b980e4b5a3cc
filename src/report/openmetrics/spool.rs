//! Per-series byte streams spooled to temporary files, so that memory grows
//! with the number of series, never with the run's length.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

/// Per-series byte streams, appended in any interleaving and read back one
/// series at a time: each keeps up to [`Spool::SPILL_AT`] bytes in memory
/// and appends the rest to its own file in a temporary folder.
pub struct Spool {
    dir: tempfile::TempDir,
    bufs: Vec<Vec<u8>>,
    spilled: Vec<bool>,
}

impl Spool {
    /// Bytes a series keeps in memory before they go to its file.
    pub const SPILL_AT: usize = 8 * 1024;

    /// An empty spool in the system's temporary folder.
    pub fn new() -> io::Result<Spool> {
        Ok(Spool {
            dir: tempfile::Builder::new()
                .prefix("pooldrill-spool")
                .tempdir()?,
            bufs: Vec::new(),
            spilled: Vec::new(),
        })
    }

    /// A new series; returns its id.
    pub fn add(&mut self) -> usize {
        self.bufs.push(Vec::new());
        self.spilled.push(false);
        self.bufs.len() - 1
    }

    /// Bytes held in memory for series `id`.
    pub fn in_memory(&self, id: usize) -> usize {
        self.bufs[id].len()
    }

    fn path(&self, id: usize) -> std::path::PathBuf {
        self.dir.path().join(id.to_string())
    }

    /// Append to series `id`.
    pub fn append(&mut self, id: usize, bytes: &[u8]) -> io::Result<()> {
        self.bufs[id].extend_from_slice(bytes);
        if self.bufs[id].len() >= Self::SPILL_AT {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(id))?;
            f.write_all(&self.bufs[id])?;
            self.bufs[id].clear();
            self.spilled[id] = true;
        }
        Ok(())
    }

    /// Copy everything series `id` received to `out`, and forget it.
    pub fn drain_into(&mut self, id: usize, out: &mut dyn Write) -> io::Result<()> {
        if self.spilled[id] {
            let path = self.path(id);
            io::copy(&mut File::open(&path)?, out)?;
            std::fs::remove_file(path)?;
            self.spilled[id] = false;
        }
        out.write_all(&std::mem::take(&mut self.bufs[id]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spool_keeps_little_in_memory_and_gives_everything_back() {
        let mut spool = Spool::new().unwrap();
        let (a, b) = (spool.add(), spool.add());
        let mut expected_a = Vec::new();
        for i in 0..10_000 {
            let line = format!("a {i}\n");
            spool.append(a, line.as_bytes()).unwrap();
            expected_a.extend_from_slice(line.as_bytes());
            spool.append(b, b"b\n").unwrap();
            assert!(spool.in_memory(a) < Spool::SPILL_AT);
        }
        let mut out = Vec::new();
        spool.drain_into(a, &mut out).unwrap();
        assert_eq!(out, expected_a);
        out.clear();
        spool.drain_into(b, &mut out).unwrap();
        assert_eq!(out, b"b\n".repeat(10_000));
    }
}
