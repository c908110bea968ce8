package ctlv2

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Every key command builds its client (syncing the endpoints) before it
// looks at its arguments, as etcdctl does: with an unreachable cluster a
// missing key is reported as the connection failure.

var (
	errKeyRequired   = errors.New("key required")
	errValueRequired = errors.New("value required")
)

func ttlOf(c *cmdContext) time.Duration { return time.Duration(c.flags.int("ttl")) * time.Second }

func getAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.get(ctx, c.args[0], false, c.flags.bool("sort"), c.flags.bool("quorum"))
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	if resp.Node.Dir {
		fmt.Fprintf(c.stderr, "%s: is a directory\n", resp.Node.Key)
		return exitUsage
	}
	c.printResponse(resp)
	return exitSuccess
}

func lsAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	key := "/"
	if len(c.args) != 0 {
		key = c.args[0]
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.get(ctx, key, c.flags.bool("recursive"), c.flags.bool("sort"), c.flags.bool("quorum"))
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	if c.output() != "simple" {
		c.printResponse(resp)
		return exitSuccess
	}
	if !resp.Node.Dir {
		fmt.Fprintln(c.stdout, resp.Node.Key)
	}
	for _, n := range resp.Node.Nodes {
		c.printLs(n)
	}
	return exitSuccess
}

func (c *cmdContext) printLs(n *node) {
	if n.Dir && c.flags.bool("p") {
		fmt.Fprintf(c.stdout, "%v/\n", n.Key)
	} else {
		fmt.Fprintln(c.stdout, n.Key)
	}
	for _, ch := range n.Nodes {
		c.printLs(ch)
	}
}

func setAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	value, ok := c.argOrStdin(1)
	if !ok {
		return c.fail(exitBadArgs, errValueRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.set(ctx, c.args[0], value, setOptions{
		ttl:       ttlOf(c),
		prevValue: c.flags.string("swap-with-value"),
		prevIndex: uint64(c.flags.int("swap-with-index")),
	})
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	c.printResponse(resp)
	return exitSuccess
}

func mkAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	value, ok := c.argOrStdin(1)
	if !ok {
		return c.fail(exitBadArgs, errValueRequired)
	}
	ctx, cancel := c.totalTimeout()
	var resp *response
	var err error
	if c.flags.bool("in-order") {
		resp, err = cl.createInOrder(ctx, c.args[0], value, ttlOf(c))
	} else {
		resp, err = cl.set(ctx, c.args[0], value, setOptions{ttl: ttlOf(c), prevExist: prevMissing})
	}
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	c.printResponse(resp)
	return exitSuccess
}

// mkdirAction is mkdir (the directory must not exist) and setdir (no
// condition).
func mkdirAction(c *cmdContext, exist prevExist) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.set(ctx, c.args[0], "", setOptions{ttl: ttlOf(c), dir: true, prevExist: exist})
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	if c.output() != "simple" {
		c.printResponse(resp)
	}
	return exitSuccess
}

func updateAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	value, ok := c.argOrStdin(1)
	if !ok {
		return c.fail(exitBadArgs, errValueRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.set(ctx, c.args[0], value, setOptions{ttl: ttlOf(c), prevExist: prevExists})
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	c.printResponse(resp)
	return exitSuccess
}

func updatedirAction(c *cmdContext) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.set(ctx, c.args[0], "", setOptions{ttl: ttlOf(c), dir: true, prevExist: prevExists})
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	if c.output() != "simple" {
		c.printResponse(resp)
	}
	return exitSuccess
}

func rmAction(c *cmdContext) int {
	return remove(c, deleteOptions{
		dir:       c.flags.bool("dir"),
		recursive: c.flags.bool("recursive"),
		prevValue: c.flags.string("with-value"),
		prevIndex: uint64(c.flags.int("with-index")),
	})
}

func rmdirAction(c *cmdContext) int { return remove(c, deleteOptions{dir: true}) }

func remove(c *cmdContext, o deleteOptions) int {
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	if len(c.args) == 0 {
		return c.fail(exitBadArgs, errKeyRequired)
	}
	ctx, cancel := c.totalTimeout()
	resp, err := cl.delete(ctx, c.args[0], o)
	cancel()
	if err != nil {
		return c.fail(exitServerError, err)
	}
	if !resp.Node.Dir || c.output() != "simple" {
		c.printResponse(resp)
	}
	return exitSuccess
}

func backupAction(c *cmdContext) int {
	fmt.Fprintln(c.stderr, "Error:  backup of an etcd v2 data directory is not supported by Cairn; take a snapshot instead (ETCDCTL_API=3 etcdctl snapshot save <file>)")
	return exitUsage
}

// printResponse prints a key response in the --output format: simple is
// the value (the previous value of a delete), extended a header block and
// the value, json the response itself.
func (c *cmdContext) printResponse(resp *response) {
	w := c.stdout
	switch c.output() {
	case "simple":
		if resp.Action != "delete" {
			fmt.Fprintln(w, resp.Node.Value)
		} else {
			fmt.Fprintln(w, "PrevNode.Value:", resp.PrevNode.Value)
		}
	case "extended":
		fmt.Fprintln(w, "Key:", resp.Node.Key)
		fmt.Fprintln(w, "Created-Index:", resp.Node.CreatedIndex)
		fmt.Fprintln(w, "Modified-Index:", resp.Node.ModifiedIndex)
		if resp.PrevNode != nil {
			fmt.Fprintln(w, "PrevNode.Value:", resp.PrevNode.Value)
		}
		fmt.Fprintln(w, "TTL:", resp.Node.TTL)
		fmt.Fprintln(w, "Index:", resp.Index)
		if resp.Action != "delete" {
			fmt.Fprintln(w, "")
			fmt.Fprintln(w, resp.Node.Value)
		}
	case "json":
		b, err := json.Marshal(resp)
		if err != nil {
			panic(err) // a response decoded from JSON always encodes
		}
		fmt.Fprintln(w, string(b))
	default:
		fmt.Fprintln(c.stderr, "Unsupported output format:", c.output())
	}
}
