package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// The files under testdata were written by the reference etcd 3.6.16 with
// `etcdctl snapshot save`:
//
//   - etcd-3.6.16-auth-leases.snap: one member (e1) with a learner
//     (learner2) and a removed learner; the history below, compacted at 5;
//     users root, u1 (roles r1, r2) and u2 (no password), roles r1 (readwrite
//     /app/ prefix, read [k1, k9)) and r2; auth enabled; two leases, one
//     attached to leased3.
//   - etcd-3.6.16-compacted.snap: the same cluster after both leases were
//     revoked (revision 21).
//   - etcd-3.6.16-nospace.snap: a new member (e3) with
//     --quota-backend-bytes=40000, two small and three 3000-byte values,
//     then a NOSPACE alarm; never compacted, auth never enabled.
//
// The expected values of Status and HashKV below are what the reference
// etcdutl printed for these files (`snapshot status -w json`, `hashkv
// --rev N`), except on the auth-leases file, where etcdutl hashkv panics
// ("no lessor to attach lease") and the values are those of the HashKV RPC
// of the member that took the snapshot.
const (
	authLeasesSnap = "testdata/etcd-3.6.16-auth-leases.snap"
	compactedSnap  = "testdata/etcd-3.6.16-compacted.snap"
	nospaceSnap    = "testdata/etcd-3.6.16-nospace.snap"
)

func openT(t *testing.T, path string, skipHashCheck bool) *File {
	t.Helper()
	f, err := Open(path, skipHashCheck)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// describe prints a version as "main_sub put key=value lease=ID" or
// "main_sub del key".
func describe(v Version) string {
	if v.Tombstone {
		return fmt.Sprintf("%d_%d del %q", v.Main, v.Sub, v.KV.Key)
	}
	s := fmt.Sprintf("%d_%d put %q=%q c=%d m=%d v=%d", v.Main, v.Sub, v.KV.Key, v.KV.Value,
		v.KV.CreateRevision, v.KV.ModRevision, v.KV.Version)
	if v.KV.Lease != 0 {
		s += fmt.Sprintf(" lease=%x", v.KV.Lease)
	}
	return s
}

func versionsOf(t *testing.T, f *File) []string {
	t.Helper()
	var got []string
	if err := f.Versions(func(v Version) error {
		got = append(got, describe(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEtcdSnapshotContent(t *testing.T) {
	f := openT(t, authLeasesSnap, false)
	if !f.HasHash() {
		t.Error("HasHash() = false for a file from the Snapshot RPC")
	}

	// Revisions 2 (foo=bar) and 1 were compacted away; 3_0 is foo's value
	// at the compaction, kept.
	want := []string{
		`3_0 put "foo"="bar2" c=2 m=3 v=2`,
		`4_0 put "a"="1" c=4 m=4 v=1`,
		`5_0 put "b"="2" c=5 m=5 v=1`,
		`6_0 del "a"`,
		`7_0 put "k\x01\xff"="v" c=7 m=7 v=1`,
		`8_0 put "empty"="" c=8 m=8 v=1`,
		`9_0 put "leased"="v" c=9 m=9 v=1 lease=3082a2304a0aaf0a`,
		`10_0 put "leased2"="v2" c=10 m=10 v=1 lease=3082a2304a0aaf0c`,
		`11_0 put "gone"="g" c=11 m=11 v=1`,
		`12_0 del "gone"`,
		`13_0 put "after-compact"="z" c=13 m=13 v=1`,
		`14_0 put "/app/x"="1" c=14 m=14 v=1`,
		`15_0 put "t1"="x" c=15 m=15 v=1`,
		`15_1 put "t2"="y" c=15 m=15 v=1`,
		`15_2 del "b"`,
		`16_0 put "foo"="bar3" c=2 m=16 v=3`,
		`17_0 del "leased"`,
		`18_0 del "leased2"`,
		`19_0 put "zz"="last" c=19 m=19 v=1`,
		`20_0 put "leased3"="v3" c=20 m=20 v=1 lease=3082a2304a0aaf66`,
	}
	if got := versionsOf(t, f); !slices.Equal(got, want) {
		t.Errorf("versions:\n got %q\nwant %q", got, want)
	}

	leases, err := f.Leases()
	if err != nil {
		t.Fatal(err)
	}
	wantLeases := []Lease{{ID: 0x3082a2304a0aaf66, TTL: 900}, {ID: 0x3082a2304a0aaf6a, TTL: 60}}
	if !slices.Equal(leases, wantLeases) {
		t.Errorf("leases = %+v, want %+v", leases, wantLeases)
	}

	members, removed, err := f.Members()
	if err != nil {
		t.Fatal(err)
	}
	gotMembers := fmt.Sprintf("%+v", members)
	wantMembers := "[{ID:13219820355344740482 Name:e1 PeerURLs:[http://127.0.0.1:23801] ClientURLs:[http://127.0.0.1:23791] IsLearner:false} " +
		"{ID:17179824972586857108 Name: PeerURLs:[http://127.0.0.1:23821] ClientURLs:[] IsLearner:true}]"
	if gotMembers != wantMembers {
		t.Errorf("members = %s\nwant %s", gotMembers, wantMembers)
	}
	if want := []uint64{0xe6260f0ee45481cd}; !slices.Equal(removed, want) {
		t.Errorf("removed = %x, want %x", removed, want)
	}

	a, err := f.Auth()
	if err != nil {
		t.Fatal(err)
	}
	if !a.Enabled || a.Revision != 11 {
		t.Errorf("auth enabled %v revision %d, want true 11", a.Enabled, a.Revision)
	}
	var users []string
	for _, u := range a.Users {
		users = append(users, fmt.Sprintf("%s roles=%s bcrypt=%v nopassword=%v",
			u.Name, u.Roles, strings.HasPrefix(string(u.Password), "$2a$10$"), u.GetOptions().GetNoPassword()))
	}
	wantUsers := []string{
		"root roles=[root] bcrypt=true nopassword=false",
		"u1 roles=[r1 r2] bcrypt=true nopassword=false",
		"u2 roles=[] bcrypt=false nopassword=true",
	}
	if !slices.Equal(users, wantUsers) {
		t.Errorf("users = %q, want %q", users, wantUsers)
	}
	wantRoles := []*authpb.Role{
		{Name: []byte("r1"), KeyPermission: []*authpb.Permission{
			{PermType: authpb.Permission_READWRITE, Key: []byte("/app/"), RangeEnd: []byte("/app0")},
			{PermType: authpb.Permission_READ, Key: []byte("k1"), RangeEnd: []byte("k9")},
		}},
		{Name: []byte("r2")},
	}
	if len(a.Roles) != len(wantRoles) {
		t.Fatalf("roles = %v, want %v", a.Roles, wantRoles)
	}
	for i := range wantRoles {
		if !proto.Equal(a.Roles[i], wantRoles[i]) {
			t.Errorf("role %d = %v, want %v", i, a.Roles[i], wantRoles[i])
		}
	}

	m, err := f.Meta()
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := Meta{
		ConsistentIndex: 76, Term: 2, ScheduledCompact: 5, FinishedCompact: 5,
		ConfState:      []byte(`{"voters":[13219820355344740482],"learners":[17179824972586857108],"auto_leave":false}`),
		StorageVersion: "3.6.0", ClusterVersion: "3.6.0",
	}
	if fmt.Sprintf("%+v", *m) != fmt.Sprintf("%+v", wantMeta) {
		t.Errorf("meta = %+v\nwant %+v", *m, wantMeta)
	}
	if alarms, err := f.Alarms(); err != nil || len(alarms) != 0 {
		t.Errorf("alarms = %v, %v; want none", alarms, err)
	}
}

func TestEtcdSnapshotNospace(t *testing.T) {
	f := openT(t, nospaceSnap, false)
	alarms, err := f.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 1 || alarms[0].MemberID != 0x3760a4ec3b84f7fa || alarms[0].Alarm != pb.AlarmType_NOSPACE {
		t.Errorf("alarms = %v, want NOSPACE on member 3760a4ec3b84f7fa", alarms)
	}
	a, err := f.Auth()
	if err != nil {
		t.Fatal(err)
	}
	// A new cluster has auth revision 1 and no authEnabled entry.
	if a.Enabled || a.Revision != 1 || len(a.Users)+len(a.Roles) != 0 {
		t.Errorf("auth = %+v, want revision 1 and nothing else", a)
	}
	m, err := f.Meta()
	if err != nil {
		t.Fatal(err)
	}
	if m.ScheduledCompact != 0 || m.FinishedCompact != 0 || m.ConsistentIndex != 19 {
		t.Errorf("meta = %+v", m)
	}
	if got := len(versionsOf(t, f)); got != 5 {
		t.Errorf("%d versions, want 5", got)
	}
}

func TestEtcdStatus(t *testing.T) {
	tests := []struct {
		path string
		want Status
	}{
		{authLeasesSnap, Status{Hash: 2831642564, Revision: 20, TotalKey: 9, TotalSize: 20480, Version: "3.6.0"}},
		{compactedSnap, Status{Hash: 2348492915, Revision: 21, TotalKey: 8, TotalSize: 20480, Version: "3.6.0"}},
		{nospaceSnap, Status{Hash: 1660002433, Revision: 6, TotalKey: 5, TotalSize: 45056, Version: "3.6.0"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := openT(t, tt.path, false).Status()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Status() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEtcdHashKV(t *testing.T) {
	type hk struct {
		rev  int64
		want HashKV
		err  error
	}
	compactedHashes := []hk{
		{0, HashKV{2006399747, 21, 5}, nil},
		{-1, HashKV{1084519789, -1, 5}, nil},
		{1, HashKV{}, ErrCompacted},
		{4, HashKV{}, ErrCompacted},
		{5, HashKV{2188992411, 5, 5}, nil},
		{6, HashKV{3078397159, 6, 5}, nil},
		{10, HashKV{4176299492, 10, 5}, nil},
		{16, HashKV{1101360956, 16, 5}, nil},
		{18, HashKV{2626423990, 18, 5}, nil},
		{19, HashKV{3981255397, 19, 5}, nil},
		{21, HashKV{2006399747, 21, 5}, nil},
		{22, HashKV{}, ErrFutureRev},
		{100, HashKV{}, ErrFutureRev},
	}
	tests := []struct {
		path   string
		hashes []hk
	}{
		{compactedSnap, compactedHashes},
		{authLeasesSnap, []hk{
			{0, HashKV{2263955084, 20, 5}, nil},
			{6, HashKV{3078397159, 6, 5}, nil},
			{7, HashKV{4262622578, 7, 5}, nil},
			{12, HashKV{742596074, 12, 5}, nil},
			{16, HashKV{1101360956, 16, 5}, nil},
			{19, HashKV{3981255397, 19, 5}, nil},
			{21, HashKV{}, ErrFutureRev},
		}},
		{nospaceSnap, []hk{
			{0, HashKV{2457683444, 6, -1}, nil},
			{1, HashKV{1084519789, 1, -1}, nil},
			{6, HashKV{2457683444, 6, -1}, nil},
			{7, HashKV{}, ErrFutureRev},
		}},
	}
	for _, tt := range tests {
		f := openT(t, tt.path, false)
		for _, h := range tt.hashes {
			t.Run(fmt.Sprintf("%s/rev=%d", filepath.Base(tt.path), h.rev), func(t *testing.T) {
				got, err := f.HashKV(h.rev)
				if !errors.Is(err, h.err) || got != h.want {
					t.Errorf("HashKV(%d) = %+v, %v; want %+v, %v", h.rev, got, err, h.want, h.err)
				}
			})
		}
	}
}

// TestEtcdEncoding checks that this package encodes every entry of etcd's
// file exactly as etcd did: key-values, leases, members, users and roles.
func TestEtcdEncoding(t *testing.T) {
	f := openT(t, authLeasesSnap, false)
	check := func(bucket []byte, encode func(k, v []byte) ([]byte, error)) {
		t.Helper()
		n := 0
		err := f.each(bucket, func(k, v []byte) error {
			n++
			got, err := encode(k, v)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, v) {
				t.Errorf("%s %q: encoded %q, etcd wrote %q", bucket, k, got, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("bucket %s is empty", bucket)
		}
	}
	check(bucketKey, func(k, v []byte) ([]byte, error) {
		main, sub, tomb, err := parseRevKey(k)
		if err != nil {
			return nil, err
		}
		var ver Version
		f.Versions(func(v Version) error {
			if v.Main == main && v.Sub == sub {
				ver = v
			}
			return nil
		})
		ek, ev, err := encodeVersion(ver)
		if !bytes.Equal(ek, k) || ver.Tombstone != tomb {
			t.Errorf("key %x encoded as %x", k, ek)
		}
		return ev, err
	})
	check(bucketLease, func(_, v []byte) ([]byte, error) {
		l, err := unmarshalLease(v)
		return marshalLease(l), err
	})
	check(bucketMembers, func(_, v []byte) ([]byte, error) {
		m, err := unmarshalMember(v)
		if err != nil {
			return nil, err
		}
		return marshalMember(m)
	})
	check(bucketAuthUsers, func(_, v []byte) ([]byte, error) {
		u := new(authpb.User)
		if err := proto.Unmarshal(v, u); err != nil {
			return nil, err
		}
		return proto.MarshalOptions{Deterministic: true}.Marshal(u)
	})
	check(bucketAuthRoles, func(_, v []byte) ([]byte, error) {
		r := new(authpb.Role)
		if err := proto.Unmarshal(v, r); err != nil {
			return nil, err
		}
		return proto.MarshalOptions{Deterministic: true}.Marshal(r)
	})
}

// damaged writes a copy of the file at path, changed by edit, to a
// temporary file and returns its path.
func damaged(t *testing.T, path string, edit func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "snap.db")
	if err := os.WriteFile(out, edit(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenRefuses(t *testing.T) {
	const trailer = hashSize
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte {
			b[at] ^= 0xff
			return b
		}
	}
	tests := []struct {
		name string
		edit func([]byte) []byte
		skip bool
		// want is matched with errors.Is, text with the error's text.
		want error
		text string
	}{
		{name: "no trailer", edit: func(b []byte) []byte { return b[:len(b)-trailer] },
			want: ErrMissingHash, text: "snapshot missing hash but --skip-hash-check=false"},
		{name: "bad trailer", edit: flip(20480 + 20), want: ErrHashMismatch,
			text: "expected sha256 [89 243 118 184 140 253 108 208 162 31 102 42 153 188 91 247 249 58 224 182 10 215 190 241 30 77 171 133 71 141 65 23], got [89 243 118 184 140 253 108 208 162 31 102 42 153 188 91 247 249 58 224 182 245 215 190 241 30 77 171 133 71 141 65 23]"},
		{name: "changed data", edit: flip(12345), want: ErrHashMismatch},
		{name: "truncated", edit: func(b []byte) []byte { return b[:10000] }, want: ErrMissingHash},
		{name: "truncated keeping a trailer's size", edit: func(b []byte) []byte { return b[:16384+trailer] }, want: ErrHashMismatch},
		{name: "truncated, hash check skipped", edit: func(b []byte) []byte { return b[:16384+trailer] }, skip: true,
			want: ErrTruncated, text: "snapshot file is truncated: the database needs 20480 bytes (5 pages of 4096), the file holds 16384"},
		{name: "empty", edit: func([]byte) []byte { return nil }, want: ErrMissingHash},
		{name: "empty, hash check skipped", edit: func([]byte) []byte { return nil }, skip: true, want: ErrInvalid, text: "invalid database"},
		{name: "text", edit: func([]byte) []byte { return []byte("hello\n") }, skip: true, want: ErrInvalid},
		{name: "both metas damaged", edit: func(b []byte) []byte { b[16+20]++; b[4096+16+20]++; return b }, skip: true,
			want: ErrChecksum, text: "checksum error"},
		{name: "other bbolt version", edit: func(b []byte) []byte { b[16+4] = 1; b[4096+16+4] = 1; return b }, skip: true,
			want: ErrVersionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := damaged(t, compactedSnap, tt.edit)
			f, err := Open(path, tt.skip)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded, want %v", tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open: %v, want %v", err, tt.want)
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("Open: %q\nwant %q", err, tt.text)
			}
		})
	}
}

// TestOpenDamagedMeta: bbolt falls back on the other meta page when one is
// damaged, and so does Open, even for meta page 0, which gives the page size.
func TestOpenDamagedMeta(t *testing.T) {
	for _, page := range []int{0, 1} {
		t.Run(fmt.Sprint("meta", page), func(t *testing.T) {
			path := damaged(t, compactedSnap, func(b []byte) []byte {
				b[page*4096+16+30]++ // the root page
				return b
			})
			got, err := openT(t, path, true).Status()
			if err != nil {
				t.Fatal(err)
			}
			if got.Hash != 2348492915 {
				t.Errorf("Status() = %+v, want the hash of the undamaged file", got)
			}
		})
	}
}

// TestCorruptPages: damage inside the tree is found when it is read, as an
// error wrapping ErrCorrupt.
func TestCorruptPages(t *testing.T) {
	// Page 3 is the root of the bucket of buckets in this file; its
	// buckets are inline, so every entry lives on that page.
	tests := []struct {
		name string
		edit func(b []byte)
	}{
		{"page id", func(b []byte) { b[3*4096] = 9 }},
		{"page type", func(b []byte) { b[3*4096+8] = 0x10 }},
		{"element count", func(b []byte) { b[3*4096+10], b[3*4096+11] = 0xff, 0xff }},
		{"element offset", func(b []byte) { b[3*4096+16+16*3+4+3] = 0x7f }},
		{"key order", func(b []byte) {
			// Swap the first letters of two bucket names.
			i := bytes.Index(b[3*4096:4*4096], []byte("alarm")) + 3*4096
			j := bytes.Index(b[3*4096:4*4096], []byte("meta")) + 3*4096
			b[i], b[j] = b[j], b[i]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := damaged(t, compactedSnap, func(b []byte) []byte { tt.edit(b); return b })
			f, err := Open(path, true)
			if err == nil {
				_, err = f.Status()
				f.Close()
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want an error wrapping ErrCorrupt", err)
			}
		})
	}
}
