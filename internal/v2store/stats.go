package v2store

import (
	"encoding/json"
	"sync/atomic"
)

// Stats counts this member's store operations (/v2/stats/store and the
// etcd_debugging_store_* metrics). They are the member's own and are not
// replicated or persisted. Gets count non-recursive reads only, recursive
// ones are apart: the metrics tell the two apart, the stats add them up.
type Stats struct {
	GetSuccess, GetFail                           atomic.Uint64
	RecursiveGetSuccess, RecursiveGetFail         atomic.Uint64
	SetSuccess, SetFail                           atomic.Uint64
	DeleteSuccess, DeleteFail                     atomic.Uint64
	UpdateSuccess, UpdateFail                     atomic.Uint64
	CreateSuccess, CreateFail                     atomic.Uint64
	CompareAndSwapSuccess, CompareAndSwapFail     atomic.Uint64
	CompareAndDeleteSuccess, CompareAndDeleteFail atomic.Uint64
	ExpireCount                                   atomic.Uint64
	WatchRequests                                 atomic.Uint64
}

func (st *Stats) inc(c *atomic.Uint64) { c.Add(1) }

func (st *Stats) countGet(err *Error, recursive bool) {
	if recursive {
		st.count(err, &st.RecursiveGetSuccess, &st.RecursiveGetFail)
	} else {
		st.count(err, &st.GetSuccess, &st.GetFail)
	}
}

func (st *Stats) count(err *Error, ok, fail *atomic.Uint64) {
	if err != nil {
		fail.Add(1)
	} else {
		ok.Add(1)
	}
}

// StatsJSON is /v2/stats/store's body, with etcd's field names and order.
func (s *Store) StatsJSON() []byte {
	st := &s.stats
	s.hub.mu.Lock()
	watchers := s.hub.count
	s.hub.mu.Unlock()
	b, _ := json.Marshal(struct {
		GetSuccess              uint64 `json:"getsSuccess"`
		GetFail                 uint64 `json:"getsFail"`
		SetSuccess              uint64 `json:"setsSuccess"`
		SetFail                 uint64 `json:"setsFail"`
		DeleteSuccess           uint64 `json:"deleteSuccess"`
		DeleteFail              uint64 `json:"deleteFail"`
		UpdateSuccess           uint64 `json:"updateSuccess"`
		UpdateFail              uint64 `json:"updateFail"`
		CreateSuccess           uint64 `json:"createSuccess"`
		CreateFail              uint64 `json:"createFail"`
		CompareAndSwapSuccess   uint64 `json:"compareAndSwapSuccess"`
		CompareAndSwapFail      uint64 `json:"compareAndSwapFail"`
		CompareAndDeleteSuccess uint64 `json:"compareAndDeleteSuccess"`
		CompareAndDeleteFail    uint64 `json:"compareAndDeleteFail"`
		ExpireCount             uint64 `json:"expireCount"`
		Watchers                uint64 `json:"watchers"`
	}{
		st.GetSuccess.Load() + st.RecursiveGetSuccess.Load(), st.GetFail.Load() + st.RecursiveGetFail.Load(), st.SetSuccess.Load(), st.SetFail.Load(),
		st.DeleteSuccess.Load(), st.DeleteFail.Load(), st.UpdateSuccess.Load(), st.UpdateFail.Load(),
		st.CreateSuccess.Load(), st.CreateFail.Load(), st.CompareAndSwapSuccess.Load(), st.CompareAndSwapFail.Load(),
		st.CompareAndDeleteSuccess.Load(), st.CompareAndDeleteFail.Load(), st.ExpireCount.Load(), uint64(watchers),
	})
	return b
}

// Counts are the store's operations as etcd's metrics count them: reads
// and writes by action, failed ones included.
type Counts struct {
	Reads, Writes          map[string]uint64
	Expires, WatchRequests uint64
	Watchers               int
}

// actionGetRecursive is the metrics' name for a recursive get.
const actionGetRecursive = "getRecursive"

// Counts reads the store's operation counts.
func (s *Store) Counts() Counts {
	st := &s.stats
	sum := func(ok, fail *atomic.Uint64) uint64 { return ok.Load() + fail.Load() }
	s.hub.mu.Lock()
	watchers := s.hub.count
	s.hub.mu.Unlock()
	return Counts{
		Reads: map[string]uint64{
			ActionGet:          sum(&st.GetSuccess, &st.GetFail),
			actionGetRecursive: sum(&st.RecursiveGetSuccess, &st.RecursiveGetFail),
		},
		Writes: map[string]uint64{
			ActionSet:              sum(&st.SetSuccess, &st.SetFail),
			ActionCreate:           sum(&st.CreateSuccess, &st.CreateFail),
			ActionUpdate:           sum(&st.UpdateSuccess, &st.UpdateFail),
			ActionDelete:           sum(&st.DeleteSuccess, &st.DeleteFail),
			ActionCompareAndSwap:   sum(&st.CompareAndSwapSuccess, &st.CompareAndSwapFail),
			ActionCompareAndDelete: sum(&st.CompareAndDeleteSuccess, &st.CompareAndDeleteFail),
		},
		Expires:       st.ExpireCount.Load(),
		WatchRequests: st.WatchRequests.Load(),
		Watchers:      watchers,
	}
}
