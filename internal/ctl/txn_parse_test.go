package ctl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func TestParseCompare(t *testing.T) {
	tests := []struct {
		line   string
		target pb.Compare_CompareTarget
		result pb.Compare_CompareResult
		key    string
		value  any // int64 or string
	}{
		{`mod("k1") > "0"`, pb.Compare_MOD, pb.Compare_GREATER, "k1", int64(0)},
		{`m("k1") = "7"`, pb.Compare_MOD, pb.Compare_EQUAL, "k1", int64(7)},
		{`c("k") != "-1"`, pb.Compare_CREATE, pb.Compare_NOT_EQUAL, "k", int64(-1)},
		{`create("k") < "+5"`, pb.Compare_CREATE, pb.Compare_LESS, "k", int64(5)},
		{`ver("k") = "2"`, pb.Compare_VERSION, pb.Compare_EQUAL, "k", int64(2)},
		{`version("k") = "2"`, pb.Compare_VERSION, pb.Compare_EQUAL, "k", int64(2)},
		{`val("k") = "v"`, pb.Compare_VALUE, pb.Compare_EQUAL, "k", "v"},
		{`value("k\x01") = "a\"b"`, pb.Compare_VALUE, pb.Compare_EQUAL, "k\x01", `a"b`},
		{"val(`k`) = `raw\\n`", pb.Compare_VALUE, pb.Compare_EQUAL, "k", `raw\n`},
		{`lease("k") = "694d77aa9e38260f"`, pb.Compare_LEASE, pb.Compare_EQUAL, "k", int64(0x694d77aa9e38260f)},
		{`lease("k") > "abc"`, pb.Compare_LEASE, pb.Compare_GREATER, "k", int64(0xabc)},
		{"mod(\"k\")\t>\t\"1\"", pb.Compare_MOD, pb.Compare_GREATER, "k", int64(1)},
		{`mod( "k") > "1" and more`, pb.Compare_MOD, pb.Compare_GREATER, "k", int64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			cmp, err := parseCompare(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			c := cmp.GetCompare()
			if c.Target != tt.target || c.Result != tt.result || string(c.Key) != tt.key {
				t.Errorf("got target %v result %v key %q", c.Target, c.Result, c.Key)
			}
			var got any
			switch u := c.TargetUnion.(type) {
			case *pb.Compare_ModRevision:
				got = u.ModRevision
			case *pb.Compare_CreateRevision:
				got = u.CreateRevision
			case *pb.Compare_Version:
				got = u.Version
			case *pb.Compare_Value:
				got = string(u.Value)
			case *pb.Compare_Lease:
				got = u.Lease
			}
			if got != tt.value {
				t.Errorf("value: got %#v, want %#v", got, tt.value)
			}
		})
	}
}

// The messages are etcdctl 3.6's, exit code 3 (invalid input).
func TestParseCompareErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{`put k1 "x`, `malformed comparison: put k1 "x`},
		{`)`, `malformed comparison: )`},
		{`"k1"`, `malformed comparison: "k1"`},
		{`(`, `malformed comparison: (; got ("")  ""`},
		{`mod(`, `malformed comparison: mod(; got mod("")  ""`},
		{`mod(k1) > "0"`, `malformed comparison: mod(k1) > "0"; got mod("")  ""`},
		{`mod("k1"`, `malformed comparison: mod("k1"; got mod("k1")  ""`},
		{`mod("k1")`, `malformed comparison: mod("k1"); got mod("k1")  ""`},
		{`mod("k1") >`, `malformed comparison: mod("k1") >; got mod("k1") > ""`},
		{`mod("k1")>"0"`, `malformed comparison: mod("k1")>"0"; got mod("k1")  ""`},
		{`mod("k1")> "0"`, `malformed comparison: mod("k1")> "0"; got mod("k1")  ""`},
		{`mod("k1") >"0"`, `malformed comparison: mod("k1") >"0"; got mod("k1") >"0" ""`},
		{`mod("k1") > 0`, `malformed comparison: mod("k1") > 0; got mod("k1") > ""`},
		{`mod("k1") > "0`, `malformed comparison: mod("k1") > "0; got mod("k1") > ""`},
		{`mod("k1", "k3") > "0"`, `malformed comparison: mod("k1", "k3") > "0"; got mod("k1")  ""`},
		{`mod("k1" ) > "0"`, `malformed comparison: mod("k1" ) > "0"; got mod("k1")  ""`},
		{`bogus("k1") = "0"`, `malformed comparison: bogus("k1") = "0" (unknown target bogus)`},
		{`MOD("k1") = "0"`, `malformed comparison: MOD("k1") = "0" (unknown target MOD)`},
		{`mo d("k1") > "0"`, `malformed comparison: mo d("k1") > "0" (unknown target mo d)`},
		{`("k1") > "0"`, `malformed comparison: ("k1") > "0" (unknown target )`},
		{`mod("k1") < "abc"`, `invalid txn compare request: mod("k1") < "abc"`},
		{`mod("k1") > "1a"`, `invalid txn compare request: mod("k1") > "1a"`},
		{`mod("k1") > " 5"`, `invalid txn compare request: mod("k1") > " 5"`},
		{`mod("k1") > "99999999999999999999"`, `invalid txn compare request: mod("k1") > "99999999999999999999"`},
		{`lease("lk") = "7587899274017767956"`, `invalid txn compare request: lease("lk") = "7587899274017767956"`},
		{`lease("lk") > "0x1"`, `invalid txn compare request: lease("lk") > "0x1"`},
		// etcdctl crashes on these; we report them.
		{`mod("k1") >= "0"`, `malformed comparison: mod("k1") >= "0" (unknown result op >=)`},
		{`mod("k1") == "0"`, `malformed comparison: mod("k1") == "0" (unknown result op ==)`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := parseCompare(tt.line)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if code := exitCode(err); code != ExitInvalidInput {
				t.Errorf("exit code %d, want %d", code, ExitInvalidInput)
			}
		})
	}
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

func TestSplitOpLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`put k v`, []string{"put", "k", "v"}},
		{"put\tk\tv", []string{"put", "k", "v"}},
		{`put x "a b" extra`, []string{"put", "x", "a b", "extra"}},
		{`put x 'a b'`, []string{"put", "x", "a b"}},
		{`put x a\ b`, []string{"put", "x", `a\`, "b"}},
		{`put x "a\nb"`, []string{"put", "x", "a\nb"}},
		{`put x "\x41\101\u00e9"`, []string{"put", "x", "AAé"}},
		{`put x 'a\nb'`, []string{"put", "x", `a\nb`}},
		{`put x a"b c"d`, []string{"put", "x", `a"b`, `c"d`}},
		{`put x "a\"b"`, []string{"put", "x", `a"b`}},
		{`put x 'it''s'`, []string{"put", "x", "it", "s"}},
		{`put x "a`, []string{"put", "x", "a"}},
		{`put x "a b`, []string{"put", "x", "a", "b"}},
		{`put x 'a`, []string{"put", "x", "a"}},
		{"put x `a b`", []string{"put", "x", "`a", "b`"}},
		{`put x "a"b`, []string{"put", "x", "a", "b"}},
		{`put x y"`, []string{"put", "x", `y"`}},
		{`put x ""`, []string{"put", "x", ""}},
		{`put x ''`, []string{"put", "x", ""}},
		{`put x """`, []string{"put", "x", ""}},
		{`put x "a\"`, []string{"put", "x", `a\"`}},
		{`put x 'a\'b'`, []string{"put", "x", `a\`, `b'`}},
		{`put x "'a'"`, []string{"put", "x", "'a'"}},
		{`put x '"a"'`, []string{"put", "x", `"a"`}},
		{`put x "\\" z`, []string{"put", "x", `\`, "z"}},
		{`"get" k`, []string{"get", "k"}},
		{"", nil},
		{"   ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := splitOpLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := splitOpLine(`put x "\q"`); err == nil || err.Error() != "invalid syntax" {
		t.Errorf(`bad escape: got %v, want "invalid syntax"`, err)
	}
}

func newTestTxnReader(input string) (*txnReader, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &txnReader{
		in:     bufio.NewReader(strings.NewReader(input)),
		stdout: &stdout,
		stderr: &stderr,
		sleep:  func(time.Duration) {},
	}, &stdout, &stderr
}

func TestTxnRead(t *testing.T) {
	tests := []struct {
		name                      string
		input                     string
		compares, success, failed int
	}{
		{"empty", "\n\n\n", 0, 0, 0},
		{"full", "mod(\"a\") > \"0\"\nval(\"b\") = \"x\"\n\nput a b\nget a\n\ndel a\n\n", 2, 2, 1},
		{"spaces are blank", "mod(\"a\") > \"0\"\n  \n\t\n\n", 1, 0, 0},
		{"crlf", "mod(\"a\") > \"0\"\r\n\r\nget a\r\n\r\n\r\n", 1, 1, 0},
		{"rest ignored", "\nput a b\n\n\nnot read", 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := newTestTxnReader(tt.input)
			spec, err := r.read()
			if err != nil {
				t.Fatal(err)
			}
			if len(spec.compares) != tt.compares || len(spec.success) != tt.success || len(spec.failure) != tt.failed {
				t.Errorf("got %d/%d/%d", len(spec.compares), len(spec.success), len(spec.failure))
			}
		})
	}
}

func TestTxnReadErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
		code              int
		stderr            string // prefix
	}{
		{"eof", `mod("a") > "0"`, "EOF", ExitInvalidInput, ""},
		{"eof after compares", "mod(\"a\") > \"0\"\n\n", "EOF", ExitInvalidInput, ""},
		{"unknown op", "\nbogus x\n\n\n", "invalid txn request: bogus x", ExitInvalidInput, ""},
		{"one word", "\n get \n\n\n", "invalid txn compare request: get", ExitInvalidInput, ""},
		{"bad flag", "\nget a --bogus\n\n\n", "invalid txn request: get a --bogus", ExitInvalidInput, "Usage:\n   get [options] <key> [range_end] [flags]\n\nFlags:\n"},
		{"bad escape", "\nput a \"\\q\"\n\n\n", "invalid syntax", ExitInvalidInput, ""},
		{"bad sort", "\nget a --sort-by=x\n\n\n", "bad sort target x", ExitBadFeature, ""},
		{"put without value", "\nput a\n\n\n", "put command needs 1 argument and input from stdin or 2 arguments", ExitBadArgs, ""},
		{"bad lease", "\nput a b --lease=zz\n\n\n", `bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex`, ExitBadArgs, ""},
		{"prefix and from-key", "\ndel a --prefix --from-key\n\n\n", "`--prefix` and `--from-key` cannot be set at the same time, choose one", ExitBadArgs, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, stderr := newTestTxnReader(tt.input)
			_, err := r.read()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if !strings.HasPrefix(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want prefix %q", stderr, tt.stderr)
			}
		})
	}
}

func TestTxnInteractivePrompts(t *testing.T) {
	r, stdout, _ := newTestTxnReader("mod(\"a\") > \"0\"\n\nput a b\n\n\n")
	r.interactive = true
	if _, err := r.read(); err != nil {
		t.Fatal(err)
	}
	want := "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n"
	if stdout.String() != want {
		t.Errorf("got %q, want %q", stdout, want)
	}
}

func TestTxnDelRangeWarns(t *testing.T) {
	r, _, stderr := newTestTxnReader("\ndel a b\n\n\n")
	var slept time.Duration
	r.sleep = func(d time.Duration) { slept += d }
	if _, err := r.read(); err != nil {
		t.Fatal(err)
	}
	if slept != 2*time.Second || !strings.HasPrefix(stderr.String(), `Warning: Keys between "a" and "b" will be deleted.`) {
		t.Errorf("slept %v, stderr %q", slept, stderr)
	}
}

// FuzzParseTxn feeds arbitrary input to the txn reader: it must not panic,
// and every failure must carry one of the exit codes a bad txn can have.
func FuzzParseTxn(f *testing.F) {
	for _, s := range []string{
		"\n\n\n",
		"mod(\"a\") > \"0\"\n\nput a b\nget a --prefix\n\ndel a --prev-kv\n\n",
		"val(`k`) = \"v\\x00\"\nlease(\"k\") = \"ff\"\n\nput 'a b' \"c\\td\"\n\n\n",
		"ver(\"a\") >= \"1\"\n\n\n\n",
		"\nget a b --sort-by=VALUE --order=descend --limit 3 --rev 2\n\n\n",
		"\nput a --ignore-value --lease=1\n\n\n",
		"(\n",
		"\n\"\\",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &txnReader{
			in:     bufio.NewReader(bytes.NewReader(data)),
			stdout: io.Discard,
			stderr: io.Discard,
			sleep:  func(time.Duration) {},
		}
		_, err := r.read()
		if err == nil {
			return
		}
		switch code := exitCode(err); code {
		case ExitInvalidInput, ExitBadFeature, ExitBadArgs:
		default:
			t.Fatalf("error %v has exit code %d", err, code)
		}
	})
}

// FuzzSplitOpLine checks that quoting words as Go strings and splitting the
// line gives the words back.
func FuzzSplitOpLine(f *testing.F) {
	f.Add("put", "a b", "c\"d")
	f.Add("get", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		words := []string{a, b, c}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, strconv.Quote(w))
		}
		line := strings.Join(quoted, " ")
		got, err := splitOpLine(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !slices.Equal(got, words) {
			t.Fatalf("%s: got %q, want %q", line, got, words)
		}
	})
}
