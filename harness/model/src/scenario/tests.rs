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

// ---------------------------------------------------------------------------------------------
// Every field an action needs, every range: errors at parse time, naming field and line.

/// The example with one more fault appended.
fn with_fault(fault: &str) -> String {
    format!("{EXAMPLE}\n[[faults]]\nat = \"8s\"\n{fault}\n")
}

#[test]
fn a_bridge_without_target_is_a_parse_error_naming_the_field_and_line() {
    let text = with_fault("action = \"bridge\"");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.field, "faults[3].target");
    assert!(
        err.message.contains("is required for action \"bridge\"") && err.message.contains("(line "),
        "{err}"
    );
}

#[test]
fn a_validation_error_names_the_line_of_the_field() {
    let err = parse(&EXAMPLE.replace("clients = 8", "clients = 0")).unwrap_err();
    assert_eq!(err.field, "workload.clients");
    let line = EXAMPLE.lines().position(|l| l == "clients = 8").unwrap() + 1;
    assert!(
        err.message.ends_with(&format!("(line {line}: `clients = 0`)")),
        "{err}"
    );
}

#[test]
fn every_fault_field_an_action_needs_is_required() {
    let cases = [
        ("action = \"partial\"", "faults[3].target"),
        ("action = \"crash\"", "faults[3].target"),
        ("action = \"one_way\"", "faults[3].target"),
        ("action = \"partition\"", "faults[3]"),
        ("action = \"loss\"", "faults[3].probability"),
        ("action = \"duplicate\"", "faults[3].probability"),
        ("action = \"delay\"", "faults[3].extra"),
        ("action = \"clock_skew\"\ntarget = 1", "faults[3].rate"),
    ];
    for (fault, field) in cases {
        assert_eq!(parse(&with_fault(fault)).unwrap_err().field, field, "{fault}");
    }
}

#[test]
fn fault_values_out_of_range_are_rejected() {
    let cases = [
        ("action = \"crash\"\ntarget = []", "faults[3].target"),
        ("action = \"crash\"\ntarget = [1, 5]", "faults[3].target"),
        ("action = \"partition\"\ngroups = []", "faults[3].groups"),
        (
            "action = \"partition\"\ngroups = [[0], []]",
            "faults[3].groups[1]",
        ),
        ("action = \"loss\"\nprobability = 1.5", "faults[3].probability"),
        ("action = \"loss\"\nprobability = -0.1", "faults[3].probability"),
        (
            "action = \"clock_skew\"\ntarget = 1\nrate = 0.0",
            "faults[3].rate",
        ),
        (
            "action = \"clock_skew\"\ntarget = 1\nrate = 1e9",
            "faults[3].rate",
        ),
        (
            "action = \"clock_skew\"\ntarget = 1\nrate = nan",
            "faults[3].rate",
        ),
        ("action = \"delay\"\nextra = \"99999m\"", "faults[3].extra"),
    ];
    for (fault, field) in cases {
        let err = parse(&with_fault(fault)).unwrap_err();
        assert_eq!(err.field, field, "{fault}: {err}");
    }
}

#[test]
fn ranges_of_the_models_workload_and_protocol_are_checked() {
    let cases = [
        ("duration = \"10s\"", "duration = \"100000m\"", "duration"),
        ("seed = 7", "seed = 7\nsettle = \"100000m\"", "settle"),
        ("nodes = 5", "nodes = 0", "cluster.nodes"),
        ("nodes = 5", "nodes = \"five\"", "cluster.nodes"),
        ("duration = \"10s\"", "duration = \"10\"", "duration"),
        ("nodes = 5", "nodes = 16", "cluster.nodes"),
        ("loss = 0.01", "loss = 2", "network.loss"),
        (
            "loss = 0.01",
            "loss = 0.01\nclient_latency = \"0\"",
            "network.client_latency",
        ),
        (
            "fsync = \"1ms\"",
            "fsync = { dist = \"lognormal\", median = \"1ms\", sigma = 50 }",
            "disk.fsync",
        ),
        ("keys = 20", "keys = 0", "workload.keys"),
        ("clients = 8", "clients = 100000000", "workload.clients"),
        (
            "clients = 8",
            "clients = 8\nretry_backoff = \"0\"",
            "workload.retry_backoff",
        ),
        (
            "clients = 8",
            "clients = 8\nmode = \"open\"\nrate = 1e12",
            "workload.rate",
        ),
        (
            "clients = 8",
            "clients = 8\nmode = \"open\"\nrate = 0",
            "workload.rate",
        ),
        (
            "read = 0.2, write = 0.8, cas = 0",
            "read = 0, write = 0, cas = 0",
            "workload.mix",
        ),
        (
            "max_batch_entries = 32",
            "max_batch_entries = 0",
            "protocol.max_batch_entries",
        ),
        (
            "max_batch_entries = 32",
            "max_inflight_msgs = 1000000000",
            "protocol.max_inflight_msgs",
        ),
        (
            "heartbeat_interval = \"50ms\"",
            "heartbeat_interval = \"500ms\"",
            "protocol.heartbeat_interval",
        ),
        ("protocols", "protocols", "protocols"),
    ];
    for (from, to, field) in cases {
        let text = if from == "protocols" {
            EXAMPLE.replace("seed = 7", "seed = 7\nprotocols = []")
        } else {
            assert!(EXAMPLE.contains(from), "{from}");
            EXAMPLE.replacen(from, to, 1)
        };
        let err = parse(&text).unwrap_err();
        assert_eq!(err.field, field, "{to}: {err}");
    }
}

#[test]
fn a_nemesis_that_would_draw_millions_of_faults_is_rejected() {
    let text = "name = \"x\"\nduration = \"60m\"\n[faults]\nrandom = { mean_interval = \"1ms\", kinds = [\"crash\"] }\n";
    assert_eq!(parse(text).unwrap_err().field, "faults.random.mean_interval");
}

#[test]
fn a_request_timeout_of_a_nanosecond_is_refused_naming_the_field_and_line() {
    let text = "name = \"t\"\nduration = \"1s\"\n[workload]\nclients = 4\nrequest_timeout = \"0.000001ms\"\n";
    let e = Scenario::parse(text, "t.toml").unwrap_err().to_string();
    assert!(
        e.starts_with("t.toml: workload.request_timeout: 1ns is too short: at least 1ms")
            && e.contains("line 5"),
        "{e}"
    );
}
