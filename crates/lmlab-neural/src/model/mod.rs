//! The decoder-only transformer: parameter layout, activation workspace, forward and backward passes,
//! and the one-token KV-cache step used for scoring and generation.

pub mod kv;
pub mod lstm;
pub mod net;
pub mod params;
pub mod transformer;
pub mod workspace;

pub use kv::KvCache;
pub use lstm::{LstmNet, LstmState, LstmWorkspace};
pub use net::Net;
pub use params::{Layout, ParamSpec, Span};
pub use transformer::Transformer;
pub use workspace::Workspace;
