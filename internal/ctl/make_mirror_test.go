package ctl

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// mirrorRun is make-mirror running in the background.
type mirrorRun struct {
	stdout, stderr *syncBuffer
	interrupt      chan struct{}
	done           chan int // the exit code
}

func startMirror(t *testing.T, stdin string, args ...string) *mirrorRun {
	t.Helper()
	r := &mirrorRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, interrupt: make(chan struct{}), done: make(chan int, 1)}
	o := Options{
		Stdin: strings.NewReader(stdin), Stdout: r.stdout, Stderr: r.stderr, Environ: []string{},
		Interrupt: r.interrupt, mirrorReportInterval: 50 * time.Millisecond,
	}
	go func() { r.done <- Main(o, args) }()
	t.Cleanup(func() {
		select {
		case <-r.interrupt:
		default:
			close(r.interrupt)
		}
		<-r.done
	})
	return r
}

// stop interrupts the mirror and returns its exit code.
func (r *mirrorRun) stop(t *testing.T) int {
	t.Helper()
	close(r.interrupt)
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("make-mirror did not stop")
		return 0
	}
}

// wait returns the exit code of a mirror that ends by itself.
func (r *mirrorRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("make-mirror did not end")
		return 0
	}
}

// dump is every key under prefix with its value.
func dump(t *testing.T, cl *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := cl.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// waitContent polls until the keys under prefix are want.
func waitContent(t *testing.T, cl *clientv3.Client, prefix string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := dump(t, cl, prefix)
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("under %q: got %v, want %v", prefix, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLastLine polls until the last line of b is want.
func waitLastLine(t *testing.T, b *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if lines[len(lines)-1] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q does not end with %q", b.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustDo(t *testing.T, steps ...step) {
	t.Helper()
	for i, s := range steps {
		if err := s(context.Background(), nil); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func on(cl *clientv3.Client, s step) step {
	return func(ctx context.Context, _ *clientv3.Client) error { return s(ctx, cl) }
}

// TestMakeMirror copies a prefix to another prefix of a second server,
// follows puts, deletes and transactions, counts them, and ends with the
// interrupt as etcdctl dies of SIGINT.
func TestMakeMirror(t *testing.T) {
	srcEp, dstEp := startServer(t), startServer(t)
	src, dst := testClient(t, srcEp), testClient(t, dstEp)
	mustDo(t, on(src, put("/src/a", "1")), on(src, put("/src/b", "2")), on(src, put("/other", "x")))

	m := startMirror(t, "", "--endpoints="+srcEp, "make-mirror", "--prefix=/src/", "--dest-prefix=/dst/", "--max-txn-ops=2", dstEp)
	waitContent(t, dst, "", map[string]string{"/dst/a": "1", "/dst/b": "2"})
	waitLastLine(t, m.stdout, "2")

	mustDo(t,
		on(src, put("/src/c", "3")),
		on(src, del("/src/a")),
		on(src, put("/src/b", "2b")),
		on(src, put("/other", "y")),
		on(src, txnPuts("/src/t1", "a", "/src/t2", "b", "/src/t3", "c")),
	)
	want := map[string]string{"/dst/b": "2b", "/dst/c": "3", "/dst/t1": "a", "/dst/t2": "b", "/dst/t3": "c"}
	waitContent(t, dst, "", want)
	waitLastLine(t, m.stdout, "8")

	// The source's transaction of three puts arrives as two, of at most
	// --max-txn-ops operations each.
	resp, err := dst.Get(context.Background(), "/dst/t", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var revs []int64
	for _, kv := range resp.Kvs {
		revs = append(revs, kv.ModRevision)
	}
	if len(revs) != 3 || revs[0] != revs[1] || revs[2] != revs[1]+1 {
		t.Errorf("mod revisions of the transaction's keys: %v, want two equal, then the next", revs)
	}

	if code := m.stop(t); code != exitKilledByInterrupt {
		t.Errorf("exit %d, want %d", code, exitKilledByInterrupt)
	}
	if s := dropLogLines(m.stderr.String()); s != "" {
		t.Errorf("stderr: %q", s)
	}
	// Counts only grow.
	last := 0
	for _, line := range strings.Split(strings.TrimSuffix(m.stdout.String(), "\n"), "\n") {
		n, err := strconv.Atoi(line)
		if err != nil || n < last || n > 8 {
			t.Errorf("count %q after %d", line, last)
		}
		last = n
	}
}

// TestMakeMirrorPrefixes: the destination prefix is the source prefix by
// default, or none with --no-dest-prefix; --rev skips the copy of the
// existing keys and mirrors the changes from that revision on.
func TestMakeMirrorPrefixes(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		want  map[string]string
	}{
		{"same prefix", nil, map[string]string{"/p/a": "1", "/p/b": "2", "/p/c": "3"}},
		{"no dest prefix", []string{"--no-dest-prefix"}, map[string]string{"a": "1", "b": "2", "c": "3"}},
		{"whole keyspace", []string{"--prefix="}, map[string]string{"/p/a": "1", "/p/b": "2", "/q": "x", "/p/c": "3"}},
		{"whole keyspace to a prefix", []string{"--prefix=", "--dest-prefix=m"}, map[string]string{"m/p/a": "1", "m/p/b": "2", "m/q": "x", "m/p/c": "3"}},
		// Revision 3 is the put of /p/b: /p/a is not copied. etcdctl would
		// strip the prefix here (see make_mirror.go).
		{"rev", []string{"--rev=3"}, map[string]string{"/p/b": "2", "/p/c": "3"}},
		{"rev 1 copies all", []string{"--rev=1"}, map[string]string{"/p/a": "1", "/p/b": "2", "/p/c": "3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srcEp, dstEp := startServer(t), startServer(t)
			src, dst := testClient(t, srcEp), testClient(t, dstEp)
			mustDo(t, on(src, put("/p/a", "1")), on(src, put("/p/b", "2")), on(src, put("/q", "x")))
			args := append([]string{"--endpoints=" + srcEp, "make-mirror", "--prefix=/p/"}, c.flags...)
			m := startMirror(t, "", append(args, dstEp)...)
			mustDo(t, on(src, put("/p/c", "3")))
			waitContent(t, dst, "", c.want)
			if code := m.stop(t); code != exitKilledByInterrupt {
				t.Errorf("exit %d, stderr %q", code, m.stderr.String())
			}
		})
	}
}

// TestMakeMirrorCompacted: a --rev the source has compacted away ends the
// mirror with etcd's error.
func TestMakeMirrorCompacted(t *testing.T) {
	srcEp, dstEp := startServer(t), startServer(t)
	src := testClient(t, srcEp)
	mustDo(t, on(src, put("a", "1")), on(src, put("a", "2")), on(src, put("a", "3")), on(src, compact(4)))
	m := startMirror(t, "", "--endpoints="+srcEp, "make-mirror", "--rev=2", dstEp)
	if code := m.wait(t); code != ExitError {
		t.Errorf("exit %d", code)
	}
	if got, want := dropLogLines(m.stderr.String()), "Error: etcdserver: mvcc: required revision has been compacted\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// TestMakeMirrorDestUser logs in to the destination as --dest-user, with
// the password from the prompt.
func TestMakeMirrorDestUser(t *testing.T) {
	srcEp, dstEp := startServer(t), startServer(t)
	src, dst := testClient(t, srcEp), testClient(t, dstEp)
	mustDo(t, on(src, put("k", "v")),
		on(dst, userAdd("root", "rootpw")), on(dst, grantRole("root", "root")), on(dst, authEnable()))
	m := startMirror(t, "rootpw\n", "--endpoints="+srcEp, "make-mirror", "--dest-user=root", dstEp)
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{dstEp}, Username: "root", Password: "rootpw", DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	waitContent(t, root, "", map[string]string{"k": "v"})
	m.stop(t)
	if got, want := m.stdout.String(), "Destination Password: \n"; !strings.HasPrefix(got, want) {
		t.Errorf("stdout %q, want the prompt %q first", got, want)
	}
}

// TestMakeMirrorDestDenied: a destination that refuses the writes ends
// the mirror with the server's error.
func TestMakeMirrorDestDenied(t *testing.T) {
	srcEp, dstEp := startServer(t), startServer(t)
	src, dst := testClient(t, srcEp), testClient(t, dstEp)
	mustDo(t, on(src, put("k", "v")),
		on(dst, userAdd("root", "rootpw")), on(dst, grantRole("root", "root")),
		on(dst, userAdd("bob", "bobpw")), on(dst, authEnable()))
	m := startMirror(t, "", "--endpoints="+srcEp, "make-mirror", "--dest-user=bob:bobpw", dstEp)
	if code := m.wait(t); code != ExitError {
		t.Errorf("exit %d", code)
	}
	if got, want := dropLogLines(m.stderr.String()), "Error: etcdserver: permission denied\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if got := m.stdout.String(); strings.Trim(got, "0\n") != "" {
		t.Errorf("stdout %q", got)
	}
}
