package v2store

import (
	"encoding/json"
	"sync/atomic"
)

// Stats counts this member's store operations (/v2/stats/store). They are
// the member's own and are not replicated or persisted.
type Stats struct {
	GetSuccess, GetFail                           atomic.Uint64
	SetSuccess, SetFail                           atomic.Uint64
	DeleteSuccess, DeleteFail                     atomic.Uint64
	UpdateSuccess, UpdateFail                     atomic.Uint64
	CreateSuccess, CreateFail                     atomic.Uint64
	CompareAndSwapSuccess, CompareAndSwapFail     atomic.Uint64
	CompareAndDeleteSuccess, CompareAndDeleteFail atomic.Uint64
	ExpireCount                                   atomic.Uint64
}

func (st *Stats) inc(c *atomic.Uint64) { c.Add(1) }

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
		st.GetSuccess.Load(), st.GetFail.Load(), st.SetSuccess.Load(), st.SetFail.Load(),
		st.DeleteSuccess.Load(), st.DeleteFail.Load(), st.UpdateSuccess.Load(), st.UpdateFail.Load(),
		st.CreateSuccess.Load(), st.CreateFail.Load(), st.CompareAndSwapSuccess.Load(), st.CompareAndSwapFail.Load(),
		st.CompareAndDeleteSuccess.Load(), st.CompareAndDeleteFail.Load(), st.ExpireCount.Load(), uint64(watchers),
	})
	return b
}
