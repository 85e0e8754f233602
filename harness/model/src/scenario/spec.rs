//! The scenario file format (TOML). Every section but `name` and `duration` has defaults;
//! unknown fields are errors. See `docs/formats.md` for a worked example.

use super::dist::Dist;
use crate::protocol::Protocol;
use replog::duration::Dur;
use replog::{Nanos, NodeId, ProtocolConfig};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short identifier, used in file names and reports.
    pub name: String,
    /// One or two sentences for the report.
    #[serde(default)]
    pub description: String,
    /// Seed of the run (the CLI's `--seed` overrides it).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// How long clients issue operations.
    pub duration: Dur,
    /// After `duration`: every fault is healed, crashed nodes restart, and the cluster runs
    /// this long without new operations before the final checks.
    #[serde(default = "default_settle")]
    pub settle: Dur,
    /// Protocols this scenario applies to (default: raft and paxos).
    #[serde(default)]
    pub protocols: Option<Vec<Protocol>>,
    #[serde(default)]
    pub cluster: ClusterSpec,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub disk: DiskConfig,
    #[serde(default)]
    pub cpu: CpuConfig,
    /// The knobs both protocols share, with one meaning for both.
    #[serde(default)]
    pub protocol: ProtocolConfig,
    #[serde(default)]
    pub workload: WorkloadSpec,
    #[serde(default)]
    pub faults: FaultsSpec,
}

fn default_seed() -> u64 {
    1
}
fn default_settle() -> Dur {
    Dur(5_000_000_000)
}

/// `[cluster]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Number of nodes (1 to 15).
    pub nodes: usize,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec { nodes: 3 }
    }
}

/// `[network]`: how the network behaves at the start of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// One-way latency between nodes.
    pub latency: Dist,
    /// One-way latency between a client and a node.
    pub client_latency: Dist,
    /// Probability a message between nodes is lost.
    pub loss: f64,
    /// Probability a message between nodes is delivered twice.
    pub duplicate: f64,
    /// Per-link latency overrides.
    pub links: Vec<LinkLatency>,
    /// Deliver in order on each link, as TCP does (default true); false lets latency
    /// jitter reorder messages.
    pub fifo: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            latency: Dist::Normal {
                mean_ns: 500_000,
                stddev_ns: 50_000,
            },
            client_latency: Dist::constant(100_000),
            loss: 0.0,
            duplicate: 0.0,
            links: Vec::new(),
            fifo: true,
        }
    }
}

/// `[[network.links]]`: the latency of one directed link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkLatency {
    pub from: NodeId,
    pub to: NodeId,
    pub latency: Dist,
}

/// `[disk]`: how fast the disk syncs. Appends are instant; while an fsync is in flight,
/// later persists wait and the next fsync covers them all (group commit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskConfig {
    /// Time one fdatasync takes.
    pub fsync: Dist,
}

impl Default for DiskConfig {
    fn default() -> Self {
        DiskConfig {
            fsync: Dist::Normal {
                mean_ns: 1_000_000,
                stddev_ns: 100_000,
            },
        }
    }
}

/// `[cpu]`: service times that make a busy node a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuConfig {
    /// Cost of handling one input (a message, a request, a timer, an fsync completion).
    #[serde(rename = "per_input", with = "replog::duration::human_ns")]
    pub per_input_ns: Nanos,
    /// Cost of sending one message or reply.
    #[serde(rename = "per_send", with = "replog::duration::human_ns")]
    pub per_send_ns: Nanos,
    /// Extra cost per KiB received or sent.
    #[serde(rename = "per_kib", with = "replog::duration::human_ns")]
    pub per_kib_ns: Nanos,
}

impl Default for CpuConfig {
    fn default() -> Self {
        CpuConfig {
            per_input_ns: 5_000,
            per_send_ns: 2_000,
            per_kib_ns: 1_000,
        }
    }
}

impl CpuConfig {
    /// No CPU cost at all: infinitely fast nodes.
    pub fn free() -> Self {
        CpuConfig {
            per_input_ns: 0,
            per_send_ns: 0,
            per_kib_ns: 0,
        }
    }

    /// The cost of receiving or sending `bytes`.
    #[inline]
    pub fn bytes_ns(&self, bytes: usize) -> Nanos {
        self.per_kib_ns * bytes as Nanos / 1024
    }
}

/// Closed loop (each client waits for its reply) or open loop (Poisson arrivals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopMode {
    Closed,
    Open,
}

/// How keys are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyDistribution {
    Uniform,
    Zipfian,
    Hotspot,
}

/// `[workload.mix]`: relative weights of reads, writes and compare-and-sets.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MixSpec {
    pub read: f64,
    pub write: f64,
    pub cas: f64,
}

impl Default for MixSpec {
    fn default() -> Self {
        MixSpec {
            read: 0.5,
            write: 0.4,
            cas: 0.1,
        }
    }
}

/// `[workload]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSpec {
    /// Number of clients (Jepsen processes); in open loop, the most operations in flight.
    pub clients: usize,
    pub mode: LoopMode,
    /// Open loop: total arrivals per second.
    pub rate: Option<f64>,
    /// Number of distinct keys.
    pub keys: usize,
    pub distribution: KeyDistribution,
    /// Zipfian exponent (s): larger is more skewed.
    pub zipf_exponent: f64,
    /// Hotspot: fraction of keys that are hot.
    pub hotspot_keys: f64,
    /// Hotspot: fraction of operations that go to hot keys.
    pub hotspot_ops: f64,
    pub mix: MixSpec,
    /// Bytes per written value.
    pub value_size: usize,
    /// A client that has no reply after this long resends the same (client, seq).
    pub request_timeout: Dur,
    /// A client gives up on an operation after this long and records it as `info`.
    pub op_timeout: Dur,
    /// Pause when no leader is known before trying the next node.
    pub retry_backoff: Dur,
    /// Closed loop: pause between an operation's end and the next.
    pub think_time: Dur,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: 16,
            mode: LoopMode::Closed,
            rate: None,
            keys: 100,
            distribution: KeyDistribution::Uniform,
            zipf_exponent: 0.99,
            hotspot_keys: 0.1,
            hotspot_ops: 0.9,
            mix: MixSpec::default(),
            value_size: 64,
            request_timeout: Dur(500_000_000),
            op_timeout: Dur(5_000_000_000),
            retry_backoff: Dur(20_000_000),
            think_time: Dur(0),
        }
    }
}

/// Which nodes a fault hits, resolved when it fires (through `Status` only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TargetSpec {
    Node(u32),
    Nodes(Vec<u32>),
    Named(NamedTarget),
}

/// Targets chosen at fire time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedTarget {
    /// The live leader of the highest epoch.
    Leader,
    /// One live node that is not the leader, picked at random.
    Follower,
    /// A minority ((n-1)/2 nodes) of live followers, the leader excluded.
    Minority,
    /// The leader plus followers up to a minority: the leader ends up on the small side.
    MinorityWithLeader,
    /// Every node.
    All,
    /// Every crashed node.
    Crashed,
    /// Every paused node.
    Paused,
}

const TARGET_EXPECTED: &str = "a node id, a list of node ids, or one of \"leader\", \"follower\", \"minority\", \
\"minority_with_leader\", \"all\", \"crashed\", \"paused\"";

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TargetSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(TARGET_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TargetSpec, E> {
                u32::try_from(v)
                    .map(TargetSpec::Node)
                    .map_err(|_| E::custom(format!("node id {v} is negative or too large")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TargetSpec, E> {
                NamedTarget::deserialize(de::value::StrDeserializer::<E>::new(v))
                    .map(TargetSpec::Named)
                    .map_err(|_| E::custom(format!("unknown target {v:?}: expected {TARGET_EXPECTED}")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TargetSpec, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element::<u32>()? {
                    ids.push(id);
                }
                Ok(TargetSpec::Nodes(ids))
            }
        }
        d.deserialize_any(V)
    }
}

/// The kinds of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Crash,
    Restart,
    Partition,
    Isolate,
    Bridge,
    MajoritiesRing,
    OneWay,
    /// The target loses its links to the current leader (both ways) and keeps every other
    /// link: the partial partition that destabilises Raft without PreVote/CheckQuorum.
    Partial,
    Heal,
    Loss,
    Delay,
    Duplicate,
    ClockSkew,
    SlowDisk,
    Pause,
    Resume,
}

impl FaultKind {
    /// The name a scenario file uses for it.
    pub fn name(self) -> &'static str {
        use FaultKind::*;
        match self {
            Crash => "crash",
            Restart => "restart",
            Partition => "partition",
            Isolate => "isolate",
            Bridge => "bridge",
            MajoritiesRing => "majorities_ring",
            OneWay => "one_way",
            Partial => "partial",
            Heal => "heal",
            Loss => "loss",
            Delay => "delay",
            Duplicate => "duplicate",
            ClockSkew => "clock_skew",
            SlowDisk => "slow_disk",
            Pause => "pause",
            Resume => "resume",
        }
    }
}

/// `[[faults]]`: one scheduled fault. Which of the optional fields apply depends on
/// `action` (see docs/formats.md); the validator rejects the ones that do not.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When it fires, from the start of the run.
    pub at: Dur,
    pub action: FaultKind,
    /// crash, restart, pause, resume, isolate, one_way, partial, clock_skew, slow_disk,
    /// bridge (the bridge node); partition (one side; the rest form the other); loss, delay
    /// (every link to and from the targets).
    #[serde(default)]
    pub target: Option<TargetSpec>,
    /// partition: explicit groups of node ids.
    #[serde(default)]
    pub groups: Option<Vec<Vec<u32>>>,
    /// loss, duplicate: probability in [0, 1].
    #[serde(default)]
    pub probability: Option<f64>,
    /// delay: extra one-way latency.
    #[serde(default)]
    pub extra: Option<Dur>,
    /// clock_skew: how fast the target's clock runs (2.0 twice as fast, 0.5 half).
    #[serde(default)]
    pub rate: Option<f64>,
    /// slow_disk: the target's fsync latency (omit to restore the disk model).
    #[serde(default)]
    pub fsync: Option<Dist>,
    /// one_way: "receive" (the target hears nobody but is heard; default) or "send".
    #[serde(default)]
    pub direction: Option<Direction>,
}

/// Which way a one-way partition cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The target can send but not receive.
    Receive,
    /// The target can receive but not send.
    Send,
}

/// `[faults] random = { ... }`: a nemesis that draws faults from the seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomNemesisSpec {
    /// Mean time between fault starts (exponentially distributed).
    pub mean_interval: Dur,
    /// Kinds to draw from: crash, pause, partition, isolate, bridge, majorities_ring, one_way,
    /// partial, loss, delay, duplicate, clock_skew, slow_disk. Each is healed after `fault_duration`.
    pub kinds: Vec<FaultKind>,
    /// Mean time a fault lasts before it is healed (uniform in [0.5, 1.5] times it).
    #[serde(default = "default_fault_duration")]
    pub fault_duration: Dur,
    /// No fault starts before this time.
    #[serde(default)]
    pub start: Dur,
}

fn default_fault_duration() -> Dur {
    Dur(1_000_000_000)
}

/// The fault schedule: `[[faults]]` entries, or a `[faults]` table holding `random` and/or
/// `schedule`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultsSpec {
    pub schedule: Vec<FaultSpec>,
    pub random: Option<RandomNemesisSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsTable {
    #[serde(default)]
    schedule: Vec<FaultSpec>,
    #[serde(default)]
    random: Option<RandomNemesisSpec>,
}

impl<'de> Deserialize<'de> for FaultsSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FaultsSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[[faults]] entries, or a [faults] table with `random` and/or `schedule`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<FaultsSpec, A::Error> {
                let schedule = Vec::<FaultSpec>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(FaultsSpec {
                    schedule,
                    random: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FaultsSpec, A::Error> {
                let t = FaultsTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(FaultsSpec {
                    schedule: t.schedule,
                    random: t.random,
                })
            }
        }
        d.deserialize_any(V)
    }
}
