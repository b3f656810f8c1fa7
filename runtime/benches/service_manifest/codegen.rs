//! Section 1: what one `service_manifest!` expansion costs (parse + validate + generate
//! tokens), against parsing the same text as plain TOML, and how many tokens rustc is
//! handed. The same synthetic manifests as `core/benches/expansion.rs`.

use std::time::Instant;

use serde_json::{Value, json};
use service_manifest_core::codegen::{Settings, expand};
use service_manifest_core::{Options, parse};

/// A manifest of `n` binaries: a chain of `after` edges, every fifth one install-only,
/// a description on each, and two dependencies.
fn synthetic_manifest(n: usize) -> String {
    let mut s = String::from("[service]\nname = \"bench\"\n");
    for i in 0..n {
        let kind = if i % 5 == 4 { "cli" } else { "server" };
        s.push_str(&format!(
            "\n[[binaries]]\nname = \"bin_{i}\"\nkind = \"{kind}\"\nsocket = \"bench/bin_{i}.sock\"\ndescription = \"binary {i}\"\n"
        ));
        if kind == "server" && i > 0 && (i - 1) % 5 != 4 {
            s.push_str(&format!("after = [\"bin_{}\"]\nstart_timeout = \"5s\"\n", i - 1));
        }
    }
    s.push_str("\n[[dependencies]]\nrepo = \"hero_proxy\"\nbin_name = \"hero_proxy_server\"\nsocket_name = \"hero_proxy/proxy.sock\"\n");
    s.push_str("\n[[dependencies]]\nrepo = \"hero_db\"\ncrate_name = \"hero_db\"\nbin_name = \"hero_db_server\"\nrelation = \"wants\"\n");
    s
}

/// Median seconds per call of `f`, repeated for about `budget` seconds (at least 5 times).
fn time_per_call(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < budget || samples.len() < 5 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn count_tokens(stream: proc_macro2::TokenStream) -> usize {
    stream
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => 1 + count_tokens(g.stream()),
            _ => 1,
        })
        .sum()
}

pub fn run(budget: f64) -> Value {
    println!("\n1. codegen: parse + validate + generate, per expansion (median of repeated runs)");
    println!("{:>9}  {:>12}  {:>12}  {:>8}  {:>9}", "binaries", "expansion", "toml::Table", "ratio", "tokens");
    let mut rows = Vec::new();
    for n in [3, 10, 100, 1000] {
        let text = synthetic_manifest(n);
        let options = Options::strict();
        let checked = parse(&text, &options).expect("the synthetic manifest is valid");
        let tokens = count_tokens(expand(&checked.manifest, &Settings::default()));
        let full = time_per_call(budget, || {
            let checked = parse(&text, &options).expect("valid synthetic manifest");
            std::hint::black_box(expand(&checked.manifest, &Settings::default()));
        });
        let table = time_per_call(budget, || {
            std::hint::black_box(text.parse::<toml::Table>().expect("toml"));
        });
        let ratio = full / table;
        println!("{n:>9}  {:>10.1}µs  {:>10.1}µs  {ratio:>7.2}×  {tokens:>9}", full * 1e6, table * 1e6);
        rows.push(json!({ "binaries": n, "expansion_us": full * 1e6, "toml_table_us": table * 1e6,
                          "ratio_to_toml_table": ratio, "tokens": tokens,
                          "target_us": (n == 10).then_some(1000.0), "met": (n == 10).then_some(full <= 1e-3) }));
    }
    Value::Array(rows)
}
