// Generated paths go through `$crate`, so the facade works under another name.
extern crate service_manifest as sm;

mod proxy {
    sm::service_manifest!("examples/hero_proxy/service.toml");
}

fn main() {
    assert_eq!(proxy::service_builder().build().actions.len(), 1);
}
