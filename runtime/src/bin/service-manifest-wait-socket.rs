//! Exits 0 once a Unix socket accepts a connection: the readiness step of exported
//! systemd units (`ExecStartPost=`) and of zinit health checks.

fn main() -> std::process::ExitCode {
    service_manifest_runtime::backend::wait_socket::run(std::env::args_os().skip(1))
}
