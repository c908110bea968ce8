package ctlv2

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairn-kv/cairn/internal/v2http"
	"github.com/cairn-kv/cairn/internal/v2store"
)

// fakeMember is a one-member "cluster" for the command tests: the real v2
// handlers over a real v2 store, with writes applied at once instead of
// through raft. It starts where a fresh etcd 3.5 member starts: etcd index
// 3 (the member added, its attributes published, the cluster version set).
type fakeMember struct {
	srv   *httptest.Server
	store *v2store.Store

	mu      sync.Mutex
	members []*pb.Member
	nextID  uint64
	health  string
}

const fakeMemberID = 0x8e9e05c52164694d

func newFakeMember(t testing.TB) *fakeMember {
	t.Helper()
	f := &fakeMember{store: v2store.New(), nextID: 0xf000000000000000, health: "true"}
	f.store.Record(nil, v2store.ActionCreate, "/0/members/8e9e05c52164694d/raftAttributes")
	f.store.Record(nil, v2store.ActionSet, "/0/members/8e9e05c52164694d/attributes")
	f.store.Record(nil, v2store.ActionSet, "/0/version")
	mux := http.NewServeMux()
	v2http.Register(mux, f)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		h := f.health
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"health": h, "reason": ""})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.members = []*pb.Member{{ID: fakeMemberID, Name: "m0", PeerURLs: []string{"http://127.0.0.1:2380"}, ClientURLs: []string{f.srv.URL}}}
	return f
}

func (f *fakeMember) URL() string { return f.srv.URL }

func (f *fakeMember) Store() *v2store.Store                      { return f.store }
func (f *fakeMember) ClusterID() uint64                          { return 0xcdf818194e3a8c32 }
func (f *fakeMember) MemberID() uint64                           { return fakeMemberID }
func (f *fakeMember) RaftStatus() (uint64, uint64)               { return 4, 2 }
func (f *fakeMember) LinearizableRead(ctx context.Context) error { return ctx.Err() }
func (f *fakeMember) Authenticate(*http.Request) (string, error) { return "", nil }
func (f *fakeMember) Permitted(string, []byte, []byte, bool) bool {
	return true
}
func (f *fakeMember) IsAdmin(string) bool   { return true }
func (f *fakeMember) Leader() uint64        { return fakeMemberID }
func (f *fakeMember) Done() <-chan struct{} { return nil }
func (f *fakeMember) SelfStats() any        { return map[string]string{"name": "m0"} }
func (f *fakeMember) LeaderStats() (any, bool) {
	return map[string]any{"leader": "8e9e05c52164694d", "followers": map[string]any{}}, true
}

func (f *fakeMember) ProposeV2(_ context.Context, _ string, req *v2store.Request) (*v2store.Event, error) {
	return f.store.Apply(nil, req)
}

func (f *fakeMember) Members(context.Context) ([]*pb.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*pb.Member, len(f.members))
	copy(out, f.members)
	return out, nil
}

func (f *fakeMember) AddMember(_ context.Context, peerURLs []string) (*pb.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		for _, u := range m.PeerURLs {
			for _, p := range peerURLs {
				if u == p {
					return nil, &v2http.HTTPError{Code: http.StatusConflict, Message: "membership: peerURL exists"}
				}
			}
		}
	}
	f.nextID++
	m := &pb.Member{ID: f.nextID, PeerURLs: peerURLs}
	f.members = append(f.members, m)
	return m, nil
}

func (f *fakeMember) RemoveMember(_ context.Context, id uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.members {
		if m.ID == id {
			f.members = append(f.members[:i:i], f.members[i+1:]...)
			return nil
		}
	}
	return &v2http.HTTPError{Code: http.StatusNotFound, Message: "No such member: " + idHex(id)}
}

func (f *fakeMember) UpdateMember(_ context.Context, id uint64, peerURLs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		if m.ID == id {
			m.PeerURLs = peerURLs
			return nil
		}
	}
	return &v2http.HTTPError{Code: http.StatusNotFound, Message: "No such member: " + idHex(id)}
}

var errFake = errors.New("fake: not supported")
