package config

import (
	"errors"
	"strings"
	"testing"
)

// TestFeatureGatesErrors pins the errors etcd 3.6.16 gives for bad
// --feature-gates values: on the command line a flag syntax error (exit
// 2), in the environment a plain one.
func TestFeatureGatesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bogus=true", "unrecognized feature gate: Bogus"},
		{"InitialCorruptCheck=maybe", `invalid value of InitialCorruptCheck=maybe, err: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{"InitialCorruptCheck", "missing bool value for InitialCorruptCheck"},
		{"InitialCorruptCheck=true,Bogus=false", "unrecognized feature gate: Bogus"},
		{"initialcorruptcheck=true", "unrecognized feature gate: initialcorruptcheck"},
		{"a=b=c", `invalid value of a=b=c, err: strconv.ParseBool: parsing "b=c": invalid syntax`},
		{"=true", "unrecognized feature gate: "},
		{"AllAlpha=maybe", `invalid value of AllAlpha=maybe, err: strconv.ParseBool: parsing "maybe": invalid syntax`},
		// Values are checked before names.
		{" InitialCorruptCheck = true , Bogus=x", `invalid value of Bogus=x, err: strconv.ParseBool: parsing "x": invalid syntax`},
		{" InitialCorruptCheck = tru", `invalid value of InitialCorruptCheck=tru, err: strconv.ParseBool: parsing "tru": invalid syntax`},
		{"InitialCorruptCheck=true, ", "missing bool value for "},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Load([]string{"--feature-gates=" + tt.in}, nil)
			want := "invalid value " + quote(tt.in) + " for flag -feature-gates: " + tt.want
			if err == nil || err.Error() != want {
				t.Errorf("command line: error = %v\nwant %s", err, want)
			}
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Errorf("command line: not a usage error (etcd exits 2)")
			}

			_, err = Load(nil, []string{"ETCD_FEATURE_GATES=" + tt.in})
			want = "invalid value " + quote(tt.in) + " for ETCD_FEATURE_GATES: " + tt.want
			if err == nil || err.Error() != want || errors.As(err, &ue) {
				t.Errorf("environment: error = %v\nwant %s (exit 1)", err, want)
			}
		})
	}

	p := writeFile(t, "name: m1\nfeature-gates: Bogus=true\n")
	_, err := Load([]string{"--config-file", p}, nil)
	if want := p + `: line 2: invalid value "Bogus=true" for feature-gates: unrecognized feature gate: Bogus`; err == nil || err.Error() != want {
		t.Errorf("config file: error = %v\nwant %s", err, want)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestFeatureGatesParse(t *testing.T) {
	tests := []struct {
		args []string
		env  []string
		file string
		want string // canonical --feature-gates
	}{
		{want: ""},
		{args: []string{"--feature-gates="}, want: ""},
		{args: []string{"--feature-gates=,InitialCorruptCheck=true,"}, want: "InitialCorruptCheck=true"},
		{args: []string{"--feature-gates= InitialCorruptCheck = TRUE ,LeaseCheckpoint=1"}, want: "InitialCorruptCheck=true,LeaseCheckpoint=true"},
		// Repeated, the flag adds up; a later value for a gate wins.
		{args: []string{"--feature-gates=InitialCorruptCheck=true", "--feature-gates=CompactHashCheck=true,InitialCorruptCheck=false"},
			want: "CompactHashCheck=true,InitialCorruptCheck=false"},
		{args: []string{"--feature-gates=SetMemberLocalAddr=true,SetMemberLocalAddr=false"}, want: "SetMemberLocalAddr=false"},
		{env: []string{"ETCD_FEATURE_GATES=StopGRPCServiceOnDefrag=true"}, want: "StopGRPCServiceOnDefrag=true"},
		{file: "feature-gates: InitialCorruptCheck=true,CompactHashCheck=true\n", want: "CompactHashCheck=true,InitialCorruptCheck=true"},
		{file: "feature-gates: [InitialCorruptCheck=true, AllBeta=false]\n", want: "AllBeta=false,InitialCorruptCheck=true"},
	}
	for _, tt := range tests {
		args := tt.args
		if tt.file != "" {
			args = []string{"--config-file", writeFile(t, tt.file)}
		}
		c := mustLoad(t, args, tt.env)
		if got := lookupFlag("feature-gates").bind(c).String(); got != tt.want {
			t.Errorf("%q %q %q: --feature-gates = %q, want %q", tt.args, tt.env, tt.file, got, tt.want)
		}
	}
}

func TestFeature(t *testing.T) {
	tests := []struct {
		gates string
		name  string
		want  bool
	}{
		{"", FeatureTxnModeWriteWithSharedBuffer, true},
		{"", FeatureInitialCorruptCheck, false},
		{"", FeatureAllAlpha, false},
		{"", "Bogus", false},
		{"AllAlpha=true", FeatureSetMemberLocalAddr, true},
		{"AllAlpha=true", FeatureAllAlpha, true},
		{"AllAlpha=true", FeatureTxnModeWriteWithSharedBuffer, true},
		{"AllAlpha=true,SetMemberLocalAddr=false", FeatureSetMemberLocalAddr, false},
		{"AllBeta=false", FeatureTxnModeWriteWithSharedBuffer, false},
		{"AllBeta=true", FeatureStopGRPCServiceOnDefrag, false},
		{"AllBeta=false,TxnModeWriteWithSharedBuffer=true", FeatureTxnModeWriteWithSharedBuffer, true},
		{"StopGRPCServiceOnDefrag=true", FeatureStopGRPCServiceOnDefrag, true},
	}
	for _, tt := range tests {
		c := mustLoad(t, []string{"--feature-gates=" + tt.gates}, nil)
		if got := c.Feature(tt.name); got != tt.want {
			t.Errorf("--feature-gates=%s: Feature(%s) = %v, want %v", tt.gates, tt.name, got, tt.want)
		}
	}
}
