//! Child processes of a live run: start, SIGKILL, restart on the same data directory,
//! SIGSTOP / SIGCONT, and cleanup.
//!
//! Every child is killed when the [`Supervisor`] is dropped, so a run that ends, fails or is
//! interrupted (the runner drops it on Ctrl-C) leaves nothing behind. Node processes also
//! watch their stdin, which the supervisor holds open: if the harness itself dies, even by
//! SIGKILL, the pipe closes and the nodes exit.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use thiserror::Error;

/// Set in a node's environment to make it exit when its stdin closes.
pub const PARENT_WATCH_ENV: &str = "WORKBENCH_NODE_PARENT_WATCH";
/// Overrides the program started for `workbench node`.
pub const NODE_BIN_ENV: &str = "WORKBENCH_BIN";

/// A child that could not be started or signalled.
#[derive(Debug, Error)]
pub enum SupervisorError {
    #[error("starting {name} ({program}): {source}")]
    Spawn {
        name: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("sending {signal} to {name} (pid {pid}): {reason}")]
    Signal {
        signal: &'static str,
        name: String,
        pid: u32,
        reason: String,
    },
}

/// How to start one child.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    /// A short name for logs ("n0", "etcd-1").
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// stdout and stderr are appended here.
    pub log: PathBuf,
    /// Hold the child's stdin open and set [`PARENT_WATCH_ENV`].
    pub watch_parent: bool,
}

/// The children of one run, by index.
pub struct Supervisor {
    specs: Vec<ChildSpec>,
    children: Vec<Option<Child>>,
    paused: Vec<bool>,
}

impl Supervisor {
    pub fn new(specs: Vec<ChildSpec>) -> Self {
        let n = specs.len();
        Supervisor {
            specs,
            children: (0..n).map(|_| None).collect(),
            paused: vec![false; n],
        }
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Starts child `i` unless it is running.
    pub fn spawn(&mut self, i: usize) -> Result<u32, SupervisorError> {
        if let Some(pid) = self.pid(i) {
            return Ok(pid);
        }
        let spec = &self.specs[i];
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .map_err(|source| SupervisorError::Log {
                path: spec.log.clone(),
                source,
            })?;
        let log2 = log.try_clone().map_err(|source| SupervisorError::Log {
            path: spec.log.clone(),
            source,
        })?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        if spec.watch_parent {
            cmd.stdin(Stdio::piped()).env(PARENT_WATCH_ENV, "1");
        } else {
            cmd.stdin(Stdio::null());
        }
        let child = cmd.spawn().map_err(|source| SupervisorError::Spawn {
            name: spec.name.clone(),
            program: spec.program.display().to_string(),
            source,
        })?;
        let pid = child.id();
        tracing::debug!(name = %spec.name, pid, "started");
        self.children[i] = Some(child);
        self.paused[i] = false;
        Ok(pid)
    }

    /// The pid of child `i` if it is running (reaps it if it exited).
    pub fn pid(&mut self, i: usize) -> Option<u32> {
        let child = self.children[i].as_mut()?;
        match child.try_wait() {
            Ok(None) => Some(child.id()),
            Ok(Some(status)) => {
                tracing::info!(name = %self.specs[i].name, %status, "child exited");
                self.children[i] = None;
                self.paused[i] = false;
                None
            }
            Err(_) => Some(child.id()),
        }
    }

    /// Whether child `i` is running (paused counts as running).
    pub fn is_running(&mut self, i: usize) -> bool {
        self.pid(i).is_some()
    }

    /// Whether child `i` is stopped by SIGSTOP.
    pub fn is_paused(&self, i: usize) -> bool {
        self.paused[i]
    }

    /// SIGKILLs child `i` and waits for it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
            tracing::debug!(name = %self.specs[i].name, "killed");
        }
        self.paused[i] = false;
    }

    /// SIGSTOPs child `i`.
    pub fn pause(&mut self, i: usize) -> Result<(), SupervisorError> {
        if let Some(pid) = self.pid(i) {
            self.signal(i, pid, "STOP")?;
            self.paused[i] = true;
        }
        Ok(())
    }

    /// SIGCONTs child `i`.
    pub fn resume(&mut self, i: usize) -> Result<(), SupervisorError> {
        if let Some(pid) = self.pid(i) {
            self.signal(i, pid, "CONT")?;
        }
        self.paused[i] = false;
        Ok(())
    }

    fn signal(&self, i: usize, pid: u32, signal: &'static str) -> Result<(), SupervisorError> {
        let err = |reason: String| SupervisorError::Signal {
            signal,
            name: self.specs[i].name.clone(),
            pid,
            reason,
        };
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map_err(|e| err(format!("running `kill`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(err(format!("`kill` exited with {status}")))
        }
    }

    /// Kills every child.
    pub fn kill_all(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }

    /// The last `lines` lines of child `i`'s log, for error messages.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        log_tail(&self.specs[i].log, lines)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// The last `lines` lines of a file (empty when unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The `workbench` executable to start nodes with: `$WORKBENCH_BIN`, this executable when it
/// is `workbench`, or a `workbench` beside it or one directory up (where cargo puts the
/// binary relative to test executables in `deps/`).
pub fn node_binary() -> Result<PathBuf, NodeBinaryError> {
    if let Some(p) = std::env::var_os(NODE_BIN_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(NodeBinaryError::CurrentExe)?;
    let name = format!("workbench{}", std::env::consts::EXE_SUFFIX);
    if exe.file_name().is_some_and(|n| n == name.as_str()) {
        return Ok(exe);
    }
    let mut dir = exe.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join(&name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(NodeBinaryError::NotFound { beside: exe })
}

/// The `workbench` executable could not be found.
#[derive(Debug, Error)]
pub enum NodeBinaryError {
    #[error("finding this executable: {0}")]
    CurrentExe(std::io::Error),
    #[error(
        "cannot find the workbench executable to start nodes with (looked beside {}); set {NODE_BIN_ENV}",
        beside.display()
    )]
    NotFound { beside: PathBuf },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(dir: &Path) -> Supervisor {
        Supervisor::new(vec![ChildSpec {
            name: "sleeper".into(),
            program: "sleep".into(),
            args: vec!["30".into()],
            log: dir.join("sleeper.log"),
            watch_parent: false,
        }])
    }

    #[test]
    fn a_killed_child_is_gone_and_can_be_started_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sleeper(dir.path());
        let first = s.spawn(0).unwrap();
        assert!(s.is_running(0));
        s.pause(0).unwrap();
        assert!(s.is_paused(0));
        s.kill(0);
        assert!(!s.is_running(0));
        let second = s.spawn(0).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn dropping_the_supervisor_kills_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sleeper(dir.path());
        let pid = s.spawn(0).unwrap();
        drop(s);
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(!alive, "pid {pid} survived");
    }
}
