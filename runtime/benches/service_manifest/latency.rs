//! Section 3: how late readiness is seen, dated by the daemons themselves: from the
//! dependency calling `listen()` (or `rename()` to put its socket in place, or sending
//! `READY=1`) to its dependent's process starting. For each way a daemon can
//! become ready, under the supervisor and under the floor, interleaved in one run.

use serde_json::{Value, json};

use crate::floor;
use crate::graph::{Graph, Hops, Node, Readiness};
use crate::machine::{home_base, load};
use crate::stats::{P99_MIN_SAMPLES, Summary, text_of};
use crate::supervised::Supervisor;

/// Pairs started together: each dependency listens `SPACING_MS` after the previous
/// one, so each detection is measured on its own while samples come in faster.
const BATCH: usize = 25;
const FIRST_MS: u64 = 50;
const SPACING_MS: u64 = 4;

struct Case {
    key: &'static str,
    label: String,
    shape: Node,
    samples: usize,
    target_p99_ms: f64,
}

fn cases(quick: bool) -> Vec<Case> {
    let many = if quick { BATCH } else { 8 * BATCH };
    let fewer = if quick { BATCH } else { 4 * BATCH };
    let gap = |ms: u64, key| Case {
        key,
        label: format!("bind→listen gap {ms} ms"),
        shape: Graph::shape(Readiness::Socket, ms, false),
        samples: if ms >= 300 { fewer } else { many },
        target_p99_ms: 2.0,
    };
    vec![
        gap(0, "gap_0ms"),
        gap(3, "gap_3ms"),
        gap(20, "gap_20ms"),
        gap(100, "gap_100ms"),
        gap(300, "gap_300ms"),
        gap(1000, "gap_1000ms"),
        Case {
            key: "rename",
            label: "renamed into place".into(),
            shape: Graph::shape(Readiness::Socket, 0, true),
            samples: many,
            target_p99_ms: 2.0,
        },
        Case {
            key: "notify",
            label: "READY=1 (sd_notify)".into(),
            shape: Graph::shape(Readiness::Notify, 0, false),
            samples: many,
            target_p99_ms: 0.5,
        },
    ]
}

pub async fn run(quick: bool) -> Value {
    println!(
        "\n3. readiness detection: dependency ready (calls listen() / rename() into place / sends READY=1) \
         → dependent's exec, both stamped by the daemons"
    );
    println!(
        "   {BATCH} pairs at a time, dependencies becoming ready {SPACING_MS} ms apart; p99 only from ≥ {P99_MIN_SAMPLES} samples"
    );
    let mut sup = Supervisor::start();
    let mut client = sup.client().await;
    let mut rows = serde_json::Map::new();
    for case in cases(quick) {
        let graph = Graph::pairs(&format!("{}_", case.key), BATCH, FIRST_MS, SPACING_MS, &case.shape);
        sup.define(&mut client, &graph).await;
        let (mut f, mut s) = (Hops::default(), Hops::default());
        let load_before = load();
        let batches = case.samples.div_ceil(BATCH);
        for b in 0..batches {
            for floor_turn in [b % 2 == 0, b % 2 == 1] {
                if floor_turn {
                    let run = floor::run(&graph, &home_base());
                    f.extend(graph.hops(&run.daemons, &run.marks));
                } else {
                    let run = sup.run(&mut client, &graph).await;
                    s.extend(graph.hops(&run.daemons, &run.marks));
                }
            }
        }
        let summary = Summary::of(&s.lateness);
        // Judged on the p99 where there are enough samples, else on the maximum.
        let judged = summary.as_ref().map(|s| s.p99.unwrap_or(s.max));
        let met = judged.map(|v| v <= case.target_p99_ms);
        println!("\n   {} — target p99 ≤ {} ms", case.label, case.target_p99_ms);
        println!("     supervisor: {}", text_of(&s.lateness));
        println!(
            "       its share: readiness → recorded {}; → spawn begun {}; → daemon exec {}",
            text_of(&s.detect),
            text_of(&s.react),
            text_of(&s.spawn)
        );
        println!("     floor:      {}", text_of(&f.lateness));
        println!(
            "       its share: readiness → seen {}; → spawn begun {}; → daemon exec {}",
            text_of(&f.detect),
            text_of(&f.react),
            text_of(&f.spawn)
        );
        rows.insert(
            case.key.into(),
            json!({
                "label": case.label, "samples": s.lateness.len(), "supervisor": s.json(), "floor": f.json(),
                "target_p99_ms": case.target_p99_ms, "judged_on": if summary.as_ref().is_some_and(|s| s.p99.is_some()) { "p99" } else { "max" },
                "met": met, "load_before": load_before, "load_after": load(),
            }),
        );
    }
    Value::Object(rows)
}
