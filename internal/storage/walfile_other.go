//go:build !linux

package storage

import "errors"

var errNoExtend = errors.New("storage: extending preallocation is Linux-only")

// extendFile is Linux-only; elsewhere the engine's own preallocation runs.
func extendFile(fd uintptr, off, length int64) error { return errNoExtend }

func truncateFile(fd uintptr, size int64) error { return nil }
