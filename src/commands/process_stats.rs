//! What the benchmarks and reports measure about this process: CPU time and peak memory
//! (Linux `/proc`; `None` elsewhere, so the JSON says `null` rather than a made-up figure).

/// Nanoseconds on a CPU of every thread of this process so far, from
/// `/proc/self/task/*/schedstat`; `None` where that is unavailable.
pub fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// The peak resident set size of this process (VmHWM of `/proc/self/status`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak resident set size to the current one (Linux: `5` into
/// `/proc/self/clear_refs`), so the next [`peak_rss_bytes`] is the peak of one step. Returns
/// whether it worked; where it does not, the peak stays the process's.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
