# Robustness: the fault-injection suite of tests/robustness at length (go test
# runs it short), including any scenario quarantined for a known server bug
# (scenario.knownIssue; none is at present).
# ROBUSTNESS_DURATION is the workload time per scenario; ROBUSTNESS_SEED=<n>
# repeats a run's workload and fault choices.
ROBUSTNESS_DURATION ?= 60s
ROBUSTNESS_TIMEOUT ?= 60m

.PHONY: robustness

robustness:
	ROBUSTNESS_DURATION=$(ROBUSTNESS_DURATION) ROBUSTNESS_KNOWN_ISSUES=1 go test ./tests/robustness -run TestRobustness -count=1 -v -timeout $(ROBUSTNESS_TIMEOUT)

# Benchmarks (see scripts/bench.sh --help). BENCH_FLAGS adds options, e.g.
#   make bench BENCH_FLAGS=--etcd
#   make bench-quick BENCH_FLAGS="--endpoints 127.0.0.1:2379"

.PHONY: bench bench-quick

bench:
	scripts/bench.sh $(BENCH_FLAGS)

bench-quick:
	scripts/bench.sh --quick $(BENCH_FLAGS)
