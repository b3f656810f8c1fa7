//! `cargo bench -p service_manifest_runtime`: what the macro costs a build, and how
//! close the supervisor comes to the floor (an orchestrator that knows the graph and
//! spawns each daemon the instant its dependencies accept), measured side by side in
//! one run with real daemons (`sm-testd`), real sockets and a real supervisor process.
//! Nothing here is asserted.
//!
//! Flags (after `--`): `--quick` (fewer repetitions; no 10,000-service or build-cost
//! section), `--only SECTION` (one of [`SECTIONS`]), `--json PATH` (default
//! `service_manifest-bench.json` in cargo's target directory).

mod build_cost;
mod codegen;
mod floor;
mod graph;
mod health;
mod latency;
mod machine;
mod restart;
mod scale;
mod stamps;
mod start;
mod stats;
mod supervised;
mod zinit_start;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};

const TESTD: &str = env!("CARGO_BIN_EXE_sm-testd");
const SUPERVISOR: &str = env!("CARGO_BIN_EXE_service-supervisor");

/// Every section, in the order they run.
const SECTIONS: [&str; 9] =
    ["codegen", "start", "latency", "scale", "scale2k", "scale10k", "health", "restart", "build"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let quick = args.iter().any(|a| a == "--quick");
    let only = value_of("--only");
    if let Some(section) = only.as_deref().filter(|s| !SECTIONS.contains(s)) {
        eprintln!("unknown section `{section}`; the sections are: {}", SECTIONS.join(", "));
        return ExitCode::FAILURE;
    }
    let json_path =
        value_of("--json").map_or_else(|| machine::target_dir().join("service_manifest-bench.json"), PathBuf::from);
    // `--quick` leaves out the slow sections unless one is asked for by name.
    let run = |section: &str| match only.as_deref() {
        Some(o) => o == section,
        None => !(quick && matches!(section, "scale10k" | "build")),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let began = Instant::now();

    let mut report = BTreeMap::new();
    report.insert("machine", machine::describe());
    let supervisor = std::env::var("SM_BENCH_SUPERVISOR").unwrap_or_else(|_| SUPERVISOR.to_owned());
    if std::env::var_os("SM_BENCH_SUPERVISOR").is_some() {
        println!("supervisor under test: {supervisor} (SM_BENCH_SUPERVISOR)");
    }
    report.insert("command", json!({ "args": &args[1..], "quick": quick, "only": only, "supervisor": supervisor }));
    if run("codegen") {
        report.insert("codegen", codegen::run(if quick { 0.2 } else { 1.0 }));
    }
    if run("start") {
        report.insert("start", runtime.block_on(start::run(if quick { 3 } else { 9 })));
    }
    if run("latency") {
        report.insert("latency", runtime.block_on(latency::run(quick)));
    }
    if run("scale") {
        report.insert("scale", runtime.block_on(scale::run(1000, if quick { 2 } else { 10 }, 1.0)));
    }
    if run("scale2k") {
        report.insert("scale2k", runtime.block_on(scale::many_at_once(2000)));
    }
    if run("scale10k") {
        report.insert("scale10k", runtime.block_on(scale::run(10_000, 10, 10.0)));
    }
    if run("health") {
        report.insert(
            "health",
            runtime.block_on(health::run(if quick { 200 } else { 1000 }, if quick { 12 } else { 30 })),
        );
    }
    if run("restart") {
        report.insert("restart", runtime.block_on(restart::run(if quick { 20 } else { 100 })));
    }
    if run("build") {
        report.insert("build", build_cost::run());
    }
    report.insert("finished", json!({ "load": machine::load(), "elapsed_s": began.elapsed().as_secs_f64() }));
    let json: Value = report.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<serde_json::Map<_, _>>().into();
    if let Some(dir) = json_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&json_path, serde_json::to_string_pretty(&json).expect("json") + "\n") {
        Ok(()) => println!("\nfigures written to {}", json_path.display()),
        Err(e) => {
            eprintln!("cannot write {}: {e}", json_path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
