//! Temporary files and folders named after the process that owns them: `<prefix><pid>-<n>`.
//!
//! Each is registered with [`crate::interrupt::TempPath`], so an error, a panic or an interrupt
//! removes it. A process killed outright (SIGKILL, power loss) cannot clean up, so before creating a
//! new one in a directory, [`remove_stale`] removes the same-prefix entries there whose owning process
//! is no longer alive. Entries of live processes, of this process, and names without a pid are left
//! alone.

use crate::error::{Error, Result};
use crate::interrupt::TempPath;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh name `<prefix><pid>-<n>` (unique within this process).
fn owned_name(prefix: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}-{n}", std::process::id())
}

/// The pid in an entry name `<prefix><pid>-...`, if it has one.
fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok().filter(|&p| p > 0)
}

/// True when a process with this pid exists (or cannot be checked: then it is presumed alive).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return true;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the entries of `dir` named `<prefix><pid>-...` whose process is no longer alive; returns
/// how many were removed. Unreadable directories and entries that vanish meanwhile are ignored.
pub fn remove_stale(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| owner_pid(n, prefix)) else {
            continue;
        };
        if pid == me || process_alive(pid) {
            continue;
        }
        let path = entry.path();
        let gone = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed += usize::from(gone.is_ok());
    }
    removed
}

/// The error for a temporary entry that could not be created in `dir`: one message naming the
/// directory (not the temporary name, which the user never chose).
fn create_error(dir: &Path, e: std::io::Error) -> Error {
    Error::DirectoryNotWritable {
        dir: dir.to_path_buf(),
        reason: plain_os_message(&e),
    }
}

/// The operating system's message without the "(os error N)" suffix.
fn plain_os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Runs `create` on fresh owned names in `dir` until one does not exist yet.
fn create_owned<T>(
    dir: &Path,
    prefix: &str,
    create: impl Fn(&Path) -> std::io::Result<T>,
) -> Result<(T, TempPath)> {
    remove_stale(dir, prefix);
    loop {
        let path: PathBuf = dir.join(owned_name(prefix));
        // Registered before creation, so an interrupt in between still removes it.
        let guard = TempPath::register(&path);
        match create(&path) {
            Ok(value) => return Ok((value, guard)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Someone else's entry: forget the name without removing it.
                guard.keep();
            }
            Err(e) => {
                guard.keep();
                return Err(create_error(dir, e));
            }
        }
    }
}

/// Creates a new empty file `<prefix><pid>-<n>` in `dir` (mode 0644 on Unix), after removing stale
/// ones; the guard removes it unless kept.
pub fn create_file(dir: &Path, prefix: &str) -> Result<(File, TempPath)> {
    create_owned(dir, prefix, |path| {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
        options.open(path)
    })
}

/// Creates a new folder `<prefix><pid>-<n>` in `dir` (private on Unix), after removing stale ones;
/// the guard removes it and its contents unless kept.
pub fn create_dir(dir: &Path, prefix: &str) -> Result<TempPath> {
    create_owned(dir, prefix, |path| {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(path)
    })
    .map(|((), guard)| guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pid that no process has: past the kernel's limit (4,194,304 at most on Linux).
    const DEAD_PID: u32 = 999_999_999;

    #[test]
    fn owner_pids_are_read_from_names() {
        assert_eq!(owner_pid(".x-123-4", ".x-"), Some(123));
        assert_eq!(owner_pid(".x-abc", ".x-"), None);
        assert_eq!(owner_pid(".x-12", ".x-"), None);
        assert_eq!(owner_pid("other-12-1", ".x-"), None);
    }

    #[test]
    fn stale_entries_of_dead_processes_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale_file = dir.path().join(format!(".t-{DEAD_PID}-0"));
        let stale_dir = dir.path().join(format!(".t-{DEAD_PID}-1"));
        let live = dir.path().join(format!(".t-{}-0", std::process::id()));
        let foreign = dir.path().join(".t-XYZ123");
        std::fs::write(&stale_file, b"x").unwrap();
        std::fs::create_dir_all(stale_dir.join("inner")).unwrap();
        std::fs::write(&live, b"x").unwrap();
        std::fs::write(&foreign, b"x").unwrap();
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(DEAD_PID));
        assert_eq!(remove_stale(dir.path(), ".t-"), 2);
        assert!(!stale_file.exists() && !stale_dir.exists());
        assert!(live.exists() && foreign.exists());
    }

    #[test]
    fn created_entries_carry_the_pid_and_go_with_their_guard() {
        let dir = tempfile::tempdir().unwrap();
        let (_, file) = create_file(dir.path(), ".t-").unwrap();
        let folder = create_dir(dir.path(), ".t-").unwrap();
        for guard in [&file, &folder] {
            let name = guard.path().file_name().unwrap().to_str().unwrap();
            assert_eq!(owner_pid(name, ".t-"), Some(std::process::id()));
            assert!(guard.path().exists());
        }
        let (file_path, folder_path) = (file.path().to_owned(), folder.path().to_owned());
        drop((file, folder));
        assert!(!file_path.exists() && !folder_path.exists());
    }

    #[test]
    fn a_missing_or_unwritable_directory_is_named_once() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("plain");
        std::fs::write(&not_a_dir, b"x").unwrap();
        let msg = create_file(&not_a_dir, ".t-").unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!(
                "cannot write into directory {}: ",
                not_a_dir.display()
            )) && !msg.contains(".t-")
                && !msg.contains("os error"),
            "{msg}"
        );
    }
}
