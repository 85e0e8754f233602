//! The cluster file: which protocol runs, its knobs, and every node's address.
//!
//! ```toml
//! protocol = "raft"          # raft, paxos or null
//! seed = 1                   # protocol timers derive from it (and each node's id)
//!
//! [config]                   # the same fields as a scenario's [protocol] table
//! heartbeat_interval = "50ms"
//! election_timeout_min = "150ms"
//! election_timeout_max = "300ms"
//!
//! [[nodes]]
//! id = 0
//! addr = "10.0.0.1:7400"     # where the others reach it: peers, clients and the admin link
//! listen = "0.0.0.0:7400"    # optional: what it binds (default: addr)
//! ```
//!
//! Node ids must be 0, 1, 2, ... in any order. One port per node carries peer traffic,
//! client requests and the admin link; the first frame of each connection says which.

use model::protocol::Protocol;
use replog::{NodeId, ProtocolConfig};
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// A cluster file that cannot be used, naming the file and the problem.
#[derive(Debug, Error)]
#[error("{file}: {message}")]
pub struct ClusterError {
    pub file: String,
    pub message: String,
}

/// One node's entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
    pub id: u32,
    /// `host:port` the other nodes, clients and the harness connect to.
    pub addr: String,
    /// `host:port` the node binds; defaults to `addr` (set it to `0.0.0.0:PORT` when `addr`
    /// names an address the host does not own, e.g. behind NAT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl NodeEntry {
    /// What the node binds.
    pub fn listen_addr(&self) -> &str {
        self.listen.as_deref().unwrap_or(&self.addr)
    }
}

/// The whole cluster file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    pub protocol: Protocol,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub config: ProtocolConfig,
    pub nodes: Vec<NodeEntry>,
}

fn default_seed() -> u64 {
    1
}

impl ClusterFile {
    /// Reads and validates a cluster file.
    pub fn load(path: &Path) -> Result<ClusterFile, ClusterError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ClusterError {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &file)
    }

    /// Parses and validates cluster-file text; `file` labels errors.
    pub fn parse(text: &str, file: &str) -> Result<ClusterFile, ClusterError> {
        let err = |message: String| ClusterError {
            file: file.to_string(),
            message,
        };
        let mut cluster: ClusterFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if !cluster.protocol.is_simulated() {
            return Err(err(format!(
                "protocol: {} is not a protocol a workbench node runs: expected one of {}",
                cluster.protocol,
                Protocol::SIMULATED.map(Protocol::name).join(", ")
            )));
        }
        if cluster.nodes.is_empty() {
            return Err(err("nodes: at least one [[nodes]] entry is required".into()));
        }
        cluster.nodes.sort_by_key(|n| n.id);
        for (i, n) in cluster.nodes.iter().enumerate() {
            if n.id as usize != i {
                return Err(err(format!(
                    "nodes: ids must be 0..{} without gaps or repeats; found {} where {i} was expected",
                    cluster.nodes.len(),
                    n.id
                )));
            }
            for (field, a) in [("addr", n.addr.as_str()), ("listen", n.listen_addr())] {
                if !looks_like_host_port(a) {
                    return Err(err(format!(
                        "nodes[id = {}].{field}: {a:?} is not host:port (e.g. \"10.0.0.1:7400\")",
                        n.id
                    )));
                }
            }
        }
        if let Err(e) = cluster.config.validate() {
            return Err(err(format!("config.{}: {}", e.field, e.problem)));
        }
        Ok(cluster)
    }

    /// The file as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot encode cluster file: {e}\n"))
    }

    /// Every member's id.
    pub fn members(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| NodeId(n.id)).collect()
    }

    /// The entry of `id`, if it is a member.
    pub fn node(&self, id: NodeId) -> Option<&NodeEntry> {
        self.nodes.get(id.index())
    }
}

fn looks_like_host_port(a: &str) -> bool {
    match a.rsplit_once(':') {
        Some((host, port)) => !host.is_empty() && port.parse::<u16>().is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
protocol = "paxos"
[config]
heartbeat_interval = "20ms"
[[nodes]]
id = 1
addr = "127.0.0.1:7401"
[[nodes]]
id = 0
addr = "host-a.example:7400"
listen = "0.0.0.0:7400"
"#;

    #[test]
    fn a_cluster_file_round_trips_through_toml() {
        let c = ClusterFile::parse(EXAMPLE, "t").unwrap();
        assert_eq!(c.members(), vec![NodeId(0), NodeId(1)]);
        assert_eq!(c.nodes[0].listen_addr(), "0.0.0.0:7400");
        assert_eq!(c.config.heartbeat_interval_ns, 20_000_000);
        let again = ClusterFile::parse(&c.to_toml(), "t").unwrap();
        assert_eq!(again.nodes, c.nodes);
    }

    #[test]
    fn a_gap_in_node_ids_is_an_error_naming_it() {
        let text = EXAMPLE.replace("id = 1", "id = 2");
        let e = ClusterFile::parse(&text, "c.toml").unwrap_err().to_string();
        assert!(e.contains("c.toml") && e.contains("found 2"), "{e}");
    }

    #[test]
    fn an_address_without_a_port_is_an_error() {
        let text = EXAMPLE.replace("127.0.0.1:7401", "127.0.0.1");
        assert!(ClusterFile::parse(&text, "t").is_err());
    }

    #[test]
    fn an_unknown_protocol_is_an_error() {
        let text = EXAMPLE.replace("paxos", "zab");
        let e = ClusterFile::parse(&text, "t").unwrap_err().to_string();
        assert!(e.contains("zab"), "{e}");
    }
}
