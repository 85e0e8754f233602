//! The network model: one-way latency per link, loss, duplication, extra delay and a link
//! matrix for partitions (asymmetric allowed).
//!
//! Links are FIFO by default, as the TCP connections of real deployments (etcd's, and this
//! workbench's live runtime) are: a message never overtakes an earlier one on the same link.
//! With `fifo = false`, latency jitter reorders messages, which Raft's consistency check
//! answers with rejections and retransmission while Paxos's per-slot accepts do not care;
//! the campaign's lossy-network schedule turns it off.
//!
//! Clients sit outside the cluster's network: their links have their own latency and are
//! never partitioned or lossy, as with Jepsen's control node. A partition therefore strands
//! a leader's clients with it, which is exactly what makes an isolated leader interesting.

use model::scenario::{Dist, NetworkConfig};
use replog::rng::{DetRng, RngExt};
use replog::{Nanos, NodeId};

/// The live state of the network.
#[derive(Clone, Debug)]
pub struct Network {
    n: usize,
    latency: Vec<Dist>,
    blocked: Vec<bool>,
    loss: Vec<f64>,
    extra_delay: Vec<Nanos>,
    duplicate: f64,
    client_latency: Dist,
    fifo: bool,
    /// Per link: when its latest message arrives (for FIFO delivery).
    last_arrival: Vec<Nanos>,
}

/// What happens to one message: dropped, or delivered after each of these delays.
pub type Copies = ([Nanos; 2], usize);

impl Network {
    pub fn new(n: usize, cfg: &NetworkConfig) -> Self {
        let mut latency = vec![cfg.latency.clone(); n * n];
        for link in &cfg.links {
            latency[link.from.index() * n + link.to.index()] = link.latency.clone();
        }
        Network {
            n,
            latency,
            blocked: vec![false; n * n],
            loss: vec![cfg.loss; n * n],
            extra_delay: vec![0; n * n],
            duplicate: cfg.duplicate,
            client_latency: cfg.client_latency.clone(),
            fifo: cfg.fifo,
            last_arrival: vec![0; n * n],
        }
    }

    #[inline]
    fn link(&self, from: NodeId, to: NodeId) -> usize {
        from.index() * self.n + to.index()
    }

    /// Decides the fate of a message sent at `now` from `from` to `to`.
    pub fn route(&mut self, now: Nanos, from: NodeId, to: NodeId, rng: &mut DetRng) -> Copies {
        let l = self.link(from, to);
        if self.blocked[l] {
            return ([0; 2], 0);
        }
        if self.loss[l] > 0.0 && rng.random_bool(self.loss[l]) {
            return ([0; 2], 0);
        }
        let first = self.delay(l, now, rng);
        if self.duplicate > 0.0 && rng.random_bool(self.duplicate) {
            let second = self.delay(l, now, rng);
            ([first, second], 2)
        } else {
            ([first, 0], 1)
        }
    }

    /// One copy's delay on link `l`; on a FIFO link, never arriving before an earlier one.
    fn delay(&mut self, l: usize, now: Nanos, rng: &mut DetRng) -> Nanos {
        let mut arrival = now + self.latency[l].sample(rng) + self.extra_delay[l];
        if self.fifo {
            arrival = arrival.max(self.last_arrival[l]);
            self.last_arrival[l] = arrival;
        }
        arrival - now
    }

    /// Latency of one client-to-node or node-to-client hop.
    pub fn client_hop(&self, rng: &mut DetRng) -> Nanos {
        self.client_latency.sample(rng)
    }

    /// Whether messages from `from` to `to` are cut.
    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.blocked[self.link(from, to)]
    }

    /// Cuts or restores the one-way link `from -> to`.
    pub fn set_blocked(&mut self, from: NodeId, to: NodeId, blocked: bool) {
        let l = self.link(from, to);
        self.blocked[l] = blocked;
    }

    /// Restores every link (loss, delay and duplication are left alone).
    pub fn heal(&mut self) {
        self.blocked.iter_mut().for_each(|b| *b = false);
    }

    /// Sets the loss probability of `from -> to`.
    pub fn set_loss(&mut self, from: NodeId, to: NodeId, p: f64) {
        let l = self.link(from, to);
        self.loss[l] = p;
    }

    /// Adds `extra` to the latency of `from -> to`.
    pub fn set_extra_delay(&mut self, from: NodeId, to: NodeId, extra: Nanos) {
        let l = self.link(from, to);
        self.extra_delay[l] = extra;
    }

    /// Sets the duplication probability for every link.
    pub fn set_duplicate(&mut self, p: f64) {
        self.duplicate = p;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use replog::rng::rng_for;

    #[test]
    fn a_blocked_link_drops_and_the_reverse_still_delivers() {
        let mut net = Network::new(2, &NetworkConfig::default());
        net.set_blocked(NodeId(0), NodeId(1), true);
        let mut rng = rng_for(1, 1);
        assert_eq!(net.route(0, NodeId(0), NodeId(1), &mut rng).1, 0);
        assert_eq!(net.route(0, NodeId(1), NodeId(0), &mut rng).1, 1);
    }

    #[test]
    fn loss_and_duplication_happen_at_their_rates() {
        let cfg = NetworkConfig {
            loss: 0.2,
            duplicate: 0.1,
            ..NetworkConfig::default()
        };
        let mut net = Network::new(2, &cfg);
        let mut rng = rng_for(3, 3);
        let n = 50_000;
        let copies: usize = (0..n)
            .map(|_| net.route(0, NodeId(0), NodeId(1), &mut rng).1)
            .sum();
        // Expected copies per message: 0.8 * 1.1 = 0.88.
        let rate = copies as f64 / n as f64;
        assert!((rate - 0.88).abs() < 0.01, "{rate}");
    }
}
