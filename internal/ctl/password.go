package ctl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Password prompts, as etcdctl shows them: the prompt on stdout, the answer
// read from stdin up to the end of the line (echo turned off when stdin is
// a terminal), then a newline on stdout in place of the unechoed one.
//
// Answers are read one byte at a time, so that each prompt takes exactly
// one line and leaves the rest of stdin to the next: `user add` asks twice,
// and --user without a password may ask once more after that.

// askPassword prompts on stdout and returns the line typed, without its
// line ending; at the end of the input it returns what was typed so far.
func (c *cli) askPassword(prompt string) (string, error) {
	fmt.Fprint(c.opts.Stdout, prompt)
	restore := noEcho(c.opts.Stdin)
	line, err := readLine(c.opts.Stdin)
	restore()
	fmt.Fprintln(c.opts.Stdout)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return line, nil
}

// readLine reads up to and including the next newline, byte by byte, and
// returns the line without "\n" or "\r\n".
func readLine(r io.Reader) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(sb.String(), "\r"), nil
			}
			sb.WriteByte(buf[0])
		}
		if err != nil {
			return strings.TrimSuffix(sb.String(), "\r"), err
		}
	}
}

// noEcho turns off the echo of a terminal on stdin and returns the function
// that turns it back on. Anything else, a pipe or a file, is left alone.
// stty does the work, as it does for etcdctl, which keeps terminal ioctls
// out of this package.
func noEcho(stdin io.Reader) (restore func()) {
	f, ok := stdin.(*os.File)
	if !ok {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if stty("-echo") != nil {
		return func() {}
	}
	return func() { stty("echo") }
}

// askNewPassword asks for a user's new password twice, as `user add` and
// `user passwd` do when --interactive is on (the default).
func (c *cli) askNewPassword(name string) (string, error) {
	pw1, err := c.askPassword(fmt.Sprintf("Password of %s: ", name))
	if err != nil {
		return "", exitErrf(ExitBadArgs, "failed to ask password: %v", err)
	}
	if pw1 == "" {
		return "", exitErr(ExitBadArgs, errors.New("empty password"))
	}
	pw2, err := c.askPassword(fmt.Sprintf("Type password of %s again for confirmation: ", name))
	if err != nil {
		return "", exitErrf(ExitBadArgs, "failed to ask password: %v", err)
	}
	if pw1 != pw2 {
		return "", exitErr(ExitBadArgs, errors.New("given passwords are different"))
	}
	return pw1, nil
}

// readWord reads a password from stdin without a prompt, as `user add` and
// `user passwd` do with --interactive=false: the first word of the input,
// or "" when there is none.
func (c *cli) readWord() string {
	var word strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := c.opts.Stdin.Read(buf)
		if n == 1 {
			b := buf[0]
			isSpace := b == ' ' || b == '\t' || b == '\r' || b == '\n'
			switch {
			case !isSpace:
				word.WriteByte(b)
			case word.Len() > 0 || b == '\n':
				return word.String()
			}
		}
		if err != nil {
			return word.String()
		}
	}
}
