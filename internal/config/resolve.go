package config

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Once the sources are read, Load resolves the flags etcd 3.6 deprecated
// into their successors and notes what has no effect, in that order:
//
//   - A deprecated flag (replacedBy) given alone sets its successor, with a
//     warning; given together with its successor it is an error, worded as
//     etcd words it, even when the two values agree.
//   - An --experimental-* flag replaced by a feature gate (gate), given
//     alone, sets the gate. Given with the same gate in --feature-gates, it
//     is an error in etcd 3.6 whatever the values; Cairn refuses it only
//     when the values differ, so that command lines passing both with one
//     meaning (older kubeadm flags with --feature-gates added on top, see
//     TestKubeadmCommandLine) keep working.
//   - --experimental-warning-unary-request-duration follows etcd's own
//     rule: refused when both it and --warning-unary-request-duration are
//     non-zero; used when only it is; and 0 means the 300ms default.
//   - --raft-read-timeout and --raft-write-timeout under 5s are raised to
//     5s, and --v2-deprecation is reset to its default, each with etcd's
//     message.
//   - Every given flag with a deprecation text draws that warning, the v2
//     leftovers a warning that they are ignored, and every flag Cairn
//     accepts without acting on it (noEffect) a warning when it is not at
//     its default.
//
// "Given" means set by the command line, the environment or the config
// file, whatever the value.

// minRaftTimeout is the floor etcd puts under --raft-read-timeout and
// --raft-write-timeout.
const minRaftTimeout = 5 * time.Second

// defaultWarningUnaryRequestDuration is what a zero
// --warning-unary-request-duration means.
const defaultWarningUnaryRequestDuration = 300 * time.Millisecond

// resolve applies the rules above to a loaded configuration, adding
// warnings, and returns every conflict found.
func (c *Config) resolve() []error {
	var errs []error
	for _, f := range flagTable {
		if !c.given[f.name] {
			continue
		}
		switch {
		case f.name == "experimental-warning-unary-request-duration":
			// Below.
		case f.replacedBy != "":
			if c.given[f.replacedBy] {
				errs = append(errs, fmt.Errorf("cannot set --%s and --%s at the same time, please use --%s only",
					f.name, f.replacedBy, f.replacedBy))
				continue
			}
			if err := lookupFlag(f.replacedBy).bind(c).set(f.bind(c).String()); err != nil {
				panic("config: --" + f.name + " does not fit --" + f.replacedBy + ": " + err.Error())
			}
		case f.gate != "":
			on := *f.bind(c).(*boolValue).p
			if gate, ok := c.FeatureGates[f.gate]; ok && gate != on {
				errs = append(errs, fmt.Errorf("cannot specify both flags: --%s=%t and --feature-gates=%s=%t at the same time, please just use --feature-gates=%s=%t",
					f.name, on, f.gate, gate, f.gate, gate))
				continue
			}
			if c.FeatureGates == nil {
				c.FeatureGates = make(map[string]bool)
			}
			c.FeatureGates[f.gate] = on
		}
		if f.deprecation != "" {
			c.warn(f.deprecation)
		}
		if f.ignored {
			c.warn("ignored etcd v2 flag", slog.String("flag", f.name))
		}
	}
	if err := c.resolveWarningUnaryRequestDuration(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errs
	}

	for _, t := range []struct {
		name string
		d    *time.Duration
	}{{"raft-read-timeout", &c.RaftReadTimeout}, {"raft-write-timeout", &c.RaftWriteTimeout}} {
		if *t.d < minRaftTimeout {
			*t.d = minRaftTimeout
			c.warn(fmt.Sprintf("%s increased to minimum value: %v", t.name, minRaftTimeout))
		}
	}
	// etcd 3.6 takes --v2-deprecation and then enforces its default.
	c.V2Deprecation = lookupFlag("v2-deprecation").def

	if c.Feature(FeatureLeaseCheckpoint) && !c.Feature(FeatureLeaseCheckpointPersist) {
		c.warn("Detected that checkpointing is enabled without persistence. Consider enabling feature gate LeaseCheckpointPersist")
	}
	c.warnNoEffect()
	return nil
}

// resolveWarningUnaryRequestDuration applies etcd's rule for the one pair
// it resolves by value rather than by presence.
func (c *Config) resolveWarningUnaryRequestDuration() error {
	exp := c.ExperimentalWarningUnaryRequestDuration
	if !c.given["experimental-warning-unary-request-duration"] {
		exp = 0
	}
	cur := c.WarningUnaryRequestDuration
	switch {
	case exp != 0 && cur != 0 && c.given["warning-unary-request-duration"]:
		return fmt.Errorf("both --experimental-warning-unary-request-duration and --warning-unary-request-duration flags are set. " +
			"Use only --warning-unary-request-duration")
	case exp != 0 && (cur == 0 || !c.given["warning-unary-request-duration"]):
		c.WarningUnaryRequestDuration = exp
		c.warn("--experimental-warning-unary-request-duration is deprecated, and will be decommissioned in v3.7. " +
			"Use --warning-unary-request-duration instead.")
	case cur == 0:
		c.WarningUnaryRequestDuration = defaultWarningUnaryRequestDuration
	}
	return nil
}

// flagDefaults holds every flag's default in canonical form (String of the
// parsed default), to tell which flags were changed.
var flagDefaults = sync.OnceValue(func() map[string]string {
	d := defaults()
	m := make(map[string]string, len(flagTable))
	for _, f := range flagTable {
		m[f.name] = f.bind(d).String()
	}
	return m
})

// noEffectWarning is the message of the warning for a flag Cairn accepts
// without acting on it.
func noEffectWarning(flag string) string { return "--" + flag + " has no effect in Cairn" }

// warnNoEffect warns about each flag that has no effect in Cairn and was
// changed from its default, and about the feature gates of the same kind.
func (c *Config) warnNoEffect() {
	for _, f := range flagTable {
		if f.noEffect == "" {
			continue
		}
		if v := f.bind(c).String(); v != flagDefaults()[f.name] {
			c.warn(noEffectWarning(f.name), slog.String("value", v), slog.String("reason", f.noEffect))
		}
	}
	for _, g := range []struct {
		name   string
		reason string
	}{
		{FeatureTxnModeWriteWithSharedBuffer, "Cairn's transactions read its Pebble engine directly; there is no read buffer to share"},
		{FeatureStopGRPCServiceOnDefrag, "Cairn's defragmentation (a Pebble compaction) serves requests all along"},
	} {
		f, _ := lookupFeature(g.name)
		if on := c.Feature(g.name); on != f.def {
			c.warn(noEffectWarning("feature-gates="+g.name), slog.Bool("value", on), slog.String("reason", g.reason))
		}
	}
}
