package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestReferenceParity runs each bad configuration of errorCases through a
// real etcd binary, named by $CAIRN_REFERENCE_ETCD (skipped when unset), and
// checks that etcd fails the same way: the same exit status and, unless the
// case notes a difference, the same message. etcd prints flag-syntax errors
// as a plain line (followed by its usage text) and later errors as a JSON
// log record with an "error" field; both are read.
func TestReferenceParity(t *testing.T) {
	ref := os.Getenv("CAIRN_REFERENCE_ETCD")
	if ref == "" {
		t.Skip("set CAIRN_REFERENCE_ETCD to an etcd v3.6 binary to compare")
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ref == "skip" {
				t.Skip("known difference, see the case")
			}
			args, env, r := expand(t, tc)
			res := runBinary(t, ref, t.TempDir(), args, env, 20*time.Second)
			if res.code == -1 {
				t.Fatalf("etcd kept running; stderr:\n%s", res.stderr)
			}
			if res.code != tc.wantCode {
				t.Errorf("etcd exit %d, Cairn %d", res.code, tc.wantCode)
			}
			got := referenceMessage(res.stderr)
			want := r.Replace(tc.want)
			switch {
			case tc.ref == "code":
				t.Logf("etcd says %q; Cairn %q", got, want)
			case strings.HasPrefix(tc.ref, "prefix:"):
				if p := r.Replace(strings.TrimPrefix(tc.ref, "prefix:")); !strings.HasPrefix(got, p) {
					t.Errorf("etcd says %q, want prefix %q", got, p)
				}
			default:
				if got != want {
					t.Errorf("etcd says %q, Cairn %q", got, want)
				}
			}
		})
	}
}

// referenceMessage extracts etcd's error from its stderr: the first plain
// line, or the "error" (else "msg") of the first JSON record at warn level
// or above that reports a failure.
func referenceMessage(stderr string) string {
	for line := range strings.SplitSeq(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			return line
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch rec["level"] {
		case "warn", "error", "fatal", "panic":
		default:
			continue
		}
		if e, ok := rec["error"].(string); ok {
			return e
		}
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "conflicting") {
			return msg
		}
	}
	return ""
}

// TestReferenceVersion checks that --version prints etcd's lines, in etcd's
// order, before Cairn's own.
func TestReferenceVersion(t *testing.T) {
	ref := os.Getenv("CAIRN_REFERENCE_ETCD")
	if ref == "" {
		t.Skip("set CAIRN_REFERENCE_ETCD to an etcd v3.6 binary to compare")
	}
	theirs := runBinary(t, ref, t.TempDir(), []string{"--version"}, nil, 20*time.Second)
	ours := runBinary(t, binary(t), t.TempDir(), []string{"--version"}, nil, time.Minute)
	keys := func(out string) []string {
		var ks []string
		for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			k, _, _ := strings.Cut(line, ": ")
			ks = append(ks, k)
		}
		return ks
	}
	if theirs.code != 0 || ours.code != 0 {
		t.Fatalf("exit: etcd %d, Cairn %d", theirs.code, ours.code)
	}
	got, want := keys(ours.stdout), append(keys(theirs.stdout), "Cairn Version")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Cairn prints %q, want etcd's %q", got, want)
	}
	first := func(out string) string { l, _, _ := strings.Cut(out, "\n"); return l }
	if first(ours.stdout) != first(theirs.stdout) {
		t.Logf("first lines differ (versions may): %q vs %q", first(ours.stdout), first(theirs.stdout))
	}
}
