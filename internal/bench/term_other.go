//go:build !linux

package bench

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// isTerminal reports whether w is a character device, the best guess
// without a terminal ioctl.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readPassword reads one line from in; the password is echoed on this
// platform.
func readPassword(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
