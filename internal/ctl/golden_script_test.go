package ctl

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Scripted golden cases run a command that does not end by itself (watch,
// lease keep-alive, lock, elect) in the background and drive it, the same
// way for our etcdctl (in-process, interrupted through Options.Interrupt)
// and for the reference one (a process, interrupted with SIGINT):
//
//	script: func() []action {
//		return []action{
//			waitOut("bar"),          // stdout shows "bar"
//			write(put("foo", "x")),  // a write through the test's client
//			waitOut("x"),            // ... and its event is printed
//			interrupt(),
//		}
//	}
//
// Waits look for their text after what the previous wait on the same
// stream matched, so a transcript can wait for the same line twice. After
// the last action the command must end by itself within a deadline. A
// command is never cut short at an arbitrary moment: its output is whole.

// actionTimeout bounds each wait, and the wait for the command to end.
const actionTimeout = 20 * time.Second

// action is one step of a script; exactly one field is set.
type action struct {
	out, errOut string // wait until stdout (stderr) shows this
	write       step   // a write (or any request) through the test's client
	stdin       string // written to the command's stdin
	closeStdin  bool
	interrupt   bool
	start       bool // start the command; without such an action, it starts first
}

func waitOut(s string) action  { return action{out: s} }
func waitErr(s string) action  { return action{errOut: s} }
func write(s step) action      { return action{write: s} }
func send(line string) action  { return action{stdin: line} }
func closeStdin() action       { return action{closeStdin: true} }
func interruptCmd() action     { return action{interrupt: true} }
func startCmd() action         { return action{start: true} }
func writes(ss ...step) action { return action{write: steps(ss)} }

func steps(ss []step) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		for _, s := range ss {
			if err := s(ctx, cl); err != nil {
				return err
			}
		}
		return nil
	}
}

func (a action) String() string {
	switch {
	case a.out != "":
		return "wait stdout " + strconv.Quote(a.out)
	case a.errOut != "":
		return "wait stderr " + strconv.Quote(a.errOut)
	case a.write != nil:
		return "write"
	case a.stdin != "":
		return "stdin " + strconv.Quote(a.stdin)
	case a.closeStdin:
		return "close stdin"
	case a.interrupt:
		return "interrupt"
	case a.start:
		return "start the command"
	}
	return "nothing"
}

// running is a command started in the background.
type running interface {
	stdin(s string) error
	closeStdin()
	interrupt()
	output() (stdout, stderr string)
	ended() <-chan struct{} // closed when the command has ended
	exitCode() int          // its exit status, once ended
}

// syncBuffer is a buffer written by the command while the script reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// pipeProcess is what both kinds of run share: an OS pipe for stdin, the
// output buffers and the exit status.
type pipeProcess struct {
	in             *os.File
	stdout, stderr syncBuffer
	finished       chan struct{}
	code           int
}

func (p *pipeProcess) finish(code int) {
	p.code = code
	close(p.finished)
}

func (p *pipeProcess) stdin(s string) error {
	_, err := p.in.WriteString(s)
	return err
}

func (p *pipeProcess) closeStdin()                     { p.in.Close() }
func (p *pipeProcess) output() (stdout, stderr string) { return p.stdout.String(), p.stderr.String() }
func (p *pipeProcess) ended() <-chan struct{}          { return p.finished }
func (p *pipeProcess) exitCode() int                   { return p.code }

// ours runs our etcdctl in-process.
type ours struct {
	pipeProcess
	intr chan struct{}
	once sync.Once
}

func startOurs(pc prepared) running {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	o := &ours{pipeProcess: pipeProcess{in: w, finished: make(chan struct{})}, intr: make(chan struct{})}
	go func() {
		code := Main(Options{
			Stdin:     r,
			Stdout:    &o.stdout,
			Stderr:    &o.stderr,
			Environ:   pc.env,
			Sleep:     func(time.Duration) {},
			Interrupt: o.intr,
		}, pc.args)
		r.Close() // later writes fail instead of blocking
		o.finish(code)
	}()
	return o
}

func (o *ours) interrupt() { o.once.Do(func() { close(o.intr) }) }

// ref runs the reference etcdctl as a process.
type ref struct {
	pipeProcess
	cmd *exec.Cmd
}

func startRef(t *testing.T, bin string, pc prepared) running {
	t.Helper()
	cmd := exec.Command(bin, pc.args...)
	cmd.Env = pc.env
	p := &ref{pipeProcess: pipeProcess{finished: make(chan struct{})}, cmd: cmd}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.in = in.(*os.File)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		code, err := exitStatus(cmd.Wait())
		if err != nil {
			code = -1
		}
		p.finish(code)
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *ref) interrupt() { p.cmd.Process.Signal(os.Interrupt) }

// runScript starts the command and drives it through the script, and
// returns what it printed and its exit status.
func runScript(t *testing.T, pc prepared, script []action, start func() running) result {
	t.Helper()
	cl := testClient(t, pc.ep)
	if !slices.ContainsFunc(script, func(a action) bool { return a.start }) {
		script = append([]action{startCmd()}, script...)
	}
	var r running
	var outAt, errAt int
	fail := func(format string, args ...any) {
		if r == nil {
			t.Fatalf(format, args...)
		}
		stdout, stderr := r.output()
		r.interrupt()
		t.Fatalf("%s\n--- stdout so far\n%s\n--- stderr so far\n%s", fmt.Sprintf(format, args...), quoteIfBinary(stdout), quoteIfBinary(stderr))
	}
	// wait polls a stream for s past the position at.
	wait := func(get func() string, s string, at *int) bool {
		deadline := time.Now().Add(actionTimeout)
		for {
			all := get()
			if i := strings.Index(all[*at:], s); i >= 0 {
				*at += i + len(s)
				return true
			}
			select {
			case <-r.ended():
				// One last look: the output may have been completed just
				// before the end.
				all = get()
				if i := strings.Index(all[*at:], s); i >= 0 {
					*at += i + len(s)
					return true
				}
				return false
			default:
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	outStream := func() string { s, _ := r.output(); return s }
	errStream := func() string { _, s := r.output(); return s }
	for i, a := range script {
		if r == nil && !a.start && a.write == nil {
			fail("step %d: %v before the command started", i, a)
		}
		switch {
		case a.start:
			r = start()
		case a.out != "":
			if !wait(outStream, a.out, &outAt) {
				fail("step %d: %v: not seen", i, a)
			}
		case a.errOut != "":
			if !wait(errStream, a.errOut, &errAt) {
				fail("step %d: %v: not seen", i, a)
			}
		case a.write != nil:
			ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
			err := a.write(ctx, cl)
			cancel()
			if err != nil {
				fail("step %d: write: %v", i, err)
			}
		case a.stdin != "":
			if err := r.stdin(a.stdin); err != nil {
				fail("step %d: %v: %v", i, a, err)
			}
		case a.closeStdin:
			r.closeStdin()
		case a.interrupt:
			r.interrupt()
		}
	}
	select {
	case <-r.ended():
	case <-time.After(actionTimeout):
		fail("the command did not end after its script")
	}
	stdout, stderr := r.output()
	return result{stdout: stdout, stderr: stderr, exit: r.exitCode()}
}
