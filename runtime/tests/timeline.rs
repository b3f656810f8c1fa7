//! `--timeline` from a real start: a diamond of real daemons whose slow branch sets the
//! total. The timeline has the start order, the waits and the critical chain the journal
//! implies, and its SVG, rendered by a real renderer (resvg), has each bar where the
//! journal places it.

mod common;

use common::*;
use service_manifest_runtime::api::WaitFor;
use service_manifest_runtime::cli::timeline::{Layout, Timeline, svg};

/// root (150 ms) ← left (50 ms), right (250 ms) ← sink (50 ms): the chain through right sets the total.
async fn diamond_timeline(h: &Harness) -> Timeline {
    let mut client = h.client().await;
    let root = h.served("svc_d", "root", 150);
    let left = h.served("svc_d", "left", 50).depends_on(requires("svc_d", "root", &h.sock("svc_d", "root")));
    let right = h.served("svc_d", "right", 250).depends_on(requires("svc_d", "root", &h.sock("svc_d", "root")));
    let sink = h
        .served("svc_d", "sink", 50)
        .depends_on(requires("svc_d", "left", &h.sock("svc_d", "left")))
        .depends_on(requires("svc_d", "right", &h.sock("svc_d", "right")));
    let spec = service("svc_d", vec![root, left, right, sink]);
    client.apply(&spec, true).await.unwrap();
    let up = client.wait("svc_d", WaitFor::Up, 30_000).await.unwrap();
    assert!(up.settled, "{:#?}", up.actions);
    let events = client.events(0, 0).await.unwrap();
    Timeline::build(&spec, &client.list().await.unwrap(), &events).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_timeline_of_a_diamond_has_its_order_its_waits_and_its_critical_chain() {
    let h = Harness::new();
    let t = diamond_timeline(&h).await;
    let span = |name: &str| t.span(&format!("svc_d/{name}")).unwrap_or_else(|| panic!("no {name} in {t:#?}"));
    let (root, left, right, sink) = (span("root"), span("left"), span("right"), span("sink"));
    // Each spawned only once what it requires was ready.
    for (child, parent) in [(left, root), (right, root), (sink, left), (sink, right)] {
        assert!(child.spawned_us >= parent.ready_us, "{} before {}: {t:#?}", child.action, parent.action);
    }
    assert!(right.ready_us > left.ready_us, "the slow branch is the later one: {t:#?}");
    assert_eq!(t.critical_chain, ["svc_d/sink", "svc_d/right", "svc_d/root"], "{}", t.text());
    assert!(!left.critical && right.critical && root.critical && sink.critical);
    // What held the sink last was the slow branch alone.
    assert_eq!(sink.waited_on.len(), 1, "{t:#?}");
    assert!(sink.waited_on[0].starts_with("svc_d/right: "), "{t:#?}");
    assert!(root.waited_on.is_empty(), "nothing held the root: {t:#?}");
    assert_eq!(t.total_us, sink.ready_us.unwrap(), "the start ended when the sink was up");
    let text = t.text();
    for line in ["svc_d/sink @+", "└─svc_d/right @+", "  └─svc_d/root @+"] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
    let json: serde_json::Value = serde_json::from_str(&t.json()).unwrap();
    assert_eq!(json["critical_chain"][2], "svc_d/root");
}

/// The colour at (x, y) of the rendered picture.
fn colour_at(pixmap: &resvg::tiny_skia::Pixmap, x: f64, y: f64) -> [u8; 3] {
    let p = pixmap.pixel(x.round() as u32, y.round() as u32).unwrap();
    [p.red(), p.green(), p.blue()]
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(&hex[1..], 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[tokio::test(flavor = "current_thread")]
async fn the_svg_renders_and_has_each_bar_where_the_journal_places_it() {
    let h = Harness::new();
    let t = diamond_timeline(&h).await;
    let svg_text = t.svg();
    let tree = resvg::usvg::Tree::from_str(&svg_text, &resvg::usvg::Options::default()).expect("a valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let layout = Layout::of(&t);
    assert_eq!((size.width() as f64, size.height() as f64), (layout.width, layout.height));
    for (row, s) in t.actions.iter().enumerate() {
        let y = layout.middle(row);
        let (spawned, ready) = (s.spawned_us.unwrap(), s.ready_us.unwrap());
        let x = layout.x((spawned + ready) / 2);
        assert_eq!(colour_at(&pixmap, x, y), rgb(svg::STARTING), "{}: no spawn → ready bar at {x}", s.action);
        if spawned - s.waiting_us > 20_000 {
            let x = layout.x((s.waiting_us + spawned) / 2);
            assert_eq!(colour_at(&pixmap, x, y), rgb(svg::WAITING), "{}: no waiting bar at {x}", s.action);
        }
        // Nothing is drawn on its row after it was up.
        if ready + 20_000 < t.total_us {
            let x = layout.x((ready + t.total_us) / 2);
            assert_eq!(colour_at(&pixmap, x, y), [255, 255, 255], "{}: a bar after ready at {x}", s.action);
        }
        // The critical chain is outlined: the bar's top edge is red there, grey elsewhere.
        let edge = colour_at(&pixmap, x_mid(&layout, spawned, ready), y - 7.0);
        let red = edge[0] > 150 && edge[1] < 110 && edge[2] < 110;
        assert_eq!(red, s.critical, "{}: outline {edge:?}", s.action);
    }
    if let Some(path) = std::env::var_os("SERVICE_MANIFEST_TIMELINE_PNG") {
        pixmap.save_png(path).unwrap();
    }
}

fn x_mid(layout: &Layout, from: u64, to: u64) -> f64 {
    layout.x((from + to) / 2)
}
