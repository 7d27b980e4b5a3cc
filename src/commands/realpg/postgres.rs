//! A throw-away PostgreSQL: `initdb` and `pg_ctl` in a temporary folder, a
//! free port on 127.0.0.1, trust authentication on loopback and the unix
//! socket, the scenario's `max_connections` and reserve. Dropping the
//! [`Server`] stops it (`pg_ctl stop -m immediate`) and removes the folder,
//! on every exit path that unwinds: success, error or a caught signal.
//!
//! `initdb` refuses to run as root: as root, every server command runs as
//! the `postgres` user (which Debian's packages create) through `runuser`,
//! and the folder is handed to that user.
//!
//! A process killed outright (SIGKILL, a power cut) unwinds nothing: its
//! server runs on and its folder stays. Each folder therefore names its
//! owner (the file `owner`: process id and start time), and every start
//! first stops the servers of folders whose owner is gone and removes them.

use anyhow::{Context, Result, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why PostgreSQL could not be used: exit code 2, like bad input.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Missing(pub String);

/// A running throw-away server.
pub struct Server {
    /// The server binaries (`pg_config --bindir`).
    bin: PathBuf,
    /// The temporary folder: `data/`, `sock/`, `server.log`.
    dir: tempfile::TempDir,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Whether server commands run as the `postgres` user.
    as_postgres: bool,
    /// Whether the server was started (and so must be stopped).
    started: bool,
}

/// The folder of PostgreSQL's server binaries: `pg_config --bindir`, else
/// the newest `/usr/lib/postgresql/<version>/bin`.
pub fn find_bindir() -> Result<PathBuf> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_initdb(&dir) {
            return Ok(dir);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_initdb(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => Err(Missing(
            "PostgreSQL's server is not installed: no initdb from `pg_config --bindir` nor \
             under /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
                .into(),
        )
        .into()),
    }
}

fn is_root() -> bool {
    // The effective user's id, without unsafe code: /proc/self/status "Uid:".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// How many ports `pg_ctl start` tries: another process may take the free
/// port between [`free_port`] and the server's bind.
const PORT_TRIES: usize = 5;

/// How many lines of server.log a failed start puts into its error.
const LOG_TAIL_LINES: usize = 20;

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// `text` quoted as a postgresql.conf string: `\` and `'` doubled up.
fn conf_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Whether a server log says the port was taken.
fn bind_failed(log: &str) -> bool {
    log.contains("could not bind")
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Run `command`; its output goes to the error when it fails.
fn checked(mut command: Command, what: &str) -> Result<()> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Server {
    /// Create and start a server with these slots; the role `app` (no
    /// superuser) owns the database `app`.
    pub fn start(max_connections: u32, superuser_reserved: u32) -> Result<Server> {
        Server::start_at(free_port()?, max_connections, superuser_reserved)
    }

    /// [`Server::start`], trying `port` first.
    fn start_at(port: u16, max_connections: u32, superuser_reserved: u32) -> Result<Server> {
        let bin = find_bindir()?;
        let as_postgres = is_root();
        remove_leftovers(&std::env::temp_dir(), &bin, as_postgres);
        let dir = tempfile::Builder::new()
            .prefix(FOLDER_PREFIX)
            .tempdir()
            .context("creating the server's temporary folder")?;
        std::fs::write(
            dir.path().join(OWNER_FILE),
            process_identity(std::process::id()),
        )
        .context("writing the temporary folder's owner")?;
        let mut server = Server {
            bin,
            dir,
            port,
            as_postgres,
            started: false,
        };
        server.init(max_connections, superuser_reserved)?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The unix socket's folder (the superuser's way in).
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// A server binary, run as the server's user.
    fn tool(&self, name: &str) -> Command {
        server_tool(&self.bin, name, self.as_postgres)
    }

    fn init(&mut self, max_connections: u32, superuser_reserved: u32) -> Result<()> {
        let root = self.dir.path().to_owned();
        std::fs::create_dir(self.data()).context("creating data/")?;
        std::fs::create_dir(self.socket_dir()).context("creating sock/")?;
        if self.as_postgres {
            use std::os::unix::fs::PermissionsExt;
            // The postgres user must reach the folder and own what is in it.
            std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
                .context("opening the temporary folder to the postgres user")?;
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:postgres").arg(&root);
            checked(chown, "chown of the temporary folder to postgres")?;
        }
        let mut initdb = self.tool("initdb");
        initdb.arg("-D").arg(self.data()).args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]);
        checked(initdb, "initdb")?;
        let conf_path = self.data().join("postgresql.conf");
        let initial = std::fs::read_to_string(&conf_path).context("reading postgresql.conf")?;
        let log_path = root.join("server.log");
        for attempt in 1..=PORT_TRIES {
            let conf = format!(
                "\n# pooldrill realpg\nlisten_addresses = '127.0.0.1'\nport = {}\n\
                 unix_socket_directories = {}\nmax_connections = {max_connections}\n\
                 superuser_reserved_connections = {superuser_reserved}\nfsync = off\n",
                self.port,
                conf_quoted(&self.socket_dir().to_string_lossy())
            );
            std::fs::write(&conf_path, format!("{initial}{conf}"))
                .context("writing postgresql.conf")?;
            let log_before = self.log_bytes().len();
            let mut start = self.tool("pg_ctl");
            start
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(&log_path)
                .args(["-w", "-t", "60", "start"]);
            self.started = true;
            let Err(error) = checked(start, "pg_ctl start") else {
                break;
            };
            // The folder goes with the error: what the server said goes in it.
            let log = self.log_since(log_before);
            if bind_failed(&log) && attempt < PORT_TRIES {
                self.port = free_port()?;
                continue;
            }
            bail!(
                "{error:#}\nserver.log ends with:\n{}",
                tail(&log, LOG_TAIL_LINES)
            );
        }
        let mut psql = Command::new(self.bin.join("psql"));
        psql.arg("-h")
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-qAt", "-v", "ON_ERROR_STOP=1"])
            .args(["-c", "CREATE ROLE app LOGIN"])
            .args(["-c", "CREATE DATABASE app OWNER app"]);
        checked(psql, "creating the role and database app")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log_since(0)
    }

    /// The server's log from byte `offset` on.
    fn log_since(&self, offset: usize) -> String {
        let bytes = self.log_bytes();
        String::from_utf8_lossy(bytes.get(offset..).unwrap_or_default()).into_owned()
    }

    fn log_bytes(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's version line (`postgres --version`).
    pub fn version(&self) -> String {
        Command::new(self.bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.started {
            stop_server(&self.bin, &self.data(), self.as_postgres);
        }
        // The TempDir removes the folder after this.
    }
}

/// The name every server folder starts with, in the temporary folder.
const FOLDER_PREFIX: &str = "pooldrill-realpg-";

/// The file in a server folder naming the process that owns it.
const OWNER_FILE: &str = "owner";

/// The server binary `name` from `bin`, run as `postgres` when
/// `as_postgres`.
fn server_tool(bin: &Path, name: &str, as_postgres: bool) -> Command {
    let path = bin.join(name);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

/// `pg_ctl stop -m immediate` on the data folder `data`, quietly.
fn stop_server(bin: &Path, data: &Path, as_postgres: bool) {
    let mut stop = server_tool(bin, "pg_ctl", as_postgres);
    stop.arg("-D")
        .arg(data)
        .args(["-m", "immediate", "-w", "stop"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _ = stop.status();
}

/// Process `pid` as `owner` records it: its id, its start time (in clock
/// ticks since boot, from /proc), so that a reused id is not taken for the
/// owner, and this process's pid namespace, so that a run in another
/// container sharing the temporary folder is never judged by ids that mean
/// something else here. Empty when the process does not exist.
fn process_identity(pid: u32) -> String {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return String::new();
    };
    // "pid (comm) state ppid …": comm may hold spaces; starttime is the
    // 22nd field, the 20th after the closing parenthesis.
    let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
    let start = after.split_whitespace().nth(19).unwrap_or_default();
    format!("{pid} {start} {}", pid_namespace())
}

/// This process's pid namespace (`pid:[4026531836]`), or `?`.
fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "?".into())
}

/// Whether the owner recorded as `owner` is gone: no such process, or
/// another process under its id. An owner in another pid namespace (or
/// one this cannot tell) is never gone.
fn owner_gone(owner: &str) -> bool {
    let mut fields = owner.split_whitespace();
    let Some(pid) = fields.next().and_then(|p| p.parse().ok()) else {
        return false;
    };
    if fields.nth(1) != Some(pid_namespace().as_str()) || pid_namespace() == "?" {
        return false;
    }
    process_identity(pid) != owner.trim()
}

/// Stop the servers of the server folders in `tmp` whose owner is gone and
/// remove the folders, saying so on stderr. A folder without an owner file
/// is being created right now (or is not ours): it is left alone.
fn remove_leftovers(tmp: &Path, bin: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry
            .file_name()
            .to_string_lossy()
            .starts_with(FOLDER_PREFIX);
        let Ok(owner) = std::fs::read_to_string(path.join(OWNER_FILE)) else {
            continue;
        };
        if !ours || !owner_gone(&owner) {
            continue;
        }
        if path.join("data/postmaster.pid").exists() {
            stop_server(bin, &path.join("data"), as_postgres);
        }
        if std::fs::remove_dir_all(&path).is_ok() {
            eprintln!(
                "realpg: stopped and removed {}, left by a run that was killed",
                path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_gone_when_its_process_is_or_its_id_was_reused_in_this_namespace() {
        let me = process_identity(std::process::id());
        assert!(me.starts_with(&format!("{} ", std::process::id())));
        assert!(!owner_gone(&me));
        let mut child = Command::new("true").spawn().unwrap();
        let dead = process_identity(child.id());
        child.wait().unwrap();
        assert!(owner_gone(&dead));
        let reused = format!("{} 1 {}", std::process::id(), pid_namespace());
        assert!(owner_gone(&reused));
        assert!(!owner_gone("not an owner"));
        // Another pid namespace: its ids mean nothing here.
        let elsewhere = format!("{} 1 pid:[1]", std::process::id());
        assert!(!owner_gone(&elsewhere));
    }

    #[test]
    fn only_folders_of_owners_that_are_gone_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = |name: &str, owner: Option<&str>| {
            let path = tmp.path().join(name);
            std::fs::create_dir(&path).unwrap();
            if let Some(owner) = owner {
                std::fs::write(path.join(OWNER_FILE), owner).unwrap();
            }
            path
        };
        let mut child = Command::new("true").spawn().unwrap();
        let dead = process_identity(child.id());
        child.wait().unwrap();
        let left = folder("pooldrill-realpg-left", Some(&dead));
        let live = folder(
            "pooldrill-realpg-live",
            Some(&process_identity(std::process::id())),
        );
        let new = folder("pooldrill-realpg-new", None);
        let other = folder("someone-else", Some(&dead));
        remove_leftovers(tmp.path(), Path::new("/nonexistent"), false);
        assert!(!left.exists());
        assert!(live.exists() && new.exists() && other.exists());
    }

    #[test]
    fn conf_strings_double_backslashes_and_quotes() {
        assert_eq!(conf_quoted("/tmp/a"), "'/tmp/a'");
        assert_eq!(conf_quoted(r"/tmp/it's\x"), r"'/tmp/it''s\\x'");
    }

    #[test]
    fn a_failed_command_keeps_stdout_and_stderr_apart() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let error = checked(command, "sh").unwrap_err().to_string();
        assert!(error.ends_with("out\nerr"), "{error}");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\n", 5), "a");
    }

    /// Whether PostgreSQL's server is installed (else the test is skipped, saying so).
    fn server_installed(test: &str) -> bool {
        let found = find_bindir().is_ok();
        if !found {
            eprintln!("skipped {test}: PostgreSQL's server is not installed");
        }
        found
    }

    #[test]
    fn a_taken_port_is_replaced_by_a_free_one() {
        if !server_installed("a_taken_port_is_replaced_by_a_free_one") {
            return;
        }
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let server = Server::start_at(port, 10, 1).unwrap();
        assert_ne!(server.port, port);
        assert!(bind_failed(&server.log()), "{}", server.log());
    }

    #[test]
    fn a_failed_start_reports_the_end_of_server_log() {
        if !server_installed("a_failed_start_reports_the_end_of_server_log") {
            return;
        }
        // More reserved slots than slots: the server refuses to start.
        let error = format!("{:#}", Server::start(3, 5).err().unwrap());
        assert!(error.contains("server.log ends with:"), "{error}");
        assert!(error.contains("superuser_reserved_connections"), "{error}");
    }
}
