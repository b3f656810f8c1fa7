//! The examples driven as a user drives them: real CLI processes, a real supervisor
//! they launch themselves, real daemons and sockets, all in a private directory per
//! test, shut down when the test ends.

#[path = "e2e/world.rs"]
mod world;

#[path = "e2e/conventions.rs"]
mod conventions;
#[path = "e2e/examples.rs"]
mod examples;
#[path = "e2e/launch.rs"]
mod launch;
#[path = "e2e/manage.rs"]
mod manage;
#[path = "e2e/observe.rs"]
mod observe;
