package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The feature gates etcd 3.6 defines, for --feature-gates and Feature.
const (
	// FeatureAllAlpha and FeatureAllBeta set every alpha (beta) gate that
	// is not named itself.
	FeatureAllAlpha = "AllAlpha"
	FeatureAllBeta  = "AllBeta"

	// FeatureCompactHashCheck makes the leader compare the followers'
	// hashes at each compaction (--experimental-compact-hash-check-enabled).
	FeatureCompactHashCheck = "CompactHashCheck"
	// FeatureInitialCorruptCheck checks the data against the other members
	// before serving (--experimental-initial-corrupt-check).
	FeatureInitialCorruptCheck = "InitialCorruptCheck"
	// FeatureLeaseCheckpoint makes the leader replicate the remaining TTL
	// of leases (--experimental-enable-lease-checkpoint).
	FeatureLeaseCheckpoint = "LeaseCheckpoint"
	// FeatureLeaseCheckpointPersist also persists those checkpoints
	// (--experimental-enable-lease-checkpoint-persist).
	FeatureLeaseCheckpointPersist = "LeaseCheckpointPersist"
	// FeatureSetMemberLocalAddr dials peers from the first non-loopback IP
	// address of --initial-advertise-peer-urls.
	FeatureSetMemberLocalAddr = "SetMemberLocalAddr"
	// FeatureStopGRPCServiceOnDefrag reports the gRPC health service as
	// not serving during a defragmentation
	// (--experimental-stop-grpc-service-on-defrag).
	FeatureStopGRPCServiceOnDefrag = "StopGRPCServiceOnDefrag"
	// FeatureTxnModeWriteWithSharedBuffer lets write transactions read
	// through the shared read buffer
	// (--experimental-txn-mode-write-with-shared-buffer).
	FeatureTxnModeWriteWithSharedBuffer = "TxnModeWriteWithSharedBuffer"
)

// featureSpec is one gate: its maturity, which AllAlpha and AllBeta go by,
// and its default.
type featureSpec struct {
	name  string
	stage string // "ALPHA" or "BETA"
	def   bool
}

// featureTable lists etcd 3.6's gates in the order --help shows them.
var featureTable = []featureSpec{
	{FeatureAllAlpha, "ALPHA", false},
	{FeatureAllBeta, "BETA", false},
	{FeatureCompactHashCheck, "ALPHA", false},
	{FeatureInitialCorruptCheck, "ALPHA", false},
	{FeatureLeaseCheckpoint, "ALPHA", false},
	{FeatureLeaseCheckpointPersist, "ALPHA", false},
	{FeatureSetMemberLocalAddr, "ALPHA", false},
	{FeatureStopGRPCServiceOnDefrag, "ALPHA", false},
	{FeatureTxnModeWriteWithSharedBuffer, "BETA", true},
}

func lookupFeature(name string) (featureSpec, bool) {
	i := slices.IndexFunc(featureTable, func(f featureSpec) bool { return f.name == name })
	if i < 0 {
		return featureSpec{}, false
	}
	return featureTable[i], true
}

// Feature reports whether the named feature gate is on: as --feature-gates
// (or the experimental flag it replaced) set it, else as AllAlpha or
// AllBeta set its stage, else its default. Unknown names are off.
func (c *Config) Feature(name string) bool {
	if on, ok := c.FeatureGates[name]; ok {
		return on
	}
	f, ok := lookupFeature(name)
	if !ok {
		return false
	}
	all := FeatureAllAlpha
	if f.stage == "BETA" {
		all = FeatureAllBeta
	}
	if on, ok := c.FeatureGates[all]; ok && name != all {
		return on
	}
	return f.def
}

// featureGatesValue is --feature-gates: comma-separated Name=bool pairs.
// Each occurrence adds to the gates already set, so that the flag may be
// repeated. Errors are etcd's (which are Kubernetes' feature gate errors).
type featureGatesValue struct{ p *map[string]bool }

func (v *featureGatesValue) set(s string) error {
	var names []string
	add := make(map[string]bool)
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return fmt.Errorf("missing bool value for %s", k)
		}
		val = strings.TrimSpace(val)
		on, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("invalid value of %s=%s, err: %v", k, val, err)
		}
		names = append(names, k)
		add[k] = on
	}
	// Unknown names are checked once the whole value parses, as etcd
	// checks them; the first one given is reported.
	for _, k := range names {
		if _, ok := lookupFeature(k); !ok {
			return fmt.Errorf("unrecognized feature gate: %s", k)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if *v.p == nil {
		*v.p = make(map[string]bool, len(add))
	}
	maps.Copy(*v.p, add)
	return nil
}

func (v *featureGatesValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }

// String gives the gates set, sorted by name: "A=true,B=false".
func (v *featureGatesValue) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(*v.p)) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%t", k, (*v.p)[k])
	}
	return b.String()
}

// featureUsage lists the gates for --help, one per line.
func featureUsage() []string {
	lines := make([]string, len(featureTable))
	for i, f := range featureTable {
		lines[i] = fmt.Sprintf("%s=true|false (%s - default=%t)", f.name, f.stage, f.def)
	}
	return lines
}
