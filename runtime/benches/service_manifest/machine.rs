//! What the figures were measured on, and where the benchmark keeps its files.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// CPU, cores, load, memory, the supervisor's file system and the limits that bound
/// how many services can run at once.
pub fn describe() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = meminfo_kib("MemTotal:") as f64 / (1024.0 * 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    let base = home_base();
    let fs = file_system(&base);
    let limits = limits();
    println!(
        "machine: {cpu}, {cores} cores, {memory_gib:.0} GiB, Linux {kernel}; load {}; supervisor files in {} ({fs})",
        load_text(),
        base.display()
    );
    json!({ "cpu": cpu, "cores": cores, "memory_gib": memory_gib, "kernel": kernel,
            "load_at_start": load(), "supervisor_dir": base, "supervisor_fs": fs, "limits": limits })
}

/// The 1, 5 and 15 minute load averages.
pub fn load() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().unwrap_or(0.0));
    [fields.next().unwrap_or(0.0), fields.next().unwrap_or(0.0), fields.next().unwrap_or(0.0)]
}

pub fn load_text() -> String {
    let [one, five, fifteen] = load();
    format!("{one:.2} {five:.2} {fifteen:.2}")
}

fn meminfo_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Raises the soft limits on open files and processes to their hard limits, for this
/// process and the supervisors and daemons it starts (10,000 services need more than
/// the usual 1,024 descriptors), and reports every limit that bounds a large start.
fn limits() -> Value {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut raised = serde_json::Map::new();
    for (name, resource) in [("open_files", Resource::Nofile), ("processes", Resource::Nproc)] {
        let mut limit = getrlimit(resource);
        let before = limit.current;
        // `None` is unlimited.
        if limit.current.is_some() && limit.current != limit.maximum {
            limit.current = limit.maximum;
            if let Err(e) = setrlimit(resource, limit) {
                println!("   could not raise the soft limit on {name}: {e}");
            }
        }
        let after = getrlimit(resource);
        raised.insert(name.into(), json!({ "soft_before": before, "soft": after.current, "hard": after.maximum }));
    }
    json!({
        "rlimits": raised,
        "pid_max": read_number("/proc/sys/kernel/pid_max"),
        "threads_max": read_number("/proc/sys/kernel/threads-max"),
        "inotify_max_user_watches": read_number("/proc/sys/fs/inotify/max_user_watches"),
        "inotify_max_queued_events": read_number("/proc/sys/fs/inotify/max_queued_events"),
        "file_max": read_number("/proc/sys/fs/file-max"),
    })
}

/// Where the supervisor's files go: where it keeps them by default, `$XDG_RUNTIME_DIR`
/// (a tmpfs on a systemd machine), else `/dev/shm` (tmpfs too), else `/tmp`.
/// `SM_BENCH_DIR` overrides, e.g. to measure on a disk file system.
pub fn home_base() -> PathBuf {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set("SM_BENCH_DIR")
        .or_else(|| set("XDG_RUNTIME_DIR"))
        .map(PathBuf::from)
        .or_else(|| Path::new("/dev/shm").is_dir().then(|| PathBuf::from("/dev/shm")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn file_system(dir: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, point, fs) = (f.next()?, f.next()?, f.next()?);
            dir.starts_with(point).then(|| (point.len(), fs.to_owned()))
        })
        .max()
        .map_or_else(|| "unknown".into(), |(_, fs)| fs)
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory cargo built this benchmark in: the one marked with
/// `CACHEDIR.TAG` above this executable (so `CARGO_TARGET_DIR` and `build.target-dir`
/// are honoured however they were given), else `$CARGO_TARGET_DIR`, else
/// `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().skip(1).find(|d| d.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf));
    from_exe
        .or_else(|| {
            let dir = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty())?);
            Some(if dir.is_absolute() { dir } else { workspace().join(dir) })
        })
        .unwrap_or_else(|| workspace().join("target"))
}
