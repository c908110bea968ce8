package snapshot

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// randomBolt builds a bbolt database with the given page size: etcd's key
// and meta buckets, plus buckets of random entries, some large enough to
// overflow pages, some buckets small enough to be inline, one nested
// bucket, over several transactions so that pages are freed and reused.
func randomBolt(t testing.TB, r *rand.Rand, pageSize, keys int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: pageSize, NoFreelistSync: r.IntN(2) == 0, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names := []string{"key", "meta", "big", "small", "z"}
	for tx := 0; tx < 4; tx++ {
		err := db.Update(func(tx *bolt.Tx) error {
			for _, n := range names {
				b, err := tx.CreateBucketIfNotExists([]byte(n))
				if err != nil {
					return err
				}
				count := keys / 4
				if n == "small" {
					count = 2
				}
				for i := 0; i < count; i++ {
					k := fmt.Appendf(nil, "%08x", r.Uint32())
					size := r.IntN(64)
					if n == "big" && r.IntN(8) == 0 {
						size = pageSize * (1 + r.IntN(3))
					}
					v := make([]byte, size)
					for j := range v {
						v[j] = byte(r.Uint32())
					}
					if err := b.Put(k, v); err != nil {
						return err
					}
				}
				if n == "z" {
					nb, err := b.CreateBucketIfNotExists([]byte("nested"))
					if err != nil {
						return err
					}
					if err := nb.Put([]byte("in"), []byte("side")); err != nil {
						return err
					}
				}
				// Delete some entries to free pages.
				c := b.Cursor()
				for k, _ := c.First(); k != nil; k, _ = c.Next() {
					if k[0] == '0' {
						if err := c.Delete(); err != nil && err != bolt.ErrIncompatibleValue {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// boltView lists every bucket's entries as bbolt shows them, and the status
// hash computed from bbolt's view the way etcdutl computes it.
func boltView(t *testing.T, path string) (entries []string, hash uint32, size int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := crc32.New(castagnoli)
	err = db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			h.Write(name)
			return b.ForEach(func(k, v []byte) error {
				h.Write(k)
				h.Write(v)
				entries = append(entries, fmt.Sprintf("%s %x=%x", name, k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries, h.Sum32(), size
}

func readerView(t *testing.T, path string) (entries []string, hash uint32, size int64) {
	t.Helper()
	f := openT(t, path, true)
	err := f.db.buckets(func(b bucketRef) error {
		return f.db.forEach(b, func(k, v []byte, nested bool) error {
			if nested {
				v = nil // bbolt shows nested buckets with a nil value
			}
			entries = append(entries, fmt.Sprintf("%s %x=%x", b.name, k, v))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Status fails on this file's key bucket (its keys are not
	// revisions), so hash as Status does, without the key bucket checks.
	h := crc32.New(castagnoli)
	f.db.buckets(func(b bucketRef) error {
		h.Write([]byte(b.name))
		return f.db.forEach(b, func(k, v []byte, nested bool) error {
			h.Write(k)
			if !nested {
				h.Write(v)
			}
			return nil
		})
	})
	return entries, h.Sum32(), f.db.Size()
}

// TestReaderMatchesBbolt reads random bbolt databases of every page size
// with this package's reader and with bbolt.
func TestReaderMatchesBbolt(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, ps := range []int{512, 1024, 4096, 16384, 65536} {
		for _, keys := range []int{0, 10, 400} {
			t.Run(fmt.Sprintf("page=%d/keys=%d", ps, keys), func(t *testing.T) {
				path := randomBolt(t, r, ps, keys)
				want, wantHash, wantSize := boltView(t, path)
				got, gotHash, gotSize := readerView(t, path)
				if !slices.Equal(got, want) {
					t.Errorf("reader sees %d entries, bbolt %d, or they differ", len(got), len(want))
				}
				if gotHash != wantHash || gotSize != wantSize {
					t.Errorf("hash %08x size %d, bbolt gives %08x %d", gotHash, gotSize, wantHash, wantSize)
				}
			})
		}
	}
}

// TestReaderRawDB: a raw database file (no trailer, as in a copy of
// member/snap/db) opens with the hash check skipped.
func TestReaderRawDB(t *testing.T) {
	raw, err := os.ReadFile(compactedSnap)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(path, raw[:len(raw)-hashSize], 0o600); err != nil {
		t.Fatal(err)
	}
	f := openT(t, path, true)
	if f.HasHash() {
		t.Error("HasHash() = true for a raw database")
	}
	st, err := f.Status()
	if err != nil || st.Hash != 2348492915 {
		t.Errorf("Status() = %+v, %v", st, err)
	}
}
