// Package v3rpc serves etcd's v3 gRPC services. Each handler validates the
// request exactly as etcd does, calls the member through a small interface
// declared here, fills the response header and maps domain errors to the
// gRPC errors etcd clients recognise by their text (errors.go).
package v3rpc
