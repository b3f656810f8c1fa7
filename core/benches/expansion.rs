//! What one `service_manifest!` expansion costs: parse + validate + generate tokens, for
//! manifests of 3, 10, 100 and 1,000 binaries. A plain timing loop (median of repeated
//! runs), no harness: `cargo bench -p service_manifest_core --bench expansion`.
//!
//! The macro hands rustc tokens, not text, so the figure is the token stream's cost;
//! `tokens` is how many it holds, which is what rustc then parses and type-checks.

use std::time::Instant;

use service_manifest_core::codegen::{Settings, expand};
use service_manifest_core::{Options, parse};

/// A manifest of `n` binaries: a chain of `after` edges, every fifth one install-only,
/// and two dependencies (the shape `runtime/benches` uses, so figures compare).
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

fn main() {
    let budget = if std::env::args().any(|a| a == "--quick") { 0.2 } else { 1.0 };
    println!("{:>9}  {:>12}  {:>12}  {:>7}  {:>10}", "binaries", "expansion", "toml::Table", "ratio", "tokens");
    for n in [3, 10, 100, 1000] {
        let text = synthetic_manifest(n);
        let options = Options::strict();
        let checked = match parse(&text, &options) {
            Ok(checked) => checked,
            Err(errors) => {
                eprintln!("the synthetic manifest is invalid: {errors:?}");
                std::process::exit(1);
            }
        };
        let tokens = count_tokens(expand(&checked.manifest, &Settings::default()));
        let full = time_per_call(budget, || {
            if let Ok(checked) = parse(&text, &options) {
                std::hint::black_box(expand(&checked.manifest, &Settings::default()));
            }
        });
        let table = time_per_call(budget, || {
            std::hint::black_box(text.parse::<toml::Table>().ok());
        });
        println!("{n:>9}  {:>10.1}µs  {:>10.1}µs  {:>6.2}×  {tokens:>10}", full * 1e6, table * 1e6, full / table);
    }
}
