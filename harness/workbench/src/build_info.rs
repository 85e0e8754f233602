//! What built this binary, from the build script: every report names it.

use model::metrics::Versions;

/// The versions this binary was built with.
pub fn versions() -> Versions {
    Versions {
        workbench: env!("CARGO_PKG_VERSION").to_string(),
        git: env!("WORKBENCH_GIT").to_string(),
        rustc: env!("WORKBENCH_RUSTC").to_string(),
    }
}
