package utl

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairn-kv/cairn/internal/snapshot"
)

// store is a snapshot.Source held in memory.
type store struct {
	versions []snapshot.Version
	meta     snapshot.Meta
}

func (s *store) Versions(fn func(snapshot.Version) error) error {
	for _, v := range s.versions {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
func (s *store) Leases() ([]snapshot.Lease, error)             { return nil, nil }
func (s *store) Members() ([]snapshot.Member, []uint64, error) { return nil, nil, nil }
func (s *store) Auth() (*snapshot.Auth, error)                 { return &snapshot.Auth{Revision: 1}, nil }
func (s *store) Meta() (*snapshot.Meta, error)                 { return &s.meta, nil }
func (s *store) String() string                                { return fmt.Sprintf("%d versions, meta %+v", len(s.versions), s.meta) }
func (s *store) add(v snapshot.Version)                        { s.versions = append(s.versions, v) }
func (s *store) last() int64                                   { return s.versions[len(s.versions)-1].Main }

func kvAt(k string, main, create, ver int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(k), CreateRevision: create, ModRevision: main, Version: ver, Value: []byte(strconv.FormatInt(main, 10))}
}

// randomStore writes a random history of puts and deletes, some in
// multi-operation transactions, and compacts it in one of the ways a
// snapshot can show: not at all, as etcd 3.6 compacts (each key keeps its
// latest revision at the compaction point unless that is an older
// deletion), or only marked.
func randomStore(r *rand.Rand) *store {
	s := &store{meta: snapshot.Meta{ConsistentIndex: 10, Term: 2, StorageVersion: "3.6.0"}}
	type state struct{ create, ver int64 }
	live := map[string]*state{}
	n := r.IntN(30)
	for main := int64(2); main < int64(n)+2; main++ {
		used := map[string]bool{}
		for sub := int64(0); sub < int64(1+r.IntN(3)); sub++ {
			k := fmt.Sprintf("k%d", r.IntN(6))
			if used[k] {
				continue
			}
			used[k] = true
			sub := int64(len(used) - 1)
			if st := live[k]; st != nil && r.IntN(3) == 0 {
				delete(live, k)
				s.add(snapshot.Version{Main: main, Sub: sub, Tombstone: true, KV: &mvccpb.KeyValue{Key: []byte(k)}})
				continue
			}
			st := live[k]
			if st == nil {
				st = &state{create: main}
				live[k] = st
			}
			st.ver++
			s.add(snapshot.Version{Main: main, Sub: sub, KV: kvAt(k, main, st.create, st.ver)})
		}
	}
	if r.IntN(6) == 0 {
		s.meta.StorageVersion = ""
	}
	if len(s.versions) == 0 {
		return s
	}
	c := 1 + r.Int64N(s.last())
	switch r.IntN(3) {
	case 1:
		s.compact(c)
		s.meta.FinishedCompact, s.meta.ScheduledCompact = c, c
	case 2:
		s.meta.FinishedCompact, s.meta.ScheduledCompact = c, c
	}
	return s
}

// edgeStores are snapshots at the edges of status and hashkv: no keys; a
// compaction past the last key; a deletion at the compaction revision;
// a storage version that is not a version; an interrupted compaction
// (scheduled past finished), which etcdutl finishes when it loads the file.
func edgeStores() []*store {
	tomb := func(main int64, k string) snapshot.Version {
		return snapshot.Version{Main: main, Tombstone: true, KV: &mvccpb.KeyValue{Key: []byte(k)}}
	}
	put := func(main, create, ver int64, k string) snapshot.Version {
		return snapshot.Version{Main: main, KV: kvAt(k, main, create, ver)}
	}
	return []*store{
		{meta: snapshot.Meta{StorageVersion: "3.6.0"}},
		{meta: snapshot.Meta{FinishedCompact: 9, ScheduledCompact: 9}, versions: []snapshot.Version{put(2, 2, 1, "a"), tomb(3, "b")}},
		{meta: snapshot.Meta{FinishedCompact: 3, ScheduledCompact: 3}, versions: []snapshot.Version{tomb(3, "b"), put(4, 4, 1, "c")}},
		{meta: snapshot.Meta{StorageVersion: "bogus"}, versions: []snapshot.Version{put(2, 2, 1, "a")}},
		{meta: snapshot.Meta{FinishedCompact: 2, ScheduledCompact: 4}, versions: []snapshot.Version{put(2, 2, 1, "a"), put(3, 2, 2, "a"), put(5, 2, 3, "a")}},
	}
}

// compact removes what etcd 3.6's compaction at c removes.
func (s *store) compact(c int64) {
	latest := map[string]int{}
	for i, v := range s.versions {
		if v.Main <= c {
			latest[string(v.KV.Key)] = i
		}
	}
	var kept []snapshot.Version
	for i, v := range s.versions {
		if v.Main > c || (latest[string(v.KV.Key)] == i && (!v.Tombstone || v.Main == c)) {
			kept = append(kept, v)
		}
	}
	s.versions = kept
}

// TestAgainstReference writes random snapshots with the snapshot package
// and checks that status and hashkv print what the reference etcdutl
// prints for them, in every format and at every revision. It needs
// CAIRN_REF_ETCDUTL.
func TestAgainstReference(t *testing.T) {
	ref := os.Getenv("CAIRN_REF_ETCDUTL")
	if ref == "" {
		t.Skip("set CAIRN_REF_ETCDUTL to compare with the reference etcdutl")
	}
	r := rand.New(rand.NewPCG(11, 12))
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	stores := edgeStores()
	for range rounds {
		stores = append(stores, randomStore(r))
	}
	for i, s := range stores {
		last := max(1, s.meta.FinishedCompact, s.meta.ScheduledCompact)
		if len(s.versions) > 0 {
			last = max(last, s.last())
		}
		r.Shuffle(len(s.versions), func(i, j int) { s.versions[i], s.versions[j] = s.versions[j], s.versions[i] })
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			dir := t.TempDir()
			var buf bytes.Buffer
			if _, err := snapshot.Write(&buf, s); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "snap.db")
			writeFile(t, path, buf.Bytes())
			// compare runs args, in which "{file}" is a copy of the
			// snapshot: the reference hashkv writes to the file it reads.
			compare := func(args ...string) {
				t.Helper()
				cp := filepath.Join(dir, "copy.db")
				writeFile(t, cp, buf.Bytes())
				full := make([]string, len(args))
				for i, a := range args {
					full[i] = strings.ReplaceAll(a, "{file}", cp)
				}
				var stdout, stderr bytes.Buffer
				code := Main(Options{Stdout: &stdout, Stderr: &stderr}, full)
				ours := result{stdout.String(), stderr.String(), code}
				cmd := exec.Command(ref, full...)
				stdout.Reset()
				stderr.Reset()
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				theirs := result{stdout: stdout.String(), stderr: stderr.String()}
				if ee, ok := err.(*exec.ExitError); ok {
					theirs.exit = ee.ExitCode()
				}
				if ours != theirs {
					t.Errorf("%v on %v:\n%s", args, s, diffResults(theirs, ours))
				}
			}
			for _, f := range []string{"simple", "json", "table", "fields"} {
				compare("snapshot", "status", "{file}", "-w", f)
			}
			for rev := int64(-1); rev <= last+1; rev++ {
				compare("hashkv", "{file}", "--rev", strconv.FormatInt(rev, 10), "-w", "json")
			}
		})
	}
}
