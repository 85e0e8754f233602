//! etcd-client's build script runs `tools/protoc` (see `.cargo/config.toml`): without a
//! protoc on the machine it must find the one the protoc-bin-vendored crate ships, so a fresh
//! clone builds with the Rust toolchain alone.

use std::path::Path;
use std::process::Command;

#[test]
fn the_protoc_wrapper_runs_a_protoc_even_without_one_on_path() {
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/protoc");
    // Only the basic tools on PATH: no protoc there.
    let out = Command::new("sh")
        .arg(&wrapper)
        .arg("--version")
        .env("PATH", "/usr/bin:/bin")
        .env_remove("PROTOC")
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.starts_with("libprotoc "), "{stdout}");
}
