// Package v2http serves etcd's v2 HTTP API on the client port: /v2/keys
// over the v2 store, /v2/members, /v2/stats/{self,leader,store} and
// /v2/machines, with etcd 3.5's paths, parameters, headers, status codes
// and bodies, so v2 clients and scripts work unchanged.
//
// The handlers know the member only through Backend: reads go to the v2
// store directly (after a ReadIndex round when quorum=true), changes are
// proposed through raft and answered with the applied event.
package v2http
