package v3rpc

import (
	"bytes"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// keyInterval is a deleted key range [start, end); end == nil is one key.
// As in etcd, a range_end of "\x00" is taken literally here, so a delete of
// "every key from start on" never conflicts with a put in the same branch.
type keyInterval struct{ start, end []byte }

func (iv keyInterval) contains(k []byte) bool {
	if iv.end == nil {
		return bytes.Equal(iv.start, k)
	}
	return bytes.Compare(iv.start, k) <= 0 && bytes.Compare(k, iv.end) < 0
}

type intervals []keyInterval

func (ivs intervals) contains(k []byte) bool {
	for _, iv := range ivs {
		if iv.contains(k) {
			return true
		}
	}
	return false
}

// checkTxnIntervals rejects a branch that writes one key twice: two puts of
// a key, or a put of a key that a delete in the branch covers. A nested
// transaction's success and failure branches exclude each other, so a key
// put in both is fine; each is checked against the enclosing branch. It
// returns the branch's puts and deletes for the enclosing level.
func checkTxnIntervals(ops []*pb.RequestOp) (map[string]struct{}, intervals, error) {
	var dels intervals
	for _, op := range ops {
		if d := op.GetRequestDeleteRange(); d != nil {
			iv := keyInterval{start: d.Key}
			if len(d.RangeEnd) > 0 {
				iv.end = d.RangeEnd
			}
			dels = append(dels, iv)
		}
	}
	puts := map[string]struct{}{}
	for _, op := range ops {
		t := op.GetRequestTxn()
		if t == nil {
			continue
		}
		thenPuts, thenDels, err := checkTxnIntervals(t.Success)
		if err != nil {
			return nil, nil, err
		}
		elsePuts, elseDels, err := checkTxnIntervals(t.Failure)
		if err != nil {
			return nil, nil, err
		}
		for k := range thenPuts {
			if _, dup := puts[k]; dup || dels.contains([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range elsePuts {
			if _, dup := puts[k]; dup {
				if _, fromThen := thenPuts[k]; !fromThen {
					return nil, nil, rpctypes.ErrGRPCDuplicateKey
				}
			}
			if dels.contains([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels = append(append(dels, thenDels...), elseDels...)
	}
	for _, op := range ops {
		p := op.GetRequestPut()
		if p == nil {
			continue
		}
		if _, dup := puts[string(p.Key)]; dup || dels.contains(p.Key) {
			return nil, nil, rpctypes.ErrGRPCDuplicateKey
		}
		puts[string(p.Key)] = struct{}{}
	}
	return puts, dels, nil
}
