# Robustness: the fault-injection suite of tests/robustness at length (go test
# runs it short). ROBUSTNESS_DURATION is the workload time per scenario;
# ROBUSTNESS_SEED=<n> repeats a run's workload and fault choices.
ROBUSTNESS_DURATION ?= 60s
ROBUSTNESS_TIMEOUT ?= 60m

.PHONY: robustness

robustness:
	ROBUSTNESS_DURATION=$(ROBUSTNESS_DURATION) go test ./tests/robustness -run TestRobustness -count=1 -v -timeout $(ROBUSTNESS_TIMEOUT)
