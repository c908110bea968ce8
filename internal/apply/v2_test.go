package apply

import (
	"reflect"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/v2store"
)

// TestV2RoundTrip: a v2 request survives the raft encoding next to the
// request's own fields, and requests without one report none.
func TestV2RoundTrip(t *testing.T) {
	exist := true
	want := &v2store.Request{Method: "PUT", Path: "/1/a", Val: "v", PrevExist: &exist, Expiration: 42}
	r, err := WithV2(&pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 7, Username: "u"}}, want)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back := &pb.InternalRaftRequest{}
	if err := proto.Unmarshal(data, back); err != nil {
		t.Fatal(err)
	}
	got, ok, err := V2Request(back)
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("V2Request = %+v, %v, %v", got, ok, err)
	}
	if back.Header.GetID() != 7 || back.Header.GetUsername() != "u" {
		t.Errorf("header lost: %v", back.Header)
	}
	if _, ok, err := V2Request(&pb.InternalRaftRequest{Put: &pb.PutRequest{Key: []byte("k")}}); ok || err != nil {
		t.Errorf("plain request reported a v2 request (%v, %v)", ok, err)
	}
}

// FuzzV2Request: no raft entry makes the decoder panic.
func FuzzV2Request(f *testing.F) {
	r, _ := WithV2(&pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: 1}}, &v2store.Request{Method: "SYNC", Time: 5})
	seed, _ := proto.Marshal(r)
	f.Add(seed)
	f.Add([]byte{0x12, 0x02, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &pb.InternalRaftRequest{}
		if proto.Unmarshal(data, req) != nil {
			return
		}
		_, _, _ = V2Request(req)
	})
}
