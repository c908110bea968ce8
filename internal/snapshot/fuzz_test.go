package snapshot

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

// smallSnapshot builds a snapshot in etcd's layout with 512-byte pages, so
// that it is a few kilobytes: a handful of versions, one big enough to
// overflow a page, and every other section of testSource.
func smallSnapshot(t testing.TB, withTrailer bool) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: 512, NoFreelistSync: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := testSource(rand.New(rand.NewPCG(9, 10)), 0)
	src.versions = []Version{
		{Main: 2, KV: &mvccpb.KeyValue{Key: []byte("a"), CreateRevision: 2, ModRevision: 2, Version: 1, Value: []byte("1")}},
		{Main: 3, KV: &mvccpb.KeyValue{Key: []byte("b"), CreateRevision: 3, ModRevision: 3, Version: 1, Value: bytes.Repeat([]byte("v"), 700), Lease: 0x1000}},
		{Main: 4, Tombstone: true, KV: &mvccpb.KeyValue{Key: []byte("a")}},
		{Main: 5, Sub: 1, KV: &mvccpb.KeyValue{Key: []byte("c"), CreateRevision: 5, ModRevision: 5, Version: 1}},
	}
	src.meta.FinishedCompact, src.meta.ScheduledCompact = 3, 3
	var buf bytes.Buffer
	err = db.Update(func(tx *bolt.Tx) error {
		if err := writeState(tx, src); err != nil {
			return err
		}
		for _, v := range src.versions {
			k, val, err := encodeVersion(v)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketKey).Put(k, val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&buf); return err }); err != nil {
		t.Fatal(err)
	}
	if withTrailer {
		sum := sha256.Sum256(buf.Bytes())
		buf.Write(sum[:])
	}
	return buf.Bytes()
}

// exercise opens data as a snapshot file and calls every reading method.
// It must never panic, whatever data holds.
func exercise(t *testing.T, data []byte) {
	for _, skip := range []bool{false, true} {
		f, err := open(bytes.NewReader(data), int64(len(data)), skip)
		if err != nil {
			continue
		}
		if !skip && len(data)%512 != hashSize {
			t.Errorf("open checked a hash on a file of %d bytes", len(data))
		}
		f.Versions(func(Version) error { return nil })
		f.Leases()
		f.Members()
		f.Auth()
		f.Meta()
		f.Alarms()
		if st, err := f.Status(); err == nil {
			f.HashKV(0)
			f.HashKV(st.Revision)
			f.HashKV(st.Revision - 2)
		}
	}
}

func TestSmallSnapshot(t *testing.T) {
	data := smallSnapshot(t, true)
	if len(data) > 8<<10 {
		t.Errorf("small snapshot is %d bytes", len(data))
	}
	path := filepath.Join(t.TempDir(), "snap.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f := openT(t, path, false)
	if got := len(versionsOf(t, f)); got != 4 {
		t.Errorf("%d versions, want 4", got)
	}
	if h, err := f.HashKV(0); err != nil || h.HashRevision != 5 || h.CompactRevision != 3 {
		t.Errorf("HashKV(0) = %+v, %v", h, err)
	}
}

// TestMutations damages a small snapshot at every byte, two ways, and
// reads what opens: a cheap sweep of what FuzzOpen explores at random.
func TestMutations(t *testing.T) {
	data := smallSnapshot(t, false)
	if testing.Short() {
		data = data[:1024]
	}
	for i := range data {
		for _, m := range []func(byte) byte{
			func(b byte) byte { return b ^ 0x01 },
			func(b byte) byte { return ^b },
		} {
			d := bytes.Clone(data)
			d[i] = m(d[i])
			exercise(t, d)
		}
	}
	for n := 0; n < len(data); n += 37 {
		exercise(t, data[:n])
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(smallSnapshot(f, true))
	f.Add(smallSnapshot(f, false))
	f.Add(smallSnapshot(f, false)[:1536])
	f.Add([]byte("hello\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		exercise(t, data)
	})
}
