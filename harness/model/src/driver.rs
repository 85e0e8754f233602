//! [`ScenarioDriver`]: a scenario's clients and fault schedule, driving any [`Backend`].
//!
//! One run, whatever runs it:
//! 1. [`ScenarioDriver::start`] arms every scheduled fault at its time and starts the clients.
//! 2. The backend hands back replies ([`ScenarioDriver::on_reply`]) and the timers the driver
//!    set ([`ScenarioDriver::on_timer`]): a client's next step, or a fault, applied through
//!    [`faults::apply`] with its targets resolved from the nodes' statuses at that moment.
//! 3. At the scenario's duration, [`ScenarioDriver::stop`]: no new operations, every fault
//!    healed; the backend lets the cluster settle.
//! 4. [`ScenarioDriver::finish`]: operations still open become `info`, and the client
//!    records go into the run's output.
//!
//! The simulator (the `sim` crate's `runner`) and the live runtime (the `live` crate's
//! `runner`) implement [`Backend`]; tests and experiments that need extra timers wrap the
//! driver and pass the others on.

use crate::faults::{self, FaultRecord, FaultTarget};
use crate::history::Event;
use crate::scenario::{FaultKind, FaultSpec, Scenario};
use crate::timer::TimerToken;
use crate::workload::{ClientAction, ClientReply, OpRecord, Workload};
use replog::command::ClientCommand;
use replog::{ClientId, CmdId, Nanos, NodeId};

/// What the scenario driver needs of a running cluster.
pub trait Backend: FaultTarget {
    /// Time since the run started.
    fn now(&self) -> Nanos;
    /// Sends a client's request to `node`.
    fn send_request(&mut self, node: NodeId, cmd: ClientCommand);
    /// Hands `token` back to the driver at `at`.
    fn set_timer(&mut self, at: Nanos, token: TimerToken);
    /// A client saw `cmd` take effect (the durability invariant checks it stays committed).
    fn acknowledged(&mut self, cmd: CmdId);
    /// A fault was applied: scheduled fault number `index`, or (`None`) the final heal. The
    /// backend carries out what it deferred and may amend the record (a fault it has no
    /// counterpart for).
    fn fault_applied(&mut self, index: Option<usize>, record: &mut FaultRecord);
}

/// The client records of a finished run.
#[derive(Debug, Default)]
pub struct ClientRecords {
    pub history: Vec<Event>,
    pub ops: Vec<OpRecord>,
    pub faults: Vec<FaultRecord>,
}

/// A scenario's clients and fault schedule.
pub struct ScenarioDriver {
    pub workload: Workload,
    schedule: Vec<FaultSpec>,
    records: Vec<FaultRecord>,
    seed: u64,
    stopped: bool,
    actions: Vec<ClientAction>,
}

impl ScenarioDriver {
    /// The clients of `scenario` and the fault `schedule`, armed on `backend` and started now.
    pub fn start(
        backend: &mut impl Backend,
        scenario: &Scenario,
        seed: u64,
        schedule: Vec<FaultSpec>,
    ) -> Self {
        let mut driver = ScenarioDriver {
            workload: Workload::new(&scenario.workload, scenario.cluster.nodes, seed)
                .with_reads_off_log(scenario.protocol.read_path != replog::ReadPath::Log),
            schedule,
            records: Vec::new(),
            seed,
            stopped: false,
            actions: Vec::new(),
        };
        for (index, f) in driver.schedule.iter().enumerate() {
            let index = u32::try_from(index).expect("fewer than 2^32 faults");
            backend.set_timer(f.at.0, TimerToken::Fault { index });
        }
        driver.workload.start(backend.now(), &mut driver.actions);
        driver.carry_out(backend);
        driver
    }

    /// A reply reached `client`.
    pub fn on_reply(&mut self, backend: &mut impl Backend, client: ClientId, reply: &ClientReply) {
        self.workload
            .on_reply(backend.now(), client, reply, &mut self.actions);
        self.carry_out(backend);
    }

    /// A timer the driver set fired.
    pub fn on_timer(&mut self, backend: &mut impl Backend, token: TimerToken) {
        match token {
            TimerToken::Fault { index } => {
                let index = index as usize;
                if self.stopped || index >= self.schedule.len() {
                    return;
                }
                let now = backend.now();
                let mut record = faults::apply(backend, &self.schedule[index], index, self.seed, now);
                backend.fault_applied(Some(index), &mut record);
                self.records.push(record);
            }
            token => {
                self.workload.on_timer(backend.now(), token, &mut self.actions);
                self.carry_out(backend);
            }
        }
    }

    /// The end of the workload: no new operations (those in flight continue) and every
    /// fault healed, so that the cluster can settle.
    pub fn stop(&mut self, backend: &mut impl Backend) {
        let now = backend.now();
        self.stopped = true;
        self.workload.stop();
        faults::heal_everything(backend);
        let mut record = FaultRecord {
            at_ns: now,
            kind: FaultKind::Heal,
            nodes: Vec::new(),
            label: "settle: every fault healed".into(),
            applied: true,
        };
        backend.fault_applied(None, &mut record);
        self.records.push(record);
    }

    /// Ends the run at `end`: operations still open are recorded as `info`.
    pub fn finish(&mut self, end: Nanos) -> ClientRecords {
        self.workload.finish(end);
        ClientRecords {
            history: std::mem::take(&mut self.workload.history),
            ops: std::mem::take(&mut self.workload.ops),
            faults: std::mem::take(&mut self.records),
        }
    }

    fn carry_out(&mut self, backend: &mut impl Backend) {
        for action in self.actions.drain(..) {
            match action {
                ClientAction::Send { node, cmd } => backend.send_request(node, cmd),
                ClientAction::Timer { at, token } => backend.set_timer(at, token),
                ClientAction::Acknowledged(cmd) => backend.acknowledged(cmd),
            }
        }
    }
}

/// Drivers that wrap the scenario's (adding timers of their own) hand it out through this, so
/// the code that ends a run can stop and finish it.
impl AsMut<ScenarioDriver> for ScenarioDriver {
    fn as_mut(&mut self) -> &mut ScenarioDriver {
        self
    }
}
