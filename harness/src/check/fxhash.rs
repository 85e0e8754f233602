//! The Fx hash maps the checker, the history reader and the clients use: `replog`'s, shared
//! with the state machine.

pub use replog::fxhash::{FxBuildHasher, FxHashMap, FxHashSet, FxHasher};
