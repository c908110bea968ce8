package ctl

import (
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// protobufPrinter writes the response message in protobuf wire encoding,
// with nothing around it. Endpoint health and status are not messages of the
// API, so this format refuses them.
type protobufPrinter struct {
	w io.Writer
}

func (p *protobufPrinter) write(m proto.Message) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return exitErr(ExitError, err)
	}
	_, err = p.w.Write(b)
	return err
}

func (p *protobufPrinter) get(resp *clientv3.GetResponse, _ bool) error {
	return p.write((*pb.RangeResponse)(resp))
}

func (p *protobufPrinter) put(resp *clientv3.PutResponse) error {
	return p.write((*pb.PutResponse)(resp))
}

func (p *protobufPrinter) del(resp *clientv3.DeleteResponse) error {
	return p.write((*pb.DeleteRangeResponse)(resp))
}

func (p *protobufPrinter) txn(resp *clientv3.TxnResponse) error {
	return p.write((*pb.TxnResponse)(resp))
}

func (p *protobufPrinter) memberList(resp *clientv3.MemberListResponse) error {
	return p.write((*pb.MemberListResponse)(resp))
}

func (p *protobufPrinter) endpointHealth([]healthResult) error { return notSupported("protobuf") }
func (p *protobufPrinter) endpointStatus([]statusResult) error { return notSupported("protobuf") }
