//! What a command brings along that it did not ask for, said out loud: services a
//! launched supervisor brings back, a change of the active profiles, the profiles a
//! service runs with.

use super::exit::Failure;
use crate::Manifest;
use crate::client::Client;
use crate::spec::ServiceSpec;

/// A supervisor just launched brings back what was wanted when the last one stopped: say
/// so, since this command did not ask for it. The supervisor says what it restored: what
/// another command started at the same moment is not counted.
pub(super) async fn restored(client: &mut Client, spec: &ServiceSpec) -> Result<(), Failure> {
    let restored: Vec<String> = client.info().await?.restored.into_iter().filter(|s| *s != spec.name).collect();
    if !restored.is_empty() {
        eprintln!("the supervisor also brings back what was running when it last stopped: {}", restored.join(", "));
    }
    Ok(())
}

/// A start with other profiles than the service is defined with changes what runs: say so.
pub(super) async fn profile_change(client: &mut Client, spec: &ServiceSpec) -> Result<(), Failure> {
    let Some(old) = client.list().await?.into_iter().find(|s| s.name == spec.name) else { return Ok(()) };
    if old.profiles == spec.profiles {
        return Ok(());
    }
    eprintln!(
        "note: {} was defined with {}; this start uses {}: what runs only in a profile changes with it",
        spec.name,
        profiles_named(&old.profiles),
        profiles_named(&spec.profiles)
    );
    Ok(())
}

/// `no profile`, `profile debug`, `profiles debug, audit`.
pub(super) fn profiles_named(active: &[String]) -> String {
    match active {
        [] => "no profile".to_owned(),
        [one] => format!("profile {one}"),
        many => format!("profiles {}", many.join(", ")),
    }
}

/// Why an item limited to `profiles` is not there: ``only in the profile `debug`, which is
/// not active here (add --profile)``.
pub(super) fn needs_profile(profiles: &[impl AsRef<str>]) -> String {
    let list: Vec<String> = profiles.iter().map(|p| format!("`{}`", p.as_ref())).collect();
    let (s, is) = if list.len() == 1 { ("", "is") } else { ("s", "are") };
    format!("only in the profile{s} {}, which {is} not active here (add --profile)", list.join(", "))
}

/// The profiles the supervisor has the service defined with, from its actions' statuses.
pub(super) fn defined_profiles(statuses: &[crate::api::ActionStatus], service: &str) -> Vec<String> {
    statuses.iter().find(|s| s.service == service).map(|s| s.profiles.clone()).unwrap_or_default()
}

/// `hero_tasks: profile debug active`, or `no profile active (it declares debug)`; `None`
/// for a manifest that declares none.
pub(super) fn profiles_line(service: &str, active: &[String], manifest: &Manifest) -> Option<String> {
    let declared: Vec<&str> = manifest.service.profiles.iter().map(AsRef::as_ref).collect();
    if declared.is_empty() && active.is_empty() {
        return None;
    }
    Some(match active {
        [] => format!("{service}: no profile active (it declares {})", declared.join(", ")),
        active => format!("{service}: {} active", profiles_named(active)),
    })
}
