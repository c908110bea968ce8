package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// eventStall is how long a watch run waits for the next event once the
// puts are done before it counts the missing events as errors.
const eventStall = 10 * time.Second

// errEventMissing is the error text of an event that never arrived.
const errEventMissing = "watch event not received"

// fanout describes a watch run: streams x perStream watchers over the first
// watchedKeys keys, then putTotal puts over the first keySpace keys.
type fanout struct {
	streams, perStream int
	watchedKeys        int
	keySpace           int
	sequentialKeys     bool
	keySize, valSize   int
	putTotal, putRate  int
	prevKV             bool
}

func (f fanout) validate() (keyGen, error) {
	switch {
	case f.streams < 1:
		return keyGen{}, usagef("--streams must be at least 1, got %d", f.streams)
	case f.perStream < 1:
		return keyGen{}, usagef("the number of watchers per stream must be at least 1, got %d", f.perStream)
	case f.watchedKeys < 1:
		return keyGen{}, usagef("--watched-key-total must be at least 1, got %d", f.watchedKeys)
	case f.putTotal < 1:
		return keyGen{}, usagef("--put-total must be at least 1, got %d", f.putTotal)
	case f.putRate < 0:
		return keyGen{}, usagef("--put-rate must not be negative, got %d", f.putRate)
	case f.valSize < 0:
		return keyGen{}, usagef("--val-size must not be negative, got %d", f.valSize)
	}
	kg, err := newKeyGen(f.keySize, max(f.keySpace, f.watchedKeys))
	if err != nil {
		return keyGen{}, usageError{err}
	}
	if f.keySpace < 1 {
		return keyGen{}, usagef("--key-space-size must be at least 1, got %d", f.keySpace)
	}
	return kg, nil
}

func (c *cli) newWatchCommand() *cobra.Command {
	f := fanout{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Benchmark watch",
		Long: "Benchmark watch: open --streams watch streams of --watch-per-stream watchers each\n" +
			"over the first --watched-key-total keys, then put --put-total keys of the first\n" +
			"--key-space-size keys. It reports the latency of watch creation, and the latency from\n" +
			"the start of each put to the arrival of each of its events, with events per second.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			create, _, events, err := c.runFanout(cmd.Context(), f)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.opts.Stdout, "Watch creation summary:")
			WriteReport(c.opts.Stdout, create, c.reportOptions())
			fmt.Fprintln(c.opts.Stdout, "Watch events received summary:")
			WriteReport(c.opts.Stdout, events, c.reportOptions())
			sum := Summarize("watch", events)
			sum.Parts = []Summary{Summarize("create", create), Summarize("events", events)}
			return c.finish(cmd.Context(), sum)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.streams, "streams", 10, "Total watch streams")
	fl.IntVar(&f.perStream, "watch-per-stream", 100, "Total watchers per stream")
	fl.IntVar(&f.watchedKeys, "watched-key-total", 1, "Total number of keys to be watched")
	fl.IntVar(&f.putTotal, "put-total", 1000, "Number of put requests")
	fl.IntVar(&f.putRate, "put-rate", 0, "Number of keys to put per second (0 is no limit)")
	fl.IntVar(&f.keySize, "key-size", 32, "Key size of watch request")
	fl.IntVar(&f.valSize, "val-size", 8, "Value size of put request")
	fl.IntVar(&f.keySpace, "key-space-size", 1, "Maximum possible keys")
	fl.BoolVar(&f.sequentialKeys, "sequential-keys", false, "Use sequential keys")
	return cmd
}

func (c *cli) newWatchLatencyCommand() *cobra.Command {
	f := fanout{watchedKeys: 1, keySpace: 1}
	cmd := &cobra.Command{
		Use:   "watch-latency",
		Short: "Benchmark watch latency",
		Long: "Benchmark watch latency: --streams streams of --watchers-per-stream watchers on one\n" +
			"key, then --put-total puts to it at --put-rate a second. It reports the put latency and\n" +
			"the latency from the start of each put to the arrival of each of its events.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, put, events, err := c.runFanout(cmd.Context(), f)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.opts.Stdout, "\nPut summary:")
			WriteReport(c.opts.Stdout, put, c.reportOptions())
			fmt.Fprintln(c.opts.Stdout, "Watch events summary:")
			WriteReport(c.opts.Stdout, events, c.reportOptions())
			sum := Summarize("watch-latency", events)
			sum.Parts = []Summary{Summarize("put", put), Summarize("events", events)}
			return c.finish(cmd.Context(), sum)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.putTotal, "put-total", 1000, "Total number of put requests")
	fl.IntVar(&f.putRate, "put-rate", 100, "Number of keys to put per second")
	fl.IntVar(&f.streams, "streams", 10, "Total watch streams")
	fl.IntVar(&f.perStream, "watchers-per-stream", 10, "Total watchers per stream")
	fl.IntVar(&f.keySize, "key-size", 32, "Key size of watch response")
	fl.IntVar(&f.valSize, "val-size", 32, "Value size of watch response")
	fl.BoolVar(&f.prevKV, "prevkv", false, "PrevKV enabled on watch requests")
	return cmd
}

// arrival is when a watcher received the event of a revision.
type arrival struct {
	rev int64
	at  time.Time
}

// watchStream is one gRPC watch stream and what its watchers received.
type watchStream struct {
	stream  pb.Watch_WatchClient
	cancel  context.CancelFunc
	created chan string // one per create request: "" or the cancel reason
	done    chan struct{}

	arrivals []arrival // owned by the receiving goroutine until done closes
	recvErr  error
}

// receive reads the stream until it ends, counting events into received and
// noting the latest arrival in last (unix nanoseconds).
func (s *watchStream) receive(received, last *atomic.Int64) {
	defer close(s.done)
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			s.recvErr = err
			return
		}
		now := time.Now()
		if resp.Created {
			reason := ""
			if resp.Canceled {
				reason = resp.CancelReason
				if reason == "" {
					reason = "watch canceled at creation"
				}
			}
			s.created <- reason
			continue
		}
		for _, ev := range resp.Events {
			s.arrivals = append(s.arrivals, arrival{rev: ev.Kv.GetModRevision(), at: now})
		}
		if n := len(resp.Events); n > 0 {
			received.Add(int64(n))
			storeMax(last, now.UnixNano())
		}
	}
}

// runFanout opens the watchers, runs the puts and waits for the events. It
// returns the statistics of watch creation, of the puts and of the events
// (the latency from a put's start to each arrival of its event).
func (c *cli) runFanout(ctx context.Context, f fanout) (create, put, events *Stats, err error) {
	kg, err := f.validate()
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := c.connect(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	defer p.close()

	// Watcher g (counting over all streams) watches key g % watchedKeys.
	watchersOf := make([]int, f.watchedKeys)
	for g := range f.streams * f.perStream {
		watchersOf[g%f.watchedKeys]++
	}

	var received, lastArrival atomic.Int64
	streams := make([]*watchStream, f.streams)
	defer func() {
		for _, s := range streams {
			if s != nil {
				s.cancel()
				<-s.done
			}
		}
	}()
	for i := range streams {
		sctx, cancel := context.WithCancel(ctx)
		st, err := pb.NewWatchClient(p.conn(i).ActiveConnection()).Watch(sctx)
		if err != nil {
			cancel()
			return nil, nil, nil, fmt.Errorf("open watch stream: %v", errText(err))
		}
		s := &watchStream{stream: st, cancel: cancel, created: make(chan string, f.perStream), done: make(chan struct{})}
		streams[i] = s
		go s.receive(&received, &lastArrival)
	}

	// Create the watchers, streams in parallel, each stream's one by one.
	var createDone atomic.Int64
	bar := startProgress(c.opts.Progress, "watch", int64(f.streams*f.perStream), &createDone)
	createResults := make([][]Result, f.streams)
	createErrs := make([]error, f.streams)
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() {
			for j := range f.perStream {
				key := kg.key((i*f.perStream + j) % f.watchedKeys)
				st := time.Now()
				req := &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{
					Key: []byte(key), PrevKv: f.prevKV,
				}}}
				if err := s.stream.Send(req); err != nil {
					createErrs[i] = fmt.Errorf("watch stream %d: %v", i, errText(err))
					return
				}
				var reason string
				select {
				case reason = <-s.created:
				case <-s.done:
					createErrs[i] = fmt.Errorf("watch stream %d: %v", i, errText(s.recvErr))
					return
				}
				createResults[i] = append(createResults[i], Result{Start: st, Took: time.Since(st), Err: reason})
				createDone.Add(1)
			}
		})
	}
	wg.Wait()
	bar.finish()
	create = NewStats(flatten(createResults), time.Since(start))
	if err := errors.Join(createErrs...); err != nil {
		if ctx.Err() != nil {
			return create, NewStats(nil, 0), NewStats(nil, 0), nil
		}
		return nil, nil, nil, err
	}

	// Put, noting when each revision's put started and how many events it
	// owes the watchers.
	putStarts := make([][]arrival, c.g.clients)
	var expected atomic.Int64
	putStart := time.Now()
	put = c.run(ctx, job{
		label:   "put",
		total:   f.putTotal,
		workers: int(c.g.clients),
		rate:    f.putRate,
		do: func(ctx context.Context, w *worker, id, i int) (int, error) {
			k := kg.index(i, f.sequentialKeys, w.rand) % f.keySpace
			st := time.Now()
			resp, err := p.conn(id).Put(ctx, kg.key(k), w.value(f.valSize))
			if err != nil {
				return 0, err
			}
			putStarts[id] = append(putStarts[id], arrival{rev: resp.Header.GetRevision(), at: st})
			if k < f.watchedKeys {
				expected.Add(int64(watchersOf[k]))
			}
			return 0, nil
		},
	})[0]

	// Wait for every event, or until they stop coming.
	bar = startProgress(c.opts.Progress, "events", expected.Load(), &received)
	waitEvents(ctx, &received, expected.Load())
	bar.finish()
	for _, s := range streams {
		s.cancel()
		<-s.done
	}

	started := map[int64]time.Time{}
	for _, ps := range putStarts {
		for _, a := range ps {
			started[a.rev] = a.at
		}
	}
	var results []Result
	for _, s := range streams {
		for _, a := range s.arrivals {
			if st, ok := started[a.rev]; ok {
				results = append(results, Result{Start: st, Took: a.at.Sub(st)})
			}
		}
	}
	for range expected.Load() - int64(len(results)) {
		results = append(results, Result{Err: errEventMissing})
	}
	span := time.Duration(lastArrival.Load() - putStart.UnixNano())
	return create, put, NewStats(results, max(span, 0)), nil
}

// waitEvents returns once received reaches expected, ctx ends, or no event
// has arrived for eventStall.
func waitEvents(ctx context.Context, received *atomic.Int64, expected int64) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	last, lastChange := received.Load(), time.Now()
	for last < expected {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n := received.Load(); n != last {
				last, lastChange = n, now
			} else if now.Sub(lastChange) > eventStall {
				return
			}
		}
	}
}

func flatten(parts [][]Result) []Result {
	var all []Result
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}
