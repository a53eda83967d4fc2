//! Control plane → workers. The control plane publishes the live configuration as a stream of
//! revisioned events ([`protocol`]); workers ([`subscriber`]) apply them, fetch snapshots by hash,
//! and ack; replicas learn of each other's writes through Postgres LISTEN/NOTIFY ([`publisher`]).
//! Every internal endpoint takes the cluster token.

pub mod protocol;
pub mod publisher;
pub mod reporter;
pub mod subscriber;
