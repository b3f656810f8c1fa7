//! How binary names become Rust identifiers in generated code.

/// The `Binary` enum variant for a (valid) binary name: `hero_collab_server` →
/// `HeroCollabServer`, `lk-backend` → `LkBackend`, `7z` → `B7z`.
///
/// ```
/// use service_manifest_core::ident::variant_name;
/// assert_eq!(variant_name("lk-backend"), "LkBackend");
/// assert_eq!(variant_name("hero_collab.v2"), "HeroCollabV2");
/// ```
pub fn variant_name(binary: &str) -> String {
    let mut out = String::new();
    for part in binary.split(['_', '-', '.']).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars.flat_map(char::to_lowercase));
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'B');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}
