//! Section 2: how long a start takes under the supervisor against the floor (an
//! orchestrator that knows the graph and spawns each daemon the instant its
//! dependencies accept), for a chain, a diamond and a fan-out, interleaved in one run.

use serde_json::{Value, json};

use crate::graph::{Graph, Hops};
use crate::machine::{home_base, load};
use crate::stats::{median, ms, text_of};
use crate::supervised::Supervisor;
use crate::{floor, zinit_start};

/// Each daemon's own work before it listens.
pub const DELAY_MS: u64 = 50;

struct Engine {
    walls: Vec<f64>,
    hops: Hops,
}

impl Engine {
    fn new() -> Self {
        Self { walls: Vec::new(), hops: Hops::default() }
    }

    fn json(&self, critical_s: f64) -> Value {
        let p50 = median(&self.walls);
        json!({ "wall_ms": self.walls.iter().map(|w| w * 1e3).collect::<Vec<_>>(), "wall_p50_ms": p50 * 1e3,
                "ratio_to_critical_path": p50 / critical_s, "hops": self.hops.json() })
    }
}

pub async fn run(repeats: usize) -> Value {
    println!(
        "\n2. start: wall time from start to all ready, the supervisor against the floor, interleaved \
         (each daemon listens {DELAY_MS} ms after it starts; median of {repeats} runs each)"
    );
    println!(
        "{:>20}  {:>7}  {:>8}  {:>10}  {:>10}  {:>11}  {:>9}  {:>9}",
        "shape", "daemons", "critical", "floor", "supervisor", "sup ÷ floor", "floor ÷ cp", "sup ÷ cp"
    );
    let shapes = [
        ("chain of 10", Graph::chain("c", 10, DELAY_MS), 1.02),
        ("diamond", Graph::diamond("dm", DELAY_MS), 1.02),
        ("fan-out 1+100", Graph::fan_out("f", 100, DELAY_MS), 1.15),
    ];
    let mut sup = Supervisor::start();
    let mut client = sup.client().await;
    let mut rows = Vec::new();
    let mut chain_p50s = (None, None);
    for (shape, graph, target) in &shapes {
        sup.define(&mut client, graph).await;
        let (mut f, mut s) = (Engine::new(), Engine::new());
        let load_before = load();
        // One unmeasured run of each first: page cache, lazily created files.
        floor::run(graph, &home_base());
        sup.run(&mut client, graph).await;
        for r in 0..repeats {
            // Alternate which goes first, so a drift in the machine's load hits both.
            for floor_turn in [r % 2 == 0, r % 2 == 1] {
                if floor_turn {
                    let run = floor::run(graph, &home_base());
                    f.walls.push(run.wall_s);
                    f.hops.extend(graph.hops(&run.daemons, &run.marks));
                } else {
                    let run = sup.run(&mut client, graph).await;
                    s.walls.push(run.wall_s);
                    s.hops.extend(graph.hops(&run.daemons, &run.marks));
                }
            }
        }
        let critical_s = graph.critical_path_ms() as f64 / 1e3;
        let (fp50, sp50) = (median(&f.walls), median(&s.walls));
        let ratio = sp50 / fp50;
        let pairs: Vec<f64> = s.walls.iter().zip(&f.walls).map(|(s, f)| s / f).collect();
        println!(
            "{shape:>20}  {:>7}  {:>6}ms  {:>8}ms  {:>8}ms  {ratio:>10.3}×  {:>8.3}×  {:>8.3}×",
            graph.nodes.len(),
            graph.critical_path_ms(),
            ms(fp50 * 1e3),
            ms(sp50 * 1e3),
            fp50 / critical_s,
            sp50 / critical_s,
        );
        println!("{:>24}floor hops:      {}", "", text_of(&f.hops.lateness));
        println!("{:>24}supervisor hops: {}", "", text_of(&s.hops.lateness));
        println!(
            "{:>24}supervisor's share, p50: readiness → recorded {} ms, → spawn begun {} ms, → daemon exec {} ms",
            "",
            ms(median(&s.hops.detect)),
            ms(median(&s.hops.react)),
            ms(median(&s.hops.spawn)),
        );
        println!(
            "{:>24}floor's share, p50:      readiness → seen {} ms, → spawn begun {} ms, → daemon exec {} ms",
            "",
            ms(median(&f.hops.detect)),
            ms(median(&f.hops.react)),
            ms(median(&f.hops.spawn)),
        );
        if *shape == "chain of 10" {
            chain_p50s = (Some(sp50), Some(fp50));
        }
        rows.push(json!({
            "shape": shape, "daemons": graph.nodes.len(), "delay_ms": DELAY_MS, "repeats": repeats,
            "critical_path_ms": graph.critical_path_ms(),
            "floor": f.json(critical_s), "supervisor": s.json(critical_s),
            "ratio_to_floor_p50": ratio, "ratio_to_floor_per_pair": pairs,
            "target_ratio_to_floor": target, "met": ratio <= *target,
            "load_before": load_before, "load_after": load(),
        }));
    }
    drop(client);
    drop(sup);
    rows.push(zinit_start::chain_of_10(repeats, DELAY_MS, chain_p50s.0, chain_p50s.1, &home_base()));
    Value::Array(rows)
}
