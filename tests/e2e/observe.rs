//! The operator's view, as a user meets it: where the last start's time went
//! (`--timeline`, as text, JSON and a picture).

use service_manifest::cli::timeline::{Layout, Timeline, svg};

use super::world::*;

#[test]
fn the_timeline_of_the_main_job_shows_its_critical_chain_and_a_picture_of_it() {
    let w = World::new();
    assert!(w.run("hero_collab", &["--start"]).status.success());
    let out = w.run("hero_collab", &["--timeline"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let chain: Vec<&str> = said.lines().skip_while(|l| !l.starts_with("The critical chain")).skip(1).collect();
    let names: Vec<&str> =
        chain.iter().map(|l| l.trim_start_matches([' ', '└', '─']).split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        ["hero_collab/hero_collab_admin", "hero_collab/hero_collab_server", "hero_proxy/hero_proxy_server"],
        "{said}"
    );
    // The JSON is the same timeline, for tools.
    let json = w.run("hero_collab", &["--timeline=json"]);
    let t: Timeline = serde_json::from_slice(&json.stdout).unwrap();
    let proxy = t.span("hero_proxy/hero_proxy_server").unwrap();
    let server = t.span("hero_collab/hero_collab_server").unwrap();
    assert!(server.spawned_us >= proxy.ready_us && server.healthy_us.is_some(), "{t:#?}");
    // The picture renders, with the proxy's start-up (300 ms of the demo's) drawn where it was.
    let picture = w.run("hero_collab", &["--timeline=svg"]);
    let tree = resvg::usvg::Tree::from_data(&picture.stdout, &resvg::usvg::Options::default()).expect("a valid SVG");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let layout = Layout::of(&t);
    let row = t.actions.iter().position(|s| s.action == proxy.action).unwrap();
    let x = layout.x((proxy.spawned_us.unwrap() + proxy.ready_us.unwrap()) / 2);
    let p = pixmap.pixel(x as u32, layout.middle(row) as u32).unwrap();
    let blue = u32::from_str_radix(&svg::STARTING[1..], 16).unwrap();
    assert_eq!([p.red(), p.green(), p.blue()], [(blue >> 16) as u8, (blue >> 8) as u8, blue as u8]);
    if let Some(path) = std::env::var_os("SERVICE_MANIFEST_TIMELINE_PNG") {
        let mut options = resvg::usvg::Options::default();
        options.fontdb_mut().load_system_fonts();
        let tree = resvg::usvg::Tree::from_data(&picture.stdout, &options).unwrap();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
        pixmap.save_png(path).unwrap();
    }
}
