package ctl

import (
	"fmt"
	"io"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// simplePrinter is the default format: keys and values one per line (raw
// bytes, or \xNN escapes with --hex), "OK" for a put, the deleted count for
// a delete, comma-separated rows for members and endpoints.
type simplePrinter struct {
	w    io.Writer
	errw io.Writer // unhealthy endpoints are reported on stderr
	hex  bool
}

func (p *simplePrinter) line(b []byte) {
	if p.hex {
		fmt.Fprintln(p.w, hexBytes(b))
		return
	}
	p.w.Write(b)
	io.WriteString(p.w, "\n")
}

func (p *simplePrinter) kv(kv *mvccpb.KeyValue, valueOnly bool) {
	if !valueOnly {
		p.line(kv.Key)
	}
	p.line(kv.Value)
}

func (p *simplePrinter) get(resp *clientv3.GetResponse, valueOnly bool) error {
	for _, kv := range resp.Kvs {
		p.kv(kv, valueOnly)
	}
	return nil
}

func (p *simplePrinter) put(resp *clientv3.PutResponse) error {
	fmt.Fprintln(p.w, "OK")
	if resp.PrevKv != nil {
		p.kv(resp.PrevKv, false)
	}
	return nil
}

func (p *simplePrinter) del(resp *clientv3.DeleteResponse) error {
	fmt.Fprintln(p.w, resp.Deleted)
	for _, kv := range resp.PrevKvs {
		p.kv(kv, false)
	}
	return nil
}

// txn prints SUCCESS or FAILURE, then each operation's result after a
// blank line, the way the single commands print them.
func (p *simplePrinter) txn(resp *clientv3.TxnResponse) error {
	p.txnResponse((*pb.TxnResponse)(resp))
	return nil
}

func (p *simplePrinter) txnResponse(resp *pb.TxnResponse) {
	if resp.Succeeded {
		fmt.Fprintln(p.w, "SUCCESS")
	} else {
		fmt.Fprintln(p.w, "FAILURE")
	}
	for _, op := range resp.Responses {
		fmt.Fprintln(p.w)
		switch r := op.Response.(type) {
		case *pb.ResponseOp_ResponseRange:
			p.get((*clientv3.GetResponse)(r.ResponseRange), false)
		case *pb.ResponseOp_ResponsePut:
			p.put((*clientv3.PutResponse)(r.ResponsePut))
		case *pb.ResponseOp_ResponseDeleteRange:
			p.del((*clientv3.DeleteResponse)(r.ResponseDeleteRange))
		case *pb.ResponseOp_ResponseTxn:
			p.txnResponse(r.ResponseTxn)
		}
	}
}

func (p *simplePrinter) memberList(resp *clientv3.MemberListResponse) error {
	for _, m := range resp.Members {
		fmt.Fprintln(p.w, strings.Join(memberRow(m), ", "))
	}
	return nil
}

func (p *simplePrinter) endpointHealth(results []healthResult) error {
	for _, h := range results {
		if h.Health {
			fmt.Fprintf(p.w, "%s is healthy: successfully committed proposal: took = %s\n", h.Endpoint, h.Took)
		} else {
			fmt.Fprintf(p.errw, "%s is unhealthy: failed to commit proposal: %s\n", h.Endpoint, h.Error)
		}
	}
	return nil
}

func (p *simplePrinter) endpointStatus(results []statusResult) error {
	for _, r := range results {
		fmt.Fprintln(p.w, strings.Join(statusRow(r), ", "))
	}
	return nil
}
