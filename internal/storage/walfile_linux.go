package storage

import "golang.org/x/sys/unix"

// extendFile allocates [off, off+length) of the file and extends its size
// to cover it (fallocate mode 0); the new space reads as zeros.
func extendFile(fd uintptr, off, length int64) error {
	return unix.Fallocate(int(fd), 0, off, length)
}

func truncateFile(fd uintptr, size int64) error {
	return unix.Ftruncate(int(fd), size)
}
