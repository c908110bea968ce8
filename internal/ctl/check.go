package ctl

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// `check perf` and `check datascale` load the cluster with writes under a
// prefix that must start out empty, delete them afterwards, and judge the
// result as etcdctl does. Both accept the load names s, m, l and xl (and
// small, medium, large, xLarge); each load fixes the number of clients and
// the rate or amount of writes.

// perfLoad is one `check perf --load`: rate writes per second, by clients
// clients, for duration.
type perfLoad struct {
	rate, clients int
	duration      time.Duration
}

var perfLoads = map[string]perfLoad{
	"s":  {rate: 150, clients: 50, duration: time.Minute},
	"m":  {rate: 1000, clients: 200, duration: time.Minute},
	"l":  {rate: 8000, clients: 500, duration: time.Minute},
	"xl": {rate: 15000, clients: 1000, duration: time.Minute},
}

// datascaleLoad is one `check datascale --load`: keys writes of kvSize
// bytes (key and value together), by clients clients.
type datascaleLoad struct {
	keys, kvSize, clients int
}

var datascaleLoads = map[string]datascaleLoad{
	"s":  {keys: 10000, kvSize: 1024, clients: 50},
	"m":  {keys: 100000, kvSize: 1024, clients: 200},
	"l":  {keys: 1000000, kvSize: 1024, clients: 500},
	"xl": {keys: 3000000, kvSize: 1024, clients: 1000},
}

// loadAliases maps the accepted --load values to their short names.
var loadAliases = map[string]string{
	"s": "s", "small": "s",
	"m": "m", "medium": "m",
	"l": "l", "large": "l",
	"xl": "xl", "xLarge": "xl",
}

func (c *cli) newCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check <subcommand>",
		Short: "commands for checking properties of the etcd cluster",
	}
	cmd.AddCommand(c.newCheckPerfCommand(), c.newCheckDatascaleCommand())
	return cmd
}

// checkFlags are the flags both checks have.
type checkFlags struct {
	load, prefix            string
	autoCompact, autoDefrag bool
}

// loadName is the short name of --load, or etcdctl's error for an
// unknown one.
func (f *checkFlags) loadName() (string, error) {
	name, ok := loadAliases[f.load]
	if !ok {
		return "", exitErrf(ExitBadFeature, "unknown load option %v", f.load)
	}
	return name, nil
}

func (f *checkFlags) register(cmd *cobra.Command, loadUsage, defaultPrefix, prefixUsage string) {
	fs := cmd.Flags()
	fs.StringVar(&f.load, "load", "s", loadUsage)
	fs.StringVar(&f.prefix, "prefix", defaultPrefix, prefixUsage)
	fs.BoolVar(&f.autoCompact, "auto-compact", false, "Compact storage with last revision after test is finished.")
	fs.BoolVar(&f.autoDefrag, "auto-defrag", false, "Defragment storage after test is finished.")
}

func (c *cli) newCheckPerfCommand() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "perf [options]",
		Short: "Check the performance of the etcd cluster",
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := f.loadName()
			if err != nil {
				return err
			}
			load := perfLoads[name]
			if c.opts.checkPerfDuration > 0 {
				load.duration = c.opts.checkPerfDuration
			}
			return c.checkPerf(cmd, f, load)
		},
	}
	f.register(cmd,
		"The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge). Different workload models use different configurations in terms of number of clients and expected throughput.",
		"/etcdctl-check-perf/", "The prefix for writing the performance check's keys.")
	return cmd
}

func (c *cli) newCheckDatascaleCommand() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "datascale [options]",
		Short: "Check the memory usage of holding data for different workloads on a given server endpoint.",
		Long:  "If no endpoint is provided, localhost will be used. If multiple endpoints are provided, first endpoint will be used.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, err := f.loadName()
			if err != nil {
				return err
			}
			load := datascaleLoads[name]
			if c.opts.checkDatascaleKeys > 0 {
				load.keys = c.opts.checkDatascaleKeys
			}
			return c.checkDatascale(cmd, f, load)
		},
	}
	f.register(cmd,
		"The datascale check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)",
		"/etcdctl-check-datascale/", "The prefix for writing the datascale check's keys.")
	return cmd
}

// newClients connects n clients to the endpoints, each with its own
// connection, so that the load is spread as etcdctl spreads it.
func (c *cli) newClients(n int) ([]*clientv3.Client, func(), error) {
	var cls []*clientv3.Client
	closeAll := func() {
		for _, cl := range cls {
			cl.Close()
		}
	}
	for range n {
		cl, err := c.newClient(nil)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		cls = append(cls, cl)
	}
	return cls, closeAll, nil
}

// checkPerf writes load.rate keys a second for load.duration and judges
// throughput and latency. An interrupt ends the writing early; the keys
// are deleted and the results printed all the same.
func (c *cli) checkPerf(cmd *cobra.Command, f checkFlags, load perfLoad) error {
	clients, closeAll, err := c.newClients(load.clients)
	if err != nil {
		return err
	}
	defer closeAll()
	ctx, cancel := context.WithTimeout(baseContext(cmd.Context()), load.duration)
	defer cancel()
	ctx, stop := c.interruptContext(ctx, true)
	defer stop()

	if err := c.checkPrefixEmpty(ctx, clients[0], f.prefix, "Delete with 'etcdctl del --prefix %s' first"); err != nil {
		return err
	}

	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	bar := newProgressBar(errOut, int(load.duration/time.Second))
	barDone := make(chan struct{})
	go func() {
		defer close(barDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; i < bar.total; i++ {
			select {
			case <-t.C:
				bar.add(1)
			case <-ctx.Done():
				// The time is up a little before the last tick; an
				// interrupted check shows where it stopped.
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					bar.fill()
				}
				return
			}
		}
	}()

	key, value := make([]byte, 256), string(make([]byte, 1024))
	ops := make(chan clientv3.Op, load.clients)
	go func() {
		defer close(ops)
		interval := time.Second / time.Duration(load.rate)
		next := time.Now()
		for {
			if !sleepUntil(ctx, next) {
				return
			}
			next = next.Add(interval)
			if now := time.Now(); next.Before(now) {
				next = now // no burst to catch up, as a limiter with burst 1
			}
			binary.PutVarint(key, rand.Int64N(math.MaxInt64))
			ops <- clientv3.OpPut(f.prefix+string(key), value)
		}
	}()
	st := runLoad(clients, ops, nil)
	<-barDone
	bar.finish()

	if err := checkCleanup(out, clients[0], f.prefix, f.autoCompact); err != nil {
		return err
	}
	if f.autoDefrag {
		if err := checkDefrag(out, clients[0]); err != nil {
			return err
		}
	}

	ok := st.printErrors(out)
	if st.rps()/float64(load.rate) <= 0.9 {
		fmt.Fprintf(out, "FAIL: Throughput too low: %d writes/s\n", int(st.rps())+1)
		ok = false
	} else {
		fmt.Fprintf(out, "PASS: Throughput is %d writes/s\n", int(st.rps())+1)
	}
	if st.slowest > 0.5 {
		fmt.Fprintf(out, "Slowest request took too long: %fs\n", st.slowest)
		ok = false
	} else {
		fmt.Fprintf(out, "PASS: Slowest request took %fs\n", st.slowest)
	}
	if sd := st.stddev(); sd > 0.1 {
		fmt.Fprintf(out, "Stddev too high: %fs\n", sd)
		ok = false
	} else {
		fmt.Fprintf(out, "PASS: Stddev is %fs\n", sd)
	}
	if !ok {
		fmt.Fprintln(out, "FAIL")
		return silentExit(ExitError)
	}
	fmt.Fprintln(out, "PASS")
	return nil
}

// checkDatascale writes load.keys keys and reports how much the resident
// memory of the first endpoint's process grew meanwhile.
func (c *cli) checkDatascale(cmd *cobra.Command, f checkFlags, load datascaleLoad) error {
	clients, closeAll, err := c.newClients(load.clients)
	if err != nil {
		return err
	}
	defer closeAll()
	eps, err := c.endpoints()
	if err != nil {
		return exitErr(ExitError, err)
	}
	ctx, stop := c.interruptContext(baseContext(cmd.Context()), false)
	defer stop()
	if err := c.checkPrefixEmpty(ctx, clients[0], f.prefix, "Delete with etcdctl del --prefix %s first"); err != nil {
		return err
	}

	out := cmd.OutOrStdout()
	before := c.residentMemory(out, eps[0])
	if before == 0 {
		fmt.Fprintln(out, "FAIL: Could not read process_resident_memory_bytes before the put operations.")
		return silentExit(ExitError)
	}
	fmt.Fprintf(out, "Start data scale check for work load [%v key-value pairs, %v bytes per key-value, %v concurrent clients].\n", load.keys, load.kvSize, load.clients)
	bar := newProgressBar(cmd.ErrOrStderr(), load.keys)

	key, value := make([]byte, load.kvSize/2), string(make([]byte, load.kvSize/2))
	ops := make(chan clientv3.Op, load.clients)
	go func() {
		defer close(ops)
		for range load.keys {
			binary.PutVarint(key, rand.Int64N(math.MaxInt64))
			select {
			case ops <- clientv3.OpPut(f.prefix+string(key), value):
			case <-ctx.Done():
				return
			}
		}
	}()
	st := runLoad(clients, ops, func() { bar.add(1) })
	bar.finish()
	if ctx.Err() != nil {
		return killedByInterrupt()
	}

	after := c.residentMemory(out, eps[0])
	if after == 0 {
		fmt.Fprintln(out, "FAIL: Could not read process_resident_memory_bytes after the put operations.")
		return silentExit(ExitError)
	}
	resp, err := clients[0].Delete(context.Background(), f.prefix, clientv3.WithPrefix())
	if err != nil {
		return exitErr(ExitError, err)
	}
	if f.autoCompact {
		if err := checkCompact(out, clients[0], resp.Header.Revision); err != nil {
			return err
		}
	}
	if f.autoDefrag {
		if err := checkDefrag(out, clients[0]); err != nil {
			return err
		}
	}
	if !st.printErrors(out) {
		return silentExit(ExitError)
	}
	mb := (after - before) / (1024 * 1024)
	fmt.Fprintf(out, "PASS: Approximate system memory used : %v MB.\n", strconv.FormatFloat(mb, 'f', 2, 64))
	return nil
}

// checkPrefixEmpty refuses to run on a prefix that holds keys: the check
// deletes everything under it when done.
func (c *cli) checkPrefixEmpty(ctx context.Context, cl *clientv3.Client, prefix, hint string) error {
	resp, err := cl.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(1))
	if err != nil {
		return exitErr(ExitError, err)
	}
	if len(resp.Kvs) > 0 {
		return exitErrf(ExitInvalidInput, "prefix %q has keys. "+hint, prefix, prefix)
	}
	return nil
}

// checkCleanup deletes the keys check perf wrote, and with --auto-compact
// compacts at the deletion's revision. A failed deletion is reported
// before the results; a failed compaction ends the command.
func checkCleanup(out io.Writer, cl *clientv3.Client, prefix string, autoCompact bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cl.Delete(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		fmt.Fprintf(out, "FAIL: Cleanup failed during key deletion: ERROR(%v)\n", err)
		return nil
	}
	if autoCompact {
		return checkCompact(out, cl, resp.Header.Revision)
	}
	return nil
}

func checkCompact(out io.Writer, cl *clientv3.Client, rev int64) error {
	fmt.Fprintf(out, "Compacting with revision %d\n", rev)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cl.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return exitErr(ExitError, err)
	}
	fmt.Fprintf(out, "Compacted with revision %d\n", rev)
	return nil
}

// checkDefrag defragments every endpoint of the client in turn.
func checkDefrag(out io.Writer, cl *clientv3.Client) error {
	for _, ep := range cl.Endpoints() {
		fmt.Fprintf(out, "Defragmenting %q\n", ep)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := cl.Defragment(ctx, ep)
		cancel()
		if err != nil {
			return exitErr(ExitError, err)
		}
		fmt.Fprintf(out, "Defragmented %q\n", ep)
	}
	return nil
}

// residentMemory reads process_resident_memory_bytes from the endpoint's
// /metrics; on failure it prints why and returns 0. An https endpoint is
// asked with the client's TLS settings.
func (c *cli) residentMemory(out io.Writer, ep string) float64 {
	const metric = "process_resident_memory_bytes"
	if !strings.HasPrefix(ep, "http://") && !strings.HasPrefix(ep, "https://") {
		ep = "http://" + ep
	}
	url := ep + "/metrics"
	tr := &http.Transport{}
	if strings.HasPrefix(ep, "https://") {
		cfg, err := c.tlsConfig()
		if err != nil {
			fmt.Fprintf(out, "client certificate error: %v\n", err)
			return 0
		}
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig = cfg
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		fmt.Fprintf(out, "fetch error: %v\n", err)
		return 0
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fmt.Fprintf(out, "fetch error: reading %s: %v\n", url, err)
		return 0
	}
	var value string
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, metric); ok {
			value = strings.TrimSpace(rest)
			break
		}
	}
	if value == "" {
		fmt.Fprintf(out, "could not find: %v\n", metric)
		return 0
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil {
		fmt.Fprintf(out, "parse error: %v\n", err)
		return 0
	}
	return v
}

// sleepUntil waits for t; it reports false when ctx ends first, or would
// end before t.
func sleepUntil(ctx context.Context, t time.Time) bool {
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return false
	}
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loadStats summarizes the requests of a load: the latencies of those that
// succeeded, the errors of the others.
type loadStats struct {
	total        time.Duration
	n            int
	sum, sumSq   float64 // of latencies, in seconds
	slowest      float64
	errorsByText map[string]int
}

func (s *loadStats) rps() float64 {
	if s.total <= 0 {
		return 0
	}
	return float64(s.n) / s.total.Seconds()
}

// stddev is the latencies' population standard deviation, in seconds.
func (s *loadStats) stddev() float64 {
	if s.n == 0 {
		return 0
	}
	mean := s.sum / float64(s.n)
	return math.Sqrt(max(s.sumSq/float64(s.n)-mean*mean, 0))
}

// printErrors lists the errors, if any, and reports whether there were
// none.
func (s *loadStats) printErrors(out io.Writer) bool {
	if len(s.errorsByText) == 0 {
		return true
	}
	fmt.Fprintln(out, "FAIL: too many errors")
	texts := make([]string, 0, len(s.errorsByText))
	for t := range s.errorsByText {
		texts = append(texts, t)
	}
	slices.Sort(texts)
	for _, t := range texts {
		fmt.Fprintf(out, "FAIL: ERROR(%v) -> %d\n", t, s.errorsByText[t])
	}
	return false
}

// runLoad sends the ops, each client taking the next one when done with
// its last, until ops is closed; done, when set, is called after each. The
// requests have no deadline, as etcdctl's.
func runLoad(clients []*clientv3.Client, ops <-chan clientv3.Op, done func()) *loadStats {
	st := &loadStats{errorsByText: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range ops {
				t0 := time.Now()
				_, err := cl.Do(context.Background(), op)
				lat := time.Since(t0).Seconds()
				mu.Lock()
				if err != nil {
					st.errorsByText[err.Error()]++
				} else {
					st.n++
					st.sum += lat
					st.sumSq += lat * lat
					st.slowest = max(st.slowest, lat)
				}
				mu.Unlock()
				if done != nil {
					done()
				}
			}
		}()
	}
	wg.Wait()
	st.total = time.Since(start)
	return st
}
