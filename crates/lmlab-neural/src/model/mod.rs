//! The networks: the decoder-only transformer (`transformer`, its activation `workspace`, and the
//! one-token KV-cache step of `kv` used for scoring and generation) and the LSTM (`lstm`), the
//! parameter layout they share (`params`), and the `Net` trait the training loop drives both through.

pub mod kv;
pub mod lstm;
pub mod net;
pub mod params;
pub mod transformer;
pub mod workspace;

pub use kv::{KvCache, StepWeights};
pub use lstm::{LstmNet, LstmState, LstmWorkspace};
pub use net::Net;
pub use params::{Layout, ParamSpec, Span};
pub use transformer::Transformer;
pub use workspace::Workspace;
