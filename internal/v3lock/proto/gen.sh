#!/bin/sh
# Regenerates the Go code of the lock and election services. Needs protoc,
# protoc-gen-go and protoc-gen-go-grpc on PATH; the output is committed so
# builds never need them.
set -e
cd "$(dirname "$0")"
protoc -I . -I include \
	--go_out=.. --go_opt=paths=import --go_opt=module=github.com/cairn-kv/cairn/internal/v3lock \
	--go-grpc_out=.. --go-grpc_opt=module=github.com/cairn-kv/cairn/internal/v3lock \
	v3lock.proto v3election.proto
