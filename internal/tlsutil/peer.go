package tlsutil

import (
	"context"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// PeerCommonName is the common name of the client certificate the caller
// of a gRPC request presented, or "". A member asks for certificates only
// with client certificate authentication on, and then verifies each before
// the handshake completes, so a name found here is a verified one.
func PeerCommonName(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return ""
	}
	return ti.State.PeerCertificates[0].Subject.CommonName
}
