//! The compile-time half, as a user meets it: each broken manifest in `tests/ui/`
//! must fail to compile with the committed message; each case in `tests/ui/pass/`
//! must compile and run. `TRYBUILD=overwrite` rewrites the `.stderr` files.

#[test]
fn ui() {
    // trybuild compiles each case in a scratch crate under target/, so the macro is
    // told where this crate lives to resolve the fixtures' relative paths.
    // SAFETY: set before trybuild starts any thread, and never changed afterwards.
    unsafe { std::env::set_var("SERVICE_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR")) };
    // Every dependency on an example service is checked against that example's own
    // manifest, so the fixtures and the examples must agree (one case shows a mismatch).
    // SAFETY: as above.
    unsafe { std::env::set_var("SERVICE_MANIFEST_PATH", concat!(env!("CARGO_MANIFEST_DIR"), "/examples")) };
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
