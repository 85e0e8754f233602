use super::*;

const EXAMPLE: &str = r#"
name = "leader-crash"
description = "The leader crashes and comes back."
seed = 7
duration = "10s"

[cluster]
nodes = 5

[network]
latency = { dist = "normal", mean = "500us", stddev = "50us" }
loss = 0.01

[disk]
fsync = "1ms"

[protocol]
heartbeat_interval = "50ms"
max_batch_entries = 32

[protocol.raft]
pre_vote = true

[workload]
clients = 8
keys = 20
distribution = "zipfian"
mix = { read = 0.2, write = 0.8, cas = 0 }

[[faults]]
at = "3s"
action = "crash"
target = "leader"

[[faults]]
at = "6s"
action = "restart"
target = "crashed"

[[faults]]
at = "7s"
action = "partition"
groups = [[0, 1], [2, 3, 4]]
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, "test.toml")
}

#[test]
fn the_documented_example_parses() {
    let s = parse(EXAMPLE).unwrap();
    assert_eq!(s.cluster.nodes, 5);
    assert_eq!(s.fault_schedule(7).len(), 3);
    assert!(s.protocol.pre_vote);
    assert_eq!(s.disk.fsync, Dist::constant(1_000_000));
}

#[test]
fn an_unknown_field_is_named_in_the_error() {
    let err = parse(&EXAMPLE.replace("keys = 20", "keyz = 20")).unwrap_err();
    assert_eq!(err.field, "workload.keyz");
    assert!(
        err.to_string()
            .starts_with("test.toml: workload.keyz: unknown field `keyz`"),
        "{err}"
    );
}

#[test]
fn a_duration_without_unit_says_what_was_expected() {
    let err = parse(&EXAMPLE.replace("duration = \"10s\"", "duration = \"10\"")).unwrap_err();
    assert!(err.message.contains("like \"150ms\""), "{err}");
    assert!(err.message.contains("line 5"), "{err}");
}

#[test]
fn a_fault_on_a_missing_node_is_rejected() {
    let err = parse(&EXAMPLE.replace("[[0, 1], [2, 3, 4]]", "[[0, 1], [2, 3, 9]]")).unwrap_err();
    assert_eq!(err.field, "faults[2].groups[1]");
}

#[test]
fn a_field_that_does_not_apply_to_the_action_is_rejected() {
    let text = EXAMPLE.replace("target = \"crashed\"", "target = \"crashed\"\nprobability = 0.5");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.field, "faults[1].probability");
    assert!(
        err.message.contains("does not apply to action \"restart\""),
        "{err}"
    );
}

#[test]
fn an_unknown_target_lists_the_choices() {
    let err = parse(&EXAMPLE.replace("target = \"leader\"", "target = \"boss\"")).unwrap_err();
    assert!(err.message.contains("\"minority_with_leader\""), "{err}");
}

#[test]
fn an_open_loop_workload_needs_a_rate() {
    let err = parse(&EXAMPLE.replace("clients = 8", "clients = 8\nmode = \"open\"")).unwrap_err();
    assert_eq!(err.field, "workload.rate");
}

#[test]
fn an_inverted_timeout_range_names_the_protocol_field() {
    let text = EXAMPLE.replace("heartbeat_interval = \"50ms\"", "election_timeout_max = \"10ms\"");
    assert_eq!(parse(&text).unwrap_err().field, "protocol.election_timeout_max");
}

#[test]
fn the_random_nemesis_is_a_function_of_the_seed() {
    let text = r#"
name = "soak"
duration = "60s"
[faults]
random = { mean_interval = "2s", kinds = ["crash", "partition", "loss", "clock_skew"] }
"#;
    let s = parse(text).unwrap();
    let a = s.fault_schedule(1);
    assert!(a.len() >= 10, "only {} faults in 60 s", a.len());
    assert_eq!(format!("{a:?}"), format!("{:?}", s.fault_schedule(1)));
    assert_ne!(format!("{a:?}"), format!("{:?}", s.fault_schedule(2)));
    assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn the_nemesis_refuses_repairs_as_faults() {
    let text = "name = \"x\"\nduration = \"1s\"\n[faults]\nrandom = { mean_interval = \"1s\", kinds = [\"heal\"] }\n";
    assert_eq!(parse(text).unwrap_err().field, "faults.random.kinds[0]");
}
