package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairn-kv/cairn/internal/membership"
)

// Corruption checks compare the hash of the key-value history (HashKV, which
// does not depend on how far each member's background compaction got) at
// one revision across members. Members that applied the same log agree; a
// member that does not holds damaged data.
//
//   - At start (--feature-gates=InitialCorruptCheck=true), a member compares
//     itself with its peers before it serves clients and refuses to start
//     on a mismatch.
//   - Periodically (--corrupt-check-time) and after each compaction
//     (--feature-gates=CompactHashCheck=true, every
//     --compact-hash-check-time), the leader compares all members and
//     raises the CORRUPT alarm for each member whose hash differs from a
//     majority's; without a majority it blames the members that differ
//     from itself, as etcd does. The alarm stops the cluster's writes
//     until an operator repairs the member and disarms it.

// peerHashTimeout bounds one peer's answer to a hash request.
const peerHashTimeout = 5 * time.Second

// ErrDataInconsistency is the start failure of the initial check.
var errDataInconsistency = errors.New("found data inconsistency with peers")

// PeerHashKV implements transport.Handler.
func (h peerHandler) PeerHashKV(_ context.Context, rev int64) (*pb.HashKVResponse, error) {
	hash, compact, hashRev, err := h.s.kv.HashKV(rev)
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &pb.HashKVResponse{
		Header:          &pb.ResponseHeader{ClusterId: h.s.clusterID, MemberId: h.s.memberID, Revision: h.s.kv.Rev()},
		Hash:            hash,
		CompactRevision: max(compact, 0),
		HashRevision:    hashRev,
	}, nil
}

// memberHash is one member's hash at a revision.
type memberHash struct {
	id      uint64
	hash    uint32
	compact int64
}

// peerHashes asks every other member for its hash at rev. Members that
// cannot answer (unreachable, behind rev, or compacted past it) are left
// out, with a log line.
func (s *Server) peerHashes(ctx context.Context, rev int64) []memberHash {
	var out []memberHash
	for _, m := range s.cluster.Members() {
		if m.ID == s.memberID {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, peerHashTimeout)
		resp, err := s.transport.HashKV(cctx, m.ID, rev)
		cancel()
		if err != nil {
			s.lg.Warn("cannot fetch hash from peer", "peer", membership.IDString(m.ID), "revision", rev, "error", err)
			continue
		}
		out = append(out, memberHash{id: m.ID, hash: resp.Hash, compact: resp.CompactRevision})
	}
	return out
}

// localHash is this member's hash at rev (0: now).
func (s *Server) localHash(rev int64) (memberHash, int64, error) {
	hash, compact, hashRev, err := s.kv.HashKV(rev)
	if err != nil {
		return memberHash{}, 0, err
	}
	return memberHash{id: s.memberID, hash: hash, compact: max(compact, 0)}, hashRev, nil
}

// initialCorruptCheck compares this member with its peers before it serves
// clients.
func (s *Server) initialCorruptCheck(ctx context.Context) error {
	self, rev, err := s.localHash(0)
	if err != nil {
		return err
	}
	s.lg.Info("starting initial corruption check", "revision", rev, "hash", self.hash, "compact-revision", self.compact)
	mismatch := false
	for _, p := range s.peerHashes(ctx, rev) {
		switch {
		case p.compact != self.compact:
			s.lg.Warn("cannot compare hash with peer: compaction revisions differ", "peer", membership.IDString(p.id),
				"revision", rev, "compact-revision", self.compact, "peer-compact-revision", p.compact)
		case p.hash != self.hash:
			s.lg.Error("hash differs from peer's", "peer", membership.IDString(p.id), "revision", rev,
				"hash", self.hash, "peer-hash", p.hash, "compact-revision", self.compact)
			mismatch = true
		}
	}
	if mismatch {
		return fmt.Errorf("%s %w", membership.IDString(s.memberID), errDataInconsistency)
	}
	s.lg.Info("initial corruption check passed; no corruption", "revision", rev)
	return nil
}

// corrupted picks the members whose hash is wrong among hashes taken at one
// revision with one compaction revision: those outside a majority of the
// voters when one agrees, else those that differ from the leader's (the
// first entry).
func corrupted(hashes []memberHash, voters int) []uint64 {
	counts := map[uint32]int{}
	for _, h := range hashes {
		counts[h.hash]++
	}
	if len(counts) <= 1 {
		return nil
	}
	good := hashes[0].hash
	for h, n := range counts {
		if n > voters/2 {
			good = h
		}
	}
	var bad []uint64
	for _, h := range hashes {
		if h.hash != good {
			bad = append(bad, h.id)
		}
	}
	return bad
}

// checkHashesAt compares all members at rev (0: the current revision) and
// raises the CORRUPT alarm for the corrupted ones. Leader only.
func (s *Server) checkHashesAt(ctx context.Context, rev int64) error {
	self, rev, err := s.localHash(rev)
	if err != nil {
		return err
	}
	hashes := []memberHash{self}
	for _, p := range s.peerHashes(ctx, rev) {
		if p.compact != self.compact {
			continue // compacted at another revision: not comparable
		}
		hashes = append(hashes, p)
	}
	for _, id := range corrupted(hashes, len(s.cluster.Voters())) {
		s.lg.Error("found corrupted member: its hash differs", "member", membership.IDString(id), "revision", rev)
		req := &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: id, Alarm: pb.AlarmType_CORRUPT}
		if _, err := s.propose(ctx, &pb.InternalRaftRequest{Alarm: req}); err != nil {
			return fmt.Errorf("raise CORRUPT alarm for %s: %w", membership.IDString(id), err)
		}
	}
	return nil
}

// startCorruptChecks starts the leader's checks that the configuration
// asks for.
func (s *Server) startCorruptChecks() {
	var compactPeriod time.Duration
	if s.cfg.CompactHashCheck {
		compactPeriod = s.cfg.CompactHashCheckTime
	}
	if s.cfg.CorruptCheckTime <= 0 && compactPeriod <= 0 {
		return
	}
	s.wg.Add(1)
	go s.runCorruptChecks(s.cfg.CorruptCheckTime, compactPeriod)
}

// runCorruptChecks runs the leader's periodic checks until the server
// stops: every period (0: never) at the current revision, and every
// compactPeriod (0: never) at the newest compaction revision when it moved.
func (s *Server) runCorruptChecks(period, compactPeriod time.Duration) {
	defer s.wg.Done()
	tick := func(d time.Duration) <-chan time.Time {
		if d <= 0 {
			return nil
		}
		return time.Tick(d)
	}
	periodic, compacted := tick(period), tick(compactPeriod)
	var lastCompact int64
	for {
		var rev int64
		select {
		case <-s.stopping:
			return
		case <-periodic:
		case <-compacted:
			rev = s.kv.CompactRev()
			if rev <= 0 || rev == lastCompact {
				continue
			}
			lastCompact = rev
		}
		if !s.node.IsLeader() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*peerHashTimeout)
		if err := s.checkHashesAt(ctx, rev); err != nil {
			s.lg.Warn("corruption check failed", "revision", rev, "error", err)
		}
		cancel()
	}
}
