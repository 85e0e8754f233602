use super::*;
use crate::scenario::Dur;

const MS: Nanos = 1_000_000;

fn spec(clients: usize) -> WorkloadSpec {
    WorkloadSpec {
        clients,
        keys: 4,
        request_timeout: Dur(100 * MS),
        op_timeout: Dur(300 * MS),
        retry_backoff: Dur(10 * MS),
        ..WorkloadSpec::default()
    }
}

fn sends(out: &[ClientAction]) -> Vec<(NodeId, u64, u64)> {
    out.iter()
        .filter_map(|a| match a {
            ClientAction::Send { node, cmd } => Some((*node, cmd.client, cmd.seq)),
            _ => None,
        })
        .collect()
}

fn timers(out: &[ClientAction]) -> Vec<(Nanos, TimerToken)> {
    out.iter()
        .filter_map(|a| match a {
            ClientAction::Timer { at, token } => Some((*at, *token)),
            _ => None,
        })
        .collect()
}

fn ok_reply(node: u32, seq: u64, w: &Workload) -> ClientReply {
    // Answer whatever the client asked with a plausible result.
    let result = match w.clients[0].op.as_ref().map(|o| &o.call) {
        Some(Call::Read) => KvResult::Read(None),
        Some(Call::Write(_)) => KvResult::Written,
        _ => KvResult::Cas { applied: true },
    };
    ClientReply {
        node: NodeId(node),
        seq,
        result: Ok(result),
    }
}

/// Starts one closed-loop client and fires its start timer; returns the workload and the
/// actions of the first send.
fn started() -> (Workload, Vec<ClientAction>) {
    let mut w = Workload::new(&spec(1), 3, 1);
    let mut out = Vec::new();
    w.start(0, &mut out);
    let (at, token) = timers(&out)[0];
    out.clear();
    w.on_timer(at, token, &mut out);
    (w, out)
}

#[test]
fn a_closed_loop_client_starts_the_next_operation_when_one_ends() {
    let (mut w, out) = started();
    assert_eq!(sends(&out), vec![(NodeId(0), 0, 1)]);
    let mut out = Vec::new();
    let reply = ok_reply(0, 1, &w);
    w.on_reply(5 * MS, 0, &reply, &mut out);
    assert_eq!(sends(&out), vec![(NodeId(0), 0, 2)]);
    assert_eq!(w.ops.len(), 1);
    assert_eq!(w.history.len(), 3, "invoke, ok, invoke");
}

#[test]
fn a_not_leader_hint_redirects_the_same_request() {
    let (mut w, _) = started();
    let mut out = Vec::new();
    let redirect = ClientReply {
        node: NodeId(0),
        seq: 1,
        result: Err(NotLeader {
            hint: Some(NodeId(2)),
        }),
    };
    w.on_reply(MS, 0, &redirect, &mut out);
    assert_eq!(sends(&out), vec![(NodeId(2), 0, 1)]);
}

#[test]
fn no_known_leader_means_backing_off_then_trying_the_next_node() {
    let (mut w, _) = started();
    let mut out = Vec::new();
    let redirect = ClientReply {
        node: NodeId(0),
        seq: 1,
        result: Err(NotLeader { hint: None }),
    };
    w.on_reply(MS, 0, &redirect, &mut out);
    assert!(sends(&out).is_empty());
    let (at, token) = timers(&out)[0];
    assert_eq!(at, 11 * MS);
    out.clear();
    w.on_timer(at, token, &mut out);
    assert_eq!(sends(&out), vec![(NodeId(1), 0, 1)]);
}

#[test]
fn a_timed_out_request_is_resent_with_the_same_seq_to_the_next_node() {
    let (mut w, out) = started();
    let (at, token) = timers(&out)[0];
    let mut out = Vec::new();
    w.on_timer(at, token, &mut out);
    assert_eq!(sends(&out), vec![(NodeId(1), 0, 1)]);
}

#[test]
fn an_operation_past_its_deadline_is_recorded_as_info_under_a_new_process() {
    let (mut w, mut out) = started();
    let mut sent = 1;
    for _ in 0..10 {
        let Some(&(at, token)) = timers(&out).last() else {
            break;
        };
        out.clear();
        w.on_timer(at, token, &mut out);
        sent += sends(&out).len();
        if w.ops.len() == 1 {
            break;
        }
    }
    assert_eq!(w.ops[0].status, OpStatus::Info);
    assert_eq!(sent, 4, "3 sends in 300 ms, then the next operation");
    let last = w.history.last().expect("events");
    assert_eq!((last.process, last.kind), (1, crate::history::EventType::Invoke));
}

#[test]
fn a_reply_to_an_earlier_operation_is_ignored() {
    let (mut w, _) = started();
    let mut out = Vec::new();
    let reply = ok_reply(0, 1, &w);
    w.on_reply(MS, 0, &reply, &mut out);
    out.clear();
    w.on_reply(2 * MS, 0, &reply, &mut out);
    assert!(out.is_empty());
    assert_eq!(w.ops.len(), 1);
}

#[test]
fn open_loop_latency_counts_time_spent_waiting_for_a_client() {
    let mut s = spec(1);
    s.mode = LoopMode::Open;
    s.rate = Some(1000.0);
    let mut w = Workload::new(&s, 3, 1);
    let mut out = Vec::new();
    w.start(0, &mut out);
    // Two arrivals; the single client is busy with the first when the second comes.
    let (t1, tok) = timers(&out)[0];
    out.clear();
    w.on_timer(t1, tok, &mut out);
    let (t2, _) = timers(&out)
        .into_iter()
        .find(|&(_, k)| k == TimerToken::Arrival)
        .expect("next arrival");
    out.clear();
    w.on_timer(t2, TimerToken::Arrival, &mut out);
    assert!(sends(&out).is_empty(), "no idle client for the second arrival");
    let done = t2 + 50 * MS;
    let reply = ok_reply(0, 1, &w);
    w.on_reply(done, 0, &reply, &mut out);
    let reply = ok_reply(0, 2, &w);
    w.on_reply(done + MS, 0, &reply, &mut out);
    assert_eq!(w.ops[1].intended_ns, t2);
    assert_eq!(w.ops[1].latency_ns(), done + MS - t2);
}

#[test]
fn both_protocols_would_see_the_same_operations_from_each_client() {
    let run = || {
        let (w, _) = started();
        format!("{:?}", w.history)
    };
    assert_eq!(run(), run());
}

#[test]
fn a_reply_of_the_wrong_kind_is_ignored_and_the_operation_stays_open() {
    let (mut w, out) = started();
    let (node, _, seq) = sends(&out)[0];
    let wrong = match w.clients[0].op.as_ref().map(|o| &o.call) {
        Some(Call::Read) => KvResult::Written,
        _ => KvResult::Read(Some("x".into())),
    };
    let reply = ClientReply {
        node,
        seq,
        result: Ok(wrong),
    };
    let mut out = Vec::new();
    w.on_reply(1, 0, &reply, &mut out);
    w.on_reply(1, 99, &reply, &mut out);
    assert_eq!(
        (w.unanswerable_replies, w.history.len(), w.clients[0].op.is_some()),
        (2, 1, true)
    );
}
