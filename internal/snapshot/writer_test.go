package snapshot

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// fakeSource is a Source held in memory.
type fakeSource struct {
	versions []Version
	leases   []Lease
	members  []Member
	removed  []uint64
	auth     *Auth
	meta     *Meta
	alarms   []*pb.AlarmMember
	// failAt makes Versions fail after that many versions, when positive.
	failAt int
}

var errSourceFailed = errors.New("source failed")

func (s *fakeSource) Versions(fn func(Version) error) error {
	for i, v := range s.versions {
		if s.failAt > 0 && i == s.failAt {
			return errSourceFailed
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
func (s *fakeSource) Leases() ([]Lease, error)              { return s.leases, nil }
func (s *fakeSource) Members() ([]Member, []uint64, error)  { return s.members, s.removed, nil }
func (s *fakeSource) Auth() (*Auth, error)                  { return s.auth, nil }
func (s *fakeSource) Meta() (*Meta, error)                  { return s.meta, nil }
func (s *fakeSource) Alarms() ([]*pb.AlarmMember, error)    { return s.alarms, nil }
func (s *fakeSource) shuffle(r *rand.Rand) *fakeSource      { r.Shuffle(len(s.versions), s.swap); return s }
func (s *fakeSource) swap(i, j int)                         { s.versions[i], s.versions[j] = s.versions[j], s.versions[i] }
func (s *fakeSource) withVersions(vs []Version) *fakeSource { c := *s; c.versions = vs; return &c }
func (s *fakeSource) withFailure(at int) *fakeSource        { c := *s; c.failAt = at; return &c }
func (s *fakeSource) withAuth(a *Auth) *fakeSource          { c := *s; c.auth = a; return &c }
func (s *fakeSource) withMeta(m *Meta) *fakeSource          { c := *s; c.meta = m; return &c }
func (s *fakeSource) withMembers(ms []Member) *fakeSource   { c := *s; c.members = ms; return &c }
func (s *fakeSource) withLeases(ls []Lease) *fakeSource     { c := *s; c.leases = ls; return &c }
func (s *fakeSource) withRemoved(ids []uint64) *fakeSource  { c := *s; c.removed = ids; return &c }
func (s *fakeSource) withAlarms(as []*pb.AlarmMember) *fakeSource {
	c := *s
	c.alarms = as
	return &c
}

// history makes n revisions of puts and deletes over a few keys, some in
// multi-operation transactions, each a version as etcd would store it.
func history(r *rand.Rand, n int) []Version {
	type state struct{ create, version int64 }
	keys := map[string]*state{}
	var vs []Version
	for main := int64(2); main < int64(n)+2; main++ {
		ops := 1 + r.IntN(3)
		used := map[string]bool{}
		for sub := int64(0); sub < int64(ops); sub++ {
			k := fmt.Sprintf("k%03d\x00%c", r.IntN(40), 'a'+r.IntN(3))
			if used[k] {
				continue
			}
			used[k] = true
			st := keys[k]
			if st != nil && r.IntN(4) == 0 {
				delete(keys, k)
				vs = append(vs, Version{Main: main, Sub: int64(len(used) - 1), Tombstone: true, KV: &mvccpb.KeyValue{Key: []byte(k)}})
				continue
			}
			if st == nil {
				st = &state{create: main}
				keys[k] = st
			}
			st.version++
			kv := &mvccpb.KeyValue{Key: []byte(k), CreateRevision: st.create, ModRevision: main, Version: st.version,
				Value: bytes.Repeat([]byte{byte(main)}, r.IntN(300))}
			if r.IntN(5) == 0 {
				kv.Lease = 0x1000 + int64(r.IntN(3))
			}
			vs = append(vs, Version{Main: main, Sub: int64(len(used) - 1), KV: kv})
		}
	}
	return vs
}

func testSource(r *rand.Rand, n int) *fakeSource {
	return &fakeSource{
		versions: history(r, n),
		leases:   []Lease{{ID: 0x1000, TTL: 60}, {ID: 0x1001, TTL: 3600, RemainingTTL: 1200}, {ID: 0x1002, TTL: 5}},
		members: []Member{
			{ID: 0x0a, Name: "m-a", PeerURLs: []string{"http://10.0.0.1:2380"}, ClientURLs: []string{"http://10.0.0.1:2379", "http://10.0.0.2:2379"}},
			{ID: 0xfedcba9876543210, PeerURLs: []string{"https://10.0.0.3:2380"}, IsLearner: true},
		},
		removed: []uint64{0x1234, 0xffffffffffffffff},
		auth: &Auth{Enabled: true, Revision: 42,
			Users: []*authpb.User{
				{Name: []byte("alice"), Password: []byte("$2a$10$x"), Roles: []string{"r"}, Options: &authpb.UserAddOptions{}},
				{Name: []byte("root"), Roles: []string{"root"}, Options: &authpb.UserAddOptions{NoPassword: true}},
			},
			Roles: []*authpb.Role{{Name: []byte("r"), KeyPermission: []*authpb.Permission{
				{PermType: authpb.Permission_WRITE, Key: []byte("a"), RangeEnd: []byte("b")},
			}}},
		},
		meta: &Meta{ConsistentIndex: 99, Term: 7, ScheduledCompact: 12, FinishedCompact: 10,
			ConfState: []byte(`{"voters":[10],"auto_leave":false}`), StorageVersion: "3.6.0", ClusterVersion: "3.6.0"},
		alarms: []*pb.AlarmMember{{MemberID: 10, Alarm: pb.AlarmType_NOSPACE}},
	}
}

// writeFile writes src with wr to a file and returns its path and the hash
// Write returned.
func writeFile(t *testing.T, wr *Writer, src Source) (string, [32]byte) {
	t.Helper()
	var buf bytes.Buffer
	sha, err := wr.Write(&buf, src)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	path := filepath.Join(t.TempDir(), "snap.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, sha
}

// contents is everything a File holds, printed for comparison.
func contents(t *testing.T, f *File) string {
	t.Helper()
	var b bytes.Buffer
	err := f.Versions(func(v Version) error {
		fmt.Fprintf(&b, "%d_%d %v %v\n", v.Main, v.Sub, v.Tombstone, v.KV)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := f.Leases()
	if err != nil {
		t.Fatal(err)
	}
	ms, removed, err := f.Members()
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Auth()
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Meta()
	if err != nil {
		t.Fatal(err)
	}
	as, err := f.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "leases %+v\nmembers %+v\nremoved %x\nauth %v %d %v %v\nmeta %+v %s\nalarms %v\n",
		ls, ms, removed, a.Enabled, a.Revision, a.Users, a.Roles, *m, m.ConfState, as)
	return b.String()
}

// sourceContents prints a Source the way contents prints a File.
func sourceContents(t *testing.T, s *fakeSource) string {
	t.Helper()
	vs := slices.Clone(s.versions)
	slices.SortFunc(vs, func(a, b Version) int {
		if a.Main != b.Main {
			return int(a.Main - b.Main)
		}
		return int(a.Sub - b.Sub)
	})
	var b bytes.Buffer
	for _, v := range vs {
		fmt.Fprintf(&b, "%d_%d %v %v\n", v.Main, v.Sub, v.Tombstone, v.KV)
	}
	a := s.auth
	if a == nil {
		a = &Auth{}
	}
	m := s.meta
	if m == nil {
		m = &Meta{}
	}
	ls := slices.Clone(s.leases)
	slices.SortFunc(ls, func(a, b Lease) int { return cmp.Compare(uint64(a.ID), uint64(b.ID)) })
	fmt.Fprintf(&b, "leases %+v\nmembers %+v\nremoved %x\nauth %v %d %v %v\nmeta %+v %s\nalarms %v\n",
		ls, s.members, s.removed, a.Enabled, a.Revision, a.Users, a.Roles, *m, m.ConfState, s.alarms)
	return b.String()
}

func TestWriteRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name  string
		wr    Writer
		src   *fakeSource
		check func(t *testing.T, tmp string)
	}{
		{name: "in order, one batch", src: testSource(r, 200)},
		{name: "in order, many batches", wr: Writer{BatchBytes: 2000}, src: testSource(r, 200)},
		{name: "shuffled, one batch", src: testSource(r, 200).shuffle(r)},
		{name: "shuffled, many runs", wr: Writer{BatchBytes: 3000}, src: testSource(r, 300).shuffle(r)},
		{name: "nothing", src: &fakeSource{}},
		{name: "empty sections", src: &fakeSource{auth: &Auth{Revision: 1}, meta: &Meta{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			tt.wr.TempDir = tmp
			path, sha := writeFile(t, &tt.wr, tt.src)

			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw)%512 != hashSize {
				t.Errorf("file size %d: want a multiple of 512 plus the trailer", len(raw))
			}
			if want := sha256.Sum256(raw[:len(raw)-hashSize]); sha != want || !bytes.Equal(raw[len(raw)-hashSize:], want[:]) {
				t.Errorf("Write returned %x, trailer %x, want %x", sha, raw[len(raw)-hashSize:], want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("Write left %v in its temporary directory", left)
			}

			f := openT(t, path, false)
			want := sourceContents(t, tt.src)
			if got := contents(t, f); got != want {
				t.Errorf("read back:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// fileSource is a Source that reads a snapshot file (File has every method
// of Source, and Alarms).
type fileSource struct{ *File }

// TestRewriteEtcd writes each of etcd's snapshots again from what Open reads
// of it: every bucket comes out with the same entries, so the status hash
// (over every key and value of every bucket) and HashKV are etcd's.
func TestRewriteEtcd(t *testing.T) {
	for _, path := range []string{authLeasesSnap, compactedSnap, nospaceSnap} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig := openT(t, path, false)
			copyPath, _ := writeFile(t, &Writer{BatchBytes: 500}, fileSource{orig})
			cp := openT(t, copyPath, false)

			want, err := orig.Status()
			if err != nil {
				t.Fatal(err)
			}
			got, err := cp.Status()
			if err != nil {
				t.Fatal(err)
			}
			want.TotalSize = got.TotalSize // page layout is bbolt's business
			if got != want {
				t.Errorf("Status() of the copy = %+v, want %+v", got, want)
			}
			for rev := int64(-1); rev <= want.Revision+1; rev++ {
				w, werr := orig.HashKV(rev)
				g, gerr := cp.HashKV(rev)
				if g != w || !errors.Is(gerr, werr) {
					t.Errorf("HashKV(%d) of the copy = %+v, %v; want %+v, %v", rev, g, gerr, w, werr)
				}
			}
			if c, o := contents(t, cp), contents(t, orig); c != o {
				t.Errorf("copy reads\n%s\nwant\n%s", c, o)
			}
		})
	}
}

// TestWriteBbolt opens a written file with bbolt itself: it passes bbolt's
// consistency check and bbolt sees what the reader sees.
func TestWriteBbolt(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	path, _ := writeFile(t, &Writer{BatchBytes: 4000}, testSource(r, 300).shuffle(r))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(dbPath, raw[:len(raw)-hashSize], 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(dbPath, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := openT(t, path, false)
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		if got, want := f.db.Size(), tx.Size(); got != want {
			t.Errorf("size %d, bbolt says %d", got, want)
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			var want, got []string
			b.ForEach(func(k, v []byte) error {
				want = append(want, fmt.Sprintf("%x=%x", k, v))
				return nil
			})
			if err := f.each(name, func(k, v []byte) error {
				got = append(got, fmt.Sprintf("%x=%x", k, v))
				return nil
			}); err != nil {
				return err
			}
			if !slices.Equal(got, want) {
				t.Errorf("bucket %s: reader sees %d entries, bbolt %d, or they differ", name, len(got), len(want))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefuses(t *testing.T) {
	put := func(main, sub int64, key string) Version {
		return Version{Main: main, Sub: sub, KV: &mvccpb.KeyValue{Key: []byte(key), ModRevision: main}}
	}
	del := func(main, sub int64, key string) Version {
		return Version{Main: main, Sub: sub, Tombstone: true, KV: &mvccpb.KeyValue{Key: []byte(key)}}
	}
	many := func(extra ...Version) []Version {
		var vs []Version
		for i := int64(2); i < 100; i++ {
			vs = append(vs, put(i, 0, "k"))
		}
		return append(vs, extra...)
	}
	base := &fakeSource{}
	tests := []struct {
		name string
		wr   Writer
		src  Source
		want string
	}{
		{"same revision twice", Writer{}, base.withVersions([]Version{put(2, 0, "a"), put(2, 0, "b")}), "two versions at revision 2_0"},
		{"put and delete at one revision", Writer{}, base.withVersions([]Version{put(3, 1, "a"), del(3, 1, "b")}), "two versions at revision 3_1"},
		{"repeat in a later run", Writer{BatchBytes: 500}, base.withVersions(many(put(50, 0, "x"))), "two versions at revision 50_0"},
		{"repeat across runs", Writer{BatchBytes: 500}, base.withVersions(append([]Version{put(70, 0, "x")}, many(put(10, 0, "y"))...)), "two versions at revision"},
		{"no key", Writer{}, base.withVersions([]Version{{Main: 2, KV: &mvccpb.KeyValue{}}}), "version 2_0 has no key"},
		{"no key-value", Writer{}, base.withVersions([]Version{{Main: 2}}), "version 2_0 has no key"},
		{"revision 0", Writer{}, base.withVersions([]Version{put(0, 0, "a")}), "invalid revision 0_0"},
		{"source error", Writer{}, base.withVersions(many()).withFailure(5), errSourceFailed.Error()},
		{"user without a name", Writer{}, base.withAuth(&Auth{Users: []*authpb.User{{}}}), "a user without a name"},
		{"role without a name", Writer{}, base.withAuth(&Auth{Roles: []*authpb.Role{{}}}), "a role without a name"},
		{"same lease twice", Writer{}, base.withLeases([]Lease{{ID: 1}, {ID: 1}}), `duplicate lease entry`},
		{"same member twice", Writer{}, base.withMembers([]Member{{ID: 1}, {ID: 1}}), `duplicate members entry "1"`},
		{"same removed member twice", Writer{}, base.withRemoved([]uint64{2, 2}), `duplicate members_removed entry "2"`},
		{"empty alarm", Writer{}, base.withAlarms([]*pb.AlarmMember{{}}), "an empty alarm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			tt.wr.TempDir = tmp
			var buf bytes.Buffer
			_, err := tt.wr.Write(&buf, tt.src)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Errorf("Write: %v, want an error containing %q", err, tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("Write left %v in its temporary directory", left)
			}
		})
	}
}

var errDiskFull = errors.New("disk full")

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteOutputError(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 100, 8192} {
		if _, err := Write(&failingWriter{n: n}, testSource(r, 20)); !errors.Is(err, errDiskFull) {
			t.Errorf("Write to a writer failing after %d bytes: %v, want disk full", n, err)
		}
	}
}

func TestWriteNilMeta(t *testing.T) {
	path, _ := writeFile(t, &Writer{}, (&fakeSource{}).withMeta(nil))
	m, err := openT(t, path, false).Meta()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*m) != fmt.Sprint(Meta{}) {
		t.Errorf("meta = %+v, want zero", m)
	}
}
