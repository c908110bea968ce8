package ctl

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The txn grammar, read line by line from stdin:
//
//	<compare>*  <blank line>
//	<op>*       <blank line>    (success branch)
//	<op>*       <blank line>    (failure branch)
//
// A compare is target("key") op "value":
//
//	mod("k") > "5"     c("k") = "3"     ver("k") != "1"
//	val("k") < "x"     lease("k") = "694d77aa9e38260f"
//
// Targets are c/create, m/mod (revisions), ver/version, val/value and lease
// (hex); ops are =, !=, < and >; key and value are Go string literals,
// double- or back-quoted. An op is a get, put or del command line with that
// command's flags; its words may be double-quoted (Go escapes apply) or
// single-quoted (taken as is).
//
// Lines are trimmed, so a line of spaces is blank. Input that ends before
// the failure branch's blank line is an error (EOF). Errors carry etcdctl's
// exit codes and messages, so a bad transaction fails the same way.

// txnSpec is a parsed transaction.
type txnSpec struct {
	compares []clientv3.Cmp
	success  []clientv3.Op
	failure  []clientv3.Op
}

// txnReader parses a transaction. Interactive mode prompts on stdout before
// each section; a flag error in an op prints that op's usage on stderr.
type txnReader struct {
	in          *bufio.Reader
	interactive bool
	stdout      io.Writer
	stderr      io.Writer
	sleep       func(time.Duration)
}

func (t *txnReader) read() (*txnSpec, error) {
	var spec txnSpec
	t.prompt("compares:")
	err := t.section(func(line string) error {
		cmp, err := parseCompare(line)
		if err == nil {
			spec.compares = append(spec.compares, *cmp)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	t.prompt("success requests (get, put, del):")
	if spec.success, err = t.ops(); err != nil {
		return nil, err
	}
	t.prompt("failure requests (get, put, del):")
	if spec.failure, err = t.ops(); err != nil {
		return nil, err
	}
	return &spec, nil
}

func (t *txnReader) prompt(s string) {
	if t.interactive {
		fmt.Fprintln(t.stdout, s)
	}
}

// section feeds each trimmed line to parse until a blank line.
func (t *txnReader) section(parse func(string) error) error {
	for {
		line, err := t.in.ReadString('\n')
		if err != nil {
			return exitErr(ExitInvalidInput, err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return nil
		}
		if err := parse(line); err != nil {
			return err
		}
	}
}

func (t *txnReader) ops() ([]clientv3.Op, error) {
	var ops []clientv3.Op
	err := t.section(func(line string) error {
		op, err := t.parseOp(line)
		if err == nil {
			ops = append(ops, op)
		}
		return err
	})
	return ops, err
}

// parseCompare parses one compare line (already trimmed).
func parseCompare(line string) (*clientv3.Cmp, error) {
	lparen := strings.IndexByte(line, '(')
	if lparen < 0 {
		return nil, exitErrf(ExitInvalidInput, "malformed comparison: %s", line)
	}
	target := line[:lparen]
	var key, op, val string
	if _, err := fmt.Sscanf(line[lparen:], "(%q) %s %q", &key, &op, &val); err != nil {
		return nil, exitErrf(ExitInvalidInput, "malformed comparison: %s; got %s(%q) %s %q", line, target, key, op, val)
	}

	var cmp clientv3.Cmp
	var v any
	var err error
	switch target {
	case "ver", "version":
		cmp = clientv3.Version(key)
		v, err = strconv.ParseInt(val, 10, 64)
	case "c", "create":
		cmp = clientv3.CreateRevision(key)
		v, err = strconv.ParseInt(val, 10, 64)
	case "m", "mod":
		cmp = clientv3.ModRevision(key)
		v, err = strconv.ParseInt(val, 10, 64)
	case "val", "value":
		cmp = clientv3.Value(key)
		v = val
	case "lease":
		cmp = clientv3.LeaseValue(key)
		v, err = strconv.ParseInt(val, 16, 64)
	default:
		return nil, exitErrf(ExitInvalidInput, "malformed comparison: %s (unknown target %s)", line, target)
	}
	if err != nil {
		return nil, exitErrf(ExitInvalidInput, "invalid txn compare request: %s", line)
	}
	switch op {
	case "=", "!=", "<", ">":
	default:
		// etcdctl crashes here; we report the line instead.
		return nil, exitErrf(ExitInvalidInput, "malformed comparison: %s (unknown result op %s)", line, op)
	}
	cmp = clientv3.Compare(cmp, op, v)
	return &cmp, nil
}

// parseOp parses one op line (already trimmed) with the flags of the
// command it names.
func (t *txnReader) parseOp(line string) (clientv3.Op, error) {
	args, err := splitOpLine(line)
	if err != nil {
		return clientv3.Op{}, exitErr(ExitInvalidInput, err)
	}
	if len(args) < 2 {
		return clientv3.Op{}, exitErrf(ExitInvalidInput, "invalid txn compare request: %s", line)
	}
	var cmd *cobra.Command
	var build func(args []string) (clientv3.Op, error)
	switch args[0] {
	case "get":
		var o getOptions
		cmd = &cobra.Command{Use: getUse, Short: getShort}
		o.addFlags(cmd.Flags())
		build = func(args []string) (clientv3.Op, error) {
			key, opts, err := o.op(args)
			return clientv3.OpGet(key, opts...), err
		}
	case "put":
		var o putOptions
		cmd = &cobra.Command{Use: putUse, Short: putShort}
		o.addFlags(cmd.Flags())
		build = func(args []string) (clientv3.Op, error) {
			// stdin is the transaction itself: a put without a value has
			// nothing left to read.
			key, value, opts, err := o.op(args, nil)
			return clientv3.OpPut(key, value, opts...), err
		}
	case "del":
		var o delOptions
		cmd = &cobra.Command{Use: delUse, Short: delShort}
		o.addFlags(cmd.Flags())
		build = func(args []string) (clientv3.Op, error) {
			key, opts, err := o.op(args, t.stderr, t.sleep)
			return clientv3.OpDelete(key, opts...), err
		}
	default:
		return clientv3.Op{}, exitErrf(ExitInvalidInput, "invalid txn request: %s", line)
	}
	// The op is parsed as a command of its own under a nameless root, so its
	// usage reads "   get [options] ...", as etcdctl's does.
	cmd.Run = func(*cobra.Command, []string) {} // runnable, so usage shows its use line
	(&cobra.Command{}).AddCommand(cmd)
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(args[1:]); err != nil {
		cmd.SetOut(t.stderr)
		cmd.Usage()
		fmt.Fprintln(t.stderr)
		return clientv3.Op{}, exitErrf(ExitInvalidInput, "invalid txn request: %s", line)
	}
	if help, _ := cmd.Flags().GetBool("help"); help {
		cmd.SetOut(t.stdout)
		cmd.Help()
		return clientv3.Op{}, exitErrf(ExitInvalidInput, "invalid txn request: %s", line)
	}
	op, err := build(cmd.Flags().Args())
	if err != nil {
		return clientv3.Op{}, err
	}
	return op, nil
}

// splitOpLine splits an op line into words. At each position, in order of
// preference, a word is:
//
//   - a double-quoted Go string literal, which is unquoted (a bad escape is
//     an error);
//   - a single-quoted string, taken literally without its quotes;
//   - a run of non-space characters that does not start with a quote.
//
// A quote that opens no complete quoted word is skipped. Spaces are ASCII
// space, \t, \n, \f and \r.
func splitOpLine(s string) ([]string, error) {
	var words []string
	for i := 0; i < len(s); {
		switch ch := s[i]; {
		case isOpSpace(ch):
			i++
		case ch == '"':
			end := closingQuote(s, i)
			if end < 0 {
				i++
				continue
			}
			w, err := strconv.Unquote(s[i : end+1])
			if err != nil {
				return nil, err
			}
			words = append(words, w)
			i = end + 1
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				i++
				continue
			}
			words = append(words, s[i+1:i+1+end])
			i += end + 2
		default:
			j := i
			for j < len(s) && !isOpSpace(s[j]) {
				j++
			}
			words = append(words, s[i:j])
			i = j
		}
	}
	return words, nil
}

func isOpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// closingQuote returns the index of the quote that closes the double-quoted
// string opening at s[start], or -1. A backslash escapes the next character
// unless that is a newline or the end of input.
func closingQuote(s string, start int) int {
	for j := start + 1; j < len(s); j++ {
		switch s[j] {
		case '"':
			return j
		case '\\':
			if j+1 >= len(s) || s[j+1] == '\n' {
				return -1
			}
			j++
		}
	}
	return -1
}
