package ctl

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// rival holds a lock or leads an election on its own session, as another
// client would, so that a case can make the command wait.
type rival struct {
	name string
	s    *concurrency.Session
	m    *concurrency.Mutex
	e    *concurrency.Election
}

func (r *rival) session(cl *clientv3.Client) error {
	if r.s != nil {
		return nil
	}
	s, err := concurrency.NewSession(cl)
	r.s = s
	return err
}

func (r *rival) lock() step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		if err := r.session(cl); err != nil {
			return err
		}
		r.m = concurrency.NewMutex(r.s, r.name)
		return r.m.Lock(ctx)
	}
}

func (r *rival) unlock() step {
	return func(ctx context.Context, _ *clientv3.Client) error { return r.m.Unlock(ctx) }
}

func (r *rival) campaign(value string) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		if err := r.session(cl); err != nil {
			return err
		}
		r.e = concurrency.NewElection(r.s, r.name)
		return r.e.Campaign(ctx, value)
	}
}

// campaignLater campaigns in the background: the step returns at once,
// while the rival queues behind the current leader.
func (r *rival) campaignLater(value string) step {
	return func(_ context.Context, cl *clientv3.Client) error {
		if err := r.session(cl); err != nil {
			return err
		}
		r.e = concurrency.NewElection(r.s, r.name)
		go r.e.Campaign(context.Background(), value)
		return nil
	}
}

func (r *rival) resign() step {
	return func(ctx context.Context, _ *clientv3.Client) error { return r.e.Resign(ctx) }
}

// waitKeys polls until n keys have the prefix: the command has queued for
// a lock or an election.
func waitKeys(prefix string, n int64) step {
	return func(ctx context.Context, cl *clientv3.Client) error {
		for {
			resp, err := cl.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				return err
			}
			if resp.Count == n {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%d keys under %q, want %d: %w", resp.Count, prefix, n, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// printedGet is the end of a key printed as a get result (after the key in
// the simple format: the value's line), the others end with the count.
var printedGet = map[string]string{"simple": "\n", "json": `"count":1}` + "\n", "fields": `"Count" : 1` + "\n"}

// observed is the end of a leader printed by elect --listen: the client
// library's observer makes results without a count.
var observed = map[string]string{"simple": "\n", "json": "}]}\n", "fields": `"Count" : 0` + "\n"}

// Lock and election keys end in the hex ID of their session's lease, which
// the server picks.
var sessionMasks = []mask{maskLeaseHex, maskLeaseField, maskKeysJSON(maskLeaseHex), maskLeaseJSON}

func concurrencyCases() []goldenCase {
	var cs []goldenCase
	add := func(c ...goldenCase) { cs = append(cs, c...) }

	// lock without a command: prints the lock's key (and its empty value)
	// and holds the lock until interrupted.
	add(scriptedFormats(goldenCase{name: "lock", history: base, args: args("lock mylock"), masks: sessionMasks},
		func(f string) []action {
			end := printedGet[f]
			if f == "simple" {
				end = "\n\n" // the key, then its empty value
			}
			return []action{waitOut(end), interruptCmd()}
		}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "lock_waits", history: base, args: args("lock mylock"), masks: sessionMasks, script: func() []action {
			r := &rival{name: "mylock"}
			return []action{write(r.lock()), startCmd(), write(waitKeys("mylock/", 2)), write(r.unlock()), waitOut("\n\n"), interruptCmd()}
		}},
		goldenCase{name: "lock_waits_interrupted", history: base, args: args("lock mylock"), script: func() []action {
			r := &rival{name: "mylock"}
			return []action{write(r.lock()), startCmd(), write(waitKeys("mylock/", 2)), interruptCmd()}
		}},
		goldenCase{name: "lock_table", history: base, args: args("lock mylock -w table")},
		goldenCase{name: "lock_bad_format", history: base, args: args("lock mylock -w bogus")},
		goldenCase{name: "lock_no_args", noServer: true, args: args("lock")},
		goldenCase{name: "lock_help", noServer: true, args: args("lock --help")},
		goldenCase{name: "lock_unknown_flag", noServer: true, args: args("lock mylock /bin/sh -c true")},
	)

	// lock with a command: runs it under the lock.
	const show = `echo "key=$ETCD_LOCK_KEY rev=$ETCD_LOCK_REV"; env | grep ^ETCD_ | sort`
	add(
		goldenCase{name: "lock_exec", history: base, args: []string{"lock", "mylock", "--", "/bin/sh", "-c", show}, env: []string{"PATH=/usr/bin:/bin"}, masks: sessionMasks},
		goldenCase{name: "lock_exec_ttl", history: base, args: []string{"lock", "--ttl", "5", "mylock", "/bin/echo", "locked"}},
		goldenCase{name: "lock_exec_zero_ttl", history: base, args: []string{"lock", "--ttl=0", "mylock", "/bin/echo", "locked"}},
		goldenCase{name: "lock_exec_status", history: base, args: []string{"lock", "mylock", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"}},
		goldenCase{name: "lock_exec_false", history: base, args: []string{"lock", "mylock", "/bin/false"}},
		goldenCase{name: "lock_exec_not_found", history: base, args: []string{"lock", "mylock", "/nonexistent/cmd"}},
		goldenCase{name: "lock_exec_stdin", history: base, args: []string{"lock", "mylock", "--", "/bin/sh", "-c", "cat; echo done"}, stdin: "not for the command\n"},
		goldenCase{name: "lock_exec_waits", history: base, args: []string{"lock", "mylock", "/bin/echo", "got it"}, script: func() []action {
			r := &rival{name: "mylock"}
			return []action{write(r.lock()), startCmd(), write(waitKeys("mylock/", 2)), write(r.unlock()), waitOut("got it\n")}
		}},
	)

	// elect: campaigns, prints the leader (itself) and leads until
	// interrupted.
	add(scriptedFormats(goldenCase{name: "elect", history: base, args: args("elect myelection p1"), masks: sessionMasks},
		func(f string) []action {
			return []action{waitOut(seen(f, "p1")), waitOut(printedGet[f]), interruptCmd()}
		}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "elect_waits", history: base, args: args("elect myelection p2"), masks: sessionMasks, script: func() []action {
			r := &rival{name: "myelection"}
			return []action{write(r.campaign("p1")), startCmd(), write(waitKeys("myelection/", 2)), write(r.resign()), waitOut("p2\n"), interruptCmd()}
		}},
		goldenCase{name: "elect_waits_interrupted", history: base, args: args("elect myelection p2"), script: func() []action {
			r := &rival{name: "myelection"}
			return []action{write(r.campaign("p1")), startCmd(), write(waitKeys("myelection/", 2)), interruptCmd()}
		}},
		goldenCase{name: "elect_table", history: base, args: args("elect myelection p1 -w table")},
		goldenCase{name: "elect_no_args", noServer: true, args: args("elect")},
		goldenCase{name: "elect_three_args", noServer: true, args: args("elect a b c")},
		goldenCase{name: "elect_no_proposal", args: args("elect myelection")},
		goldenCase{name: "elect_listen_with_proposal", args: args("elect -l myelection p1")},
		goldenCase{name: "elect_bad_format", args: args("elect myelection -w bogus")},
		goldenCase{name: "elect_help", noServer: true, args: args("elect --help")},
	)

	// elect --listen: prints each leader in turn.
	add(scriptedFormats(goldenCase{name: "elect_listen", history: base, args: args("elect -l myelection"), masks: sessionMasks},
		func(f string) []action {
			a, b := &rival{name: "myelection"}, &rival{name: "myelection"}
			return []action{
				write(a.campaign("v1")),
				waitOut(seen(f, "v1")),
				waitOut(observed[f]),
				write(b.campaignLater("v2")),
				writes(waitKeys("myelection/", 2), a.resign()),
				waitOut(seen(f, "v2")),
				waitOut(observed[f]),
				interruptCmd(),
			}
		}, "simple", "json", "fields")...)
	add(
		goldenCase{name: "elect_listen_table", history: base, args: args("elect -l myelection -w table"), script: func() []action {
			a := &rival{name: "myelection"}
			return []action{write(a.campaign("v1"))}
		}},
	)
	return cs
}
