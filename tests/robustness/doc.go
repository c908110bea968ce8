// Package robustness checks Cairn's guarantees under faults, with real
// server processes: a concurrent KV workload and a set of watchers run
// against a cluster while members are killed with SIGKILL, frozen with
// SIGSTOP and cut off from their peers; afterwards the recorded history is
// checked.
//
// The checks are:
//
//   - linearizability of every put, get, delete and compare-and-set, with
//     etcd's revision rules (a write's response revision, every key's
//     mod_revision, create_revision and version), by porcupine; a write that
//     failed may or may not have taken effect and is checked as such;
//   - watch guarantees: every watcher receives exactly the events of its
//     key range, in revision order, with no gap and no duplicate, and a
//     progress notification promises only what was delivered;
//   - convergence: once the faults heal, every member holds the same event
//     log and the same keys at the final revision, and every acknowledged
//     write is in it.
//
// The harness lives in the package's test files: the process launcher
// (cluster_test.go), the peer network proxy that injects partitions, drops
// and delays between members (proxy_test.go), the workload and its history
// (workload_test.go), the porcupine model of etcd's KV semantics
// (model_test.go), the watch checker (watch_test.go) and the scenarios
// (robustness_test.go).
//
// `go test` runs every scenario for a few seconds (under -short only the
// single-member kill scenario); `make robustness` runs them for a minute
// each. The environment tunes a run: ROBUSTNESS_DURATION (workload time
// per scenario), ROBUSTNESS_SEED (repeat a run's choices),
// ROBUSTNESS_ETCD_BIN (test a prebuilt server binary, such as etcd itself
// to check the harness), ROBUSTNESS_DIRECT_PEERS=1 (bypass the peer
// proxies, to tell a proxy problem from a server problem),
// ROBUSTNESS_KNOWN_ISSUES=1 (also run the scenarios that trip over a known
// server bug, each marked in the scenario table). Multi-member
// scenarios skip, with the reason, when a 3-member cluster cannot be
// started. On failure the test names a directory with every member's log
// and, for a linearizability violation, an HTML file with porcupine's
// view of the history.
package robustness
