//! Processes as /proc shows them: what a pgward process started, and whether it is still there.

use std::time::{Duration, Instant};

use super::poll::eventually_blocking;

/// `(pid, name)` of every process whose parent is `ppid`.
pub fn children_of(ppid: u32) -> Vec<(u32, String)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid ...
            let (head, rest) = stat.rsplit_once(") ")?;
            let comm = head.split_once(" (")?.1.to_string();
            let parent = rest.split_whitespace().nth(1)?.parse::<u32>().ok()?;
            (parent == ppid).then_some((pid, comm))
        })
        .collect()
}

/// Every process below `pid` (children, their children, ...).
pub fn descendants_of(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in children_of(p) {
            todo.push(c.0);
            out.push(c);
        }
    }
    out
}

/// Whether `pid` is a live process (a zombie counts as gone).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    })
}

/// Waits up to `limit` for every one of `pids` to be gone; returns how long that took, or panics.
pub fn wait_gone(pids: &[u32], limit: Duration) -> Duration {
    let started = Instant::now();
    eventually_blocking(
        limit,
        Duration::from_millis(10),
        || {
            let left: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
            if left.is_empty() {
                Ok(started.elapsed())
            } else {
                Err(left)
            }
        },
        |left| {
            format!(
                "still running {:?} after {limit:?}: {:?}",
                started.elapsed(),
                left.iter()
                    .map(|p| std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                        .unwrap_or_default())
                    .collect::<Vec<_>>()
            )
        },
    )
}
