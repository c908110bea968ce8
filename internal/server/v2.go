package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-kv/cairn/internal/apply"
	"github.com/cairn-kv/cairn/internal/auth"
	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/v2http"
	"github.com/cairn-kv/cairn/internal/v2store"
	"github.com/cairn-kv/cairn/internal/v3rpc"
)

// v2SyncInterval is how often the leader proposes a SYNC request while
// some v2 key has a TTL (etcd's interval).
const v2SyncInterval = 500 * time.Millisecond

// v2Member is the member's v2 side: the store (replicated whether or not
// --enable-v2 serves it) and what /v2/stats/self reports.
type v2Member struct {
	store   *v2store.Store
	started time.Time

	mu          sync.Mutex
	leader      uint64
	leaderSince time.Time
}

func openV2(db *pebble.DB) (*v2Member, error) {
	st, err := v2store.Load(db)
	if err != nil {
		return nil, err
	}
	return &v2Member{store: st, started: time.Now()}, nil
}

// v2Handler serves the v2 API when --enable-v2 is on.
func (s *Server) v2Handler() http.Handler {
	if !s.cfg.EnableV2 {
		return nil
	}
	mux := http.NewServeMux()
	v2http.Register(mux, v2Backend{s})
	return mux
}

// startV2Sync starts the leader's SYNC loop: expiry of v2 TTLs is decided
// by the leader's clock and applied through raft, so every member expires
// the same keys at the same index.
func (s *Server) startV2Sync() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(v2SyncInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-s.stopping:
				return
			}
			s.v2.noteLeader(s.node.Leader())
			if !s.node.IsLeader() || !s.v2.store.HasTTLKeys() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.reqTimeout)
			_, err := s.proposeV2(ctx, nil, &v2store.Request{Method: v2store.MethodSync, Time: time.Now().UnixNano()})
			cancel()
			if err != nil && !errors.Is(err, v3rpc.ErrStopped) {
				s.lg.Debug("v2 sync not applied", "error", err)
			}
		}
	}()
}

func (m *v2Member) noteLeader(lead uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if lead != m.leader {
		m.leader, m.leaderSince = lead, time.Now()
	}
}

// proposeV2 replicates a v2 request, carried in field 2 of an
// InternalRaftRequest with the usual ID and the requester in the header,
// and waits for the v2 store's answer. It mirrors propose, which answers
// protobuf messages only.
func (s *Server) proposeV2(ctx context.Context, info *auth.AuthInfo, req *v2store.Request) (*v2store.Event, error) {
	if s.node.CommitIndex() > s.node.Applied()+maxApplyGap {
		return nil, v3rpc.ErrTooManyRequests
	}
	id := s.ids.next()
	r := &pb.InternalRaftRequest{Header: &pb.RequestHeader{ID: id}}
	if info != nil {
		r.Header.Username, r.Header.AuthRevision = info.Username, info.Revision
	}
	if _, err := apply.WithV2(r, req); err != nil {
		return nil, err
	}
	data, err := proto.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(data) > int(s.cfg.MaxRequestBytes) {
		return nil, v3rpc.ErrRequestTooLarge
	}
	ch := s.wait.register(id)
	cctx, cancel := context.WithTimeout(ctx, s.reqTimeout)
	defer cancel()
	if err := s.node.Propose(cctx, data); err != nil {
		s.wait.cancel(id)
		return nil, s.proposeError(ctx, cctx, err)
	}
	select {
	case res := <-ch:
		return res.V2Event, res.Err
	case <-cctx.Done():
		s.wait.cancel(id)
		return nil, s.proposeError(ctx, cctx, cctx.Err())
	case <-s.stopping:
		return nil, v3rpc.ErrStopped
	}
}

// v2Backend is the member as the v2 handlers see it.
type v2Backend struct{ s *Server }

func (b v2Backend) Store() *v2store.Store        { return b.s.v2.store }
func (b v2Backend) ClusterID() uint64            { return b.s.clusterID }
func (b v2Backend) MemberID() uint64             { return b.s.memberID }
func (b v2Backend) Leader() uint64               { return b.s.node.Leader() }
func (b v2Backend) Done() <-chan struct{}        { return b.s.stopping }
func (b v2Backend) RaftStatus() (uint64, uint64) { return b.s.node.CommitIndex(), b.s.node.Term() }

func (b v2Backend) LinearizableRead(ctx context.Context) error { return b.s.linearizableWait(ctx) }

func (b v2Backend) ProposeV2(ctx context.Context, user string, req *v2store.Request) (*v2store.Event, error) {
	var info *auth.AuthInfo
	if user != "" {
		info = &auth.AuthInfo{Username: user, Revision: b.s.auth.Revision()}
	}
	return b.s.proposeV2(ctx, info, req)
}

// Authenticate reads HTTP basic auth and checks it against the v3 users.
func (b v2Backend) Authenticate(r *http.Request) (string, error) {
	if !b.s.auth.IsEnabled() {
		return "", nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", auth.ErrUserEmpty
	}
	if _, err := b.s.auth.CheckPassword(r.Context(), user, pass); err != nil {
		return "", err
	}
	return user, nil
}

func (b v2Backend) Permitted(user string, key, end []byte, write bool) bool {
	info := &auth.AuthInfo{Username: user, Revision: b.s.auth.Revision()}
	switch {
	case write && end == nil:
		return b.s.auth.IsPutPermitted(info, key) == nil
	case write:
		return b.s.auth.IsDeleteRangePermitted(info, key, end) == nil
	}
	return b.s.auth.IsRangePermitted(info, key, end) == nil
}

func (b v2Backend) IsAdmin(user string) bool {
	return b.s.auth.IsAdminPermitted(&auth.AuthInfo{Username: user, Revision: b.s.auth.Revision()}) == nil
}

func (b v2Backend) Members(context.Context) ([]*pb.Member, error) {
	var out []*pb.Member
	for _, m := range b.s.cluster.Members() {
		out = append(out, toPBMember(m))
	}
	return out, nil
}

// asRoot gives a call the identity the v3 methods check: the v2 handler
// has already required the root role.
func (b v2Backend) asRoot(ctx context.Context) context.Context {
	return withInternalUser(ctx, "root")
}

func (b v2Backend) AddMember(ctx context.Context, peerURLs []string) (*pb.Member, error) {
	m, err := b.s.MemberAdd(b.asRoot(ctx), peerURLs, false)
	return m, v2MemberError(err, 0)
}

func (b v2Backend) RemoveMember(ctx context.Context, id uint64) error {
	return v2MemberError(b.s.MemberRemove(b.asRoot(ctx), id), id)
}

func (b v2Backend) UpdateMember(ctx context.Context, id uint64, peerURLs []string) error {
	return v2MemberError(b.s.MemberUpdate(b.asRoot(ctx), id, peerURLs), id)
}

// v2MemberError gives membership failures etcd's v2 statuses and texts.
func v2MemberError(err error, id uint64) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, membership.ErrIDNotFound):
		return &v2http.HTTPError{Code: http.StatusNotFound, Message: "No such member: " + membership.IDString(id)}
	case errors.Is(err, membership.ErrIDRemoved):
		return &v2http.HTTPError{Code: http.StatusGone, Message: "Member permanently removed: " + membership.IDString(id)}
	case errors.Is(err, membership.ErrPeerURLExists), errors.Is(err, membership.ErrIDExists):
		return &v2http.HTTPError{Code: http.StatusConflict, Message: err.Error()}
	}
	return err
}

// SelfStats is /v2/stats/self.
func (b v2Backend) SelfStats() any {
	m := b.s.v2
	m.noteLeader(b.s.node.Leader())
	m.mu.Lock()
	lead, since := m.leader, m.leaderSince
	m.mu.Unlock()
	state := "StateFollower"
	if b.s.node.IsLeader() {
		state = "StateLeader"
	}
	type leaderInfo struct {
		Leader    string    `json:"leader"`
		Uptime    string    `json:"uptime"`
		StartTime time.Time `json:"startTime"`
	}
	return struct {
		Name      string     `json:"name"`
		ID        string     `json:"id"`
		State     string     `json:"state"`
		StartTime time.Time  `json:"startTime"`
		Leader    leaderInfo `json:"leaderInfo"`
		Recv      uint64     `json:"recvAppendRequestCnt"`
		Send      uint64     `json:"sendAppendRequestCnt"`
	}{
		Name: b.s.cfg.Name, ID: membership.IDString(b.s.memberID), State: state, StartTime: m.started.UTC(),
		Leader: leaderInfo{Leader: membership.IDString(lead), Uptime: time.Since(since).String(), StartTime: since.UTC()},
	}
}

// LeaderStats is /v2/stats/leader: the followers as the leader sees them.
func (b v2Backend) LeaderStats() (any, bool) {
	if !b.s.node.IsLeader() {
		return nil, false
	}
	type latency struct {
		Current float64 `json:"current"`
		Average float64 `json:"average"`
		StdDev  float64 `json:"standardDeviation"`
		Min     float64 `json:"minimum"`
		Max     float64 `json:"maximum"`
	}
	type counts struct {
		Fail    uint64 `json:"fail"`
		Success uint64 `json:"success"`
	}
	type follower struct {
		Latency latency `json:"latency"`
		Counts  counts  `json:"counts"`
	}
	followers := map[string]follower{}
	st := b.s.node.Status()
	for id := range st.Progress {
		if id == b.s.memberID {
			continue
		}
		followers[membership.IDString(id)] = follower{}
	}
	return struct {
		Leader    string              `json:"leader"`
		Followers map[string]follower `json:"followers"`
	}{membership.IDString(b.s.memberID), followers}, true
}
