package server

import (
	"time"

	"github.com/cairn-kv/cairn/internal/membership"
	"github.com/cairn-kv/cairn/internal/metrics"
	"github.com/cairn-kv/cairn/internal/version"
)

// newMetrics creates the member's metrics, reading sizes, revisions and raft
// progress when Prometheus scrapes.
func (s *Server) newMetrics() *metrics.Metrics {
	return metrics.New(metrics.Sources{
		DBSize:      func() float64 { return float64(s.eng.SizeBytes()) },
		DBSizeInUse: func() float64 { return float64(s.eng.LiveBytes()) },
		DBQuota:     func() float64 { return float64(s.quotaBytes()) },
		Keys:        func() float64 { return float64(s.kv.Keys()) },
		CurrentRev:  func() float64 { return float64(s.kv.Rev()) },
		CompactRev:  func() float64 { return float64(max(s.kv.CompactRev(), 0)) },
		Committed:   func() float64 { return float64(s.raftCommit()) },
		Applied:     func() float64 { return float64(s.raftApplied()) },
		Pending:     func() float64 { return float64(s.wait.pending()) },
		Watchers: func() float64 {
			total, _ := s.hub.Stats()
			return float64(total)
		},
		SlowWatchers: func() float64 {
			_, slow := s.hub.Stats()
			return float64(slow)
		},
		WatchStreams: func() float64 { return float64(s.hub.Streams()) },
		EventsSent: func() float64 {
			sent, _ := s.hub.Events()
			return float64(sent)
		},
		EventsPending: func() float64 {
			_, pending := s.hub.Events()
			return float64(pending)
		},
		PutBytes: func() float64 { return float64(s.kv.PutBytes()) },
		WALBytes: func() float64 {
			if s.logStore == nil {
				return 0
			}
			return float64(s.logStore.WrittenBytes())
		},
		IsLearner:    s.IsLearner,
		AuthRevision: func() float64 { return float64(s.auth.Revision()) },
		Peers:        s.knownPeers,
		ServerID:     membership.IDString(s.memberID),
		Version:      version.EtcdVersion,
		ClusterVer:   func() string { return s.cluster.Version() },
		Extensive:    s.cfg.Metrics == "extensive",
		Engine:       s.engineStats,
		V2Store:      s.v2StoreCounts,
	})
}

func (s *Server) engineStats() metrics.EngineStats {
	st := s.eng.Stats()
	return metrics.EngineStats{
		BlockCacheBytes:  float64(st.BlockCacheBytes),
		BlockCacheHits:   float64(st.BlockCacheHits),
		BlockCacheMisses: float64(st.BlockCacheMisses),
		MemTableBytes:    float64(st.MemTableBytes),
		L0Files:          float64(st.L0Files),
		Tables:           float64(st.Tables),
		Flushes:          float64(st.Flushes),
		Compactions:      float64(st.Compactions),
		ReadAmp:          float64(st.ReadAmp),
	}
}

func (s *Server) raftCommit() uint64 {
	if s.node == nil {
		return 0
	}
	return s.node.CommitIndex()
}

func (s *Server) raftApplied() uint64 {
	if s.node == nil {
		return 0
	}
	return s.node.Applied()
}

// observeRTT records a round trip to a peer.
func (s *Server) observeRTT(peer uint64, d time.Duration) {
	s.metrics.PeerRTT(membership.IDString(peer), d)
}

// observeSent, observeReceived, observeSendFailed and observeSnapshot count
// peer traffic under etcd's etcd_network_* names.
func (s *Server) observeSent(peer uint64, n int) {
	s.metrics.PeerTraffic(membership.IDString(peer), n, 0)
}

func (s *Server) observeReceived(peer uint64, n int) {
	s.metrics.PeerTraffic(membership.IDString(peer), 0, n)
}

func (s *Server) observeSendFailed(peer uint64, n int) {
	s.metrics.PeerSendFailed(membership.IDString(peer), n)
}

func (s *Server) observeSnapshot(peer uint64, sent bool) {
	s.metrics.Snapshot(membership.IDString(peer), sent)
}

// knownPeers lists the IDs of the members, this one included as etcd
// includes it, for etcd_network_known_peers.
func (s *Server) knownPeers() []string {
	var ids []string
	for _, m := range s.cluster.Members() {
		ids = append(ids, membership.IDString(m.ID))
	}
	return ids
}

func (s *Server) v2StoreCounts() metrics.V2StoreCounts {
	if s.v2 == nil { // scraped before the store opened
		return metrics.V2StoreCounts{}
	}
	return metrics.V2StoreCounts(s.v2.store.Counts())
}
