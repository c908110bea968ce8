package ctlv2

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/cairn-kv/cairn/internal/version"
)

// Exit codes, as etcdctl v2 ends.
const (
	exitSuccess           = 0
	exitUsage             = 1
	exitBadConnection     = 2
	exitNoHelpTopic       = 3
	exitServerError       = 4
	exitClusterNotHealthy = 5
	exitBadArgs           = 128
)

// defaultEndpoints are used when no endpoint is given anywhere.
const defaultEndpoints = "http://127.0.0.1:2379,http://127.0.0.1:4001"

// dialTimeout bounds connecting to an endpoint (shorter when
// --total-timeout is).
const dialTimeout = 30 * time.Second

var globalFlags = []*flagSpec{
	{names: []string{"debug"}, kind: boolFlag, usage: "output cURL commands which can be used to reproduce the request"},
	{names: []string{"no-sync"}, kind: boolFlag, usage: "don't synchronize cluster information before sending request"},
	{names: []string{"output", "o"}, kind: stringFlag, def: "simple", placeholder: "simple", showDef: ` (default: "simple")`,
		usage: "output response in the given format (simple, `extended` or `json`)"},
	{names: []string{"discovery-srv", "D"}, kind: stringFlag, usage: "domain name to query for SRV records describing cluster endpoints"},
	{names: []string{"insecure-discovery"}, kind: boolFlag, usage: "accept insecure SRV records describing cluster endpoints"},
	{names: []string{"peers", "C"}, kind: stringFlag, usage: `DEPRECATED - "--endpoints" should be used instead`},
	{names: []string{"endpoint"}, kind: stringFlag, usage: `DEPRECATED - "--endpoints" should be used instead`},
	{names: []string{"endpoints"}, kind: stringFlag, usage: `a comma-delimited list of machine addresses in the cluster (default: "` + defaultEndpoints + `")`},
	{names: []string{"cert-file"}, kind: stringFlag, usage: "identify HTTPS client using this SSL certificate file"},
	{names: []string{"key-file"}, kind: stringFlag, usage: "identify HTTPS client using this SSL key file"},
	{names: []string{"ca-file"}, kind: stringFlag, usage: "verify certificates of HTTPS-enabled servers using this CA bundle"},
	{names: []string{"username", "u"}, kind: stringFlag, usage: "provide username[:password] and prompt if password is not supplied."},
	{names: []string{"timeout"}, kind: durationFlag, def: "2s", showDef: " (default: 2s)", usage: "connection timeout per request"},
	{names: []string{"total-timeout"}, kind: durationFlag, def: "5s", showDef: " (default: 5s)", usage: "timeout for the command execution (except watch)"},
	helpFlag,
	{names: []string{"version", "v"}, kind: boolFlag, usage: "print the version"},
}

// Main runs etcdctl's v2 command set (what ETCDCTL_API=2 selects). args are
// the arguments after the program name, environ the environment
// (KEY=value; ETCDCTL_ENDPOINTS and the other ETCDCTL_* variables are read
// from it). It returns the process exit code. An interrupt (SIGINT) ends
// the long-running commands (watch --forever, exec-watch, cluster-health
// --forever) with code 0, as etcdctl does; other commands keep the default
// signal behaviour.
func Main(args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(context.Background(), args, environ, stdin, stdout, stderr)
}

// run is Main with a context: cancelling it is the interrupt of the
// long-running commands (tests), in addition to SIGINT.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, env: envMap(environ), environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}
	return a.run(args)
}

func envMap(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = v
		}
	}
	return m
}

// app is one run of the command line.
type app struct {
	ctx            context.Context
	env            map[string]string
	environ        []string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (a *app) run(args []string) int {
	global, rest, err := parseFlags("etcdctl", globalFlags, args)
	if err != nil {
		fmt.Fprintf(a.stdout, "Incorrect Usage. %s\n\n", err)
		writeAppHelp(a.stdout, rootCommand, globalFlags, version.EtcdVersion)
		fmt.Fprintln(a.stderr, err)
		return exitUsage
	}
	switch {
	case global.bool("help"):
		writeAppHelp(a.stdout, rootCommand, globalFlags, version.EtcdVersion)
		return exitSuccess
	case global.bool("version"):
		fmt.Fprintf(a.stdout, "etcdctl version: %s\nAPI version: 2\n", version.EtcdVersion)
		return exitSuccess
	case len(rest) == 0:
		writeAppHelp(a.stdout, rootCommand, globalFlags, version.EtcdVersion)
		return exitSuccess
	case rest[0] == "help" || rest[0] == "h":
		if len(rest) == 1 {
			writeAppHelp(a.stdout, rootCommand, globalFlags, version.EtcdVersion)
			return exitSuccess
		}
		cmd := rootCommand.find(rest[1])
		if cmd == nil {
			fmt.Fprintln(a.stderr, errNoHelpTopic(rest[1]))
			return exitNoHelpTopic
		}
		writeCommandHelp(a.stdout, "etcdctl "+cmd.name, cmd)
		return exitSuccess
	}
	cmd := rootCommand.find(rest[0])
	if cmd == nil {
		fmt.Fprintln(a.stderr, errNoHelpTopic(rest[0]))
		if slices.Contains(v3OnlyCommands, rest[0]) {
			fmt.Fprintf(a.stderr, "%q is a command of etcdctl's v3 API: run it with ETCDCTL_API=3, or without ETCDCTL_API\n", rest[0])
		}
		return exitNoHelpTopic
	}
	return a.runCommand(global, cmd, "etcdctl "+cmd.name, rest[1:])
}

// v3OnlyCommands are the commands of etcdctl's v3 command set that the v2
// set has no command of the same name for. The v2 set answers them as
// unknown commands, as etcdctl does, and adds a line that points to the v3
// set.
var v3OnlyCommands = []string{
	"put", "del", "txn", "compaction", "endpoint", "lease", "lock", "elect",
	"snapshot", "defrag", "alarm", "check", "move-leader", "make-mirror",
	"version", "downgrade",
}

func (a *app) runCommand(global values, cmd *command, helpName string, args []string) int {
	if len(cmd.subs) > 0 {
		vals, rest, err := parseFlags(cmd.name, []*flagSpec{helpFlag}, args)
		if err != nil {
			fmt.Fprintf(a.stdout, "Incorrect Usage. %s\n\n", err)
			writeGroupHelp(a.stdout, helpName, cmd)
			fmt.Fprintln(a.stderr, err)
			return exitUsage
		}
		if vals.bool("help") || len(rest) == 0 {
			writeGroupHelp(a.stdout, helpName, cmd)
			return exitSuccess
		}
		if rest[0] == "help" || rest[0] == "h" {
			if len(rest) == 1 {
				writeGroupHelp(a.stdout, helpName, cmd)
				return exitSuccess
			}
			sub := cmd.find(rest[1])
			if sub == nil {
				fmt.Fprintln(a.stderr, errNoHelpTopic(rest[1]))
				return exitNoHelpTopic
			}
			writeCommandHelp(a.stdout, helpName+" "+sub.name, sub)
			return exitSuccess
		}
		sub := cmd.find(rest[0])
		if sub == nil {
			fmt.Fprintln(a.stderr, errNoHelpTopic(rest[0]))
			return exitNoHelpTopic
		}
		return a.runCommand(global, sub, helpName+" "+sub.name, rest[1:])
	}
	specs := append(append([]*flagSpec(nil), cmd.flags...), helpFlag)
	vals, rest, err := parseFlags(cmd.name, specs, reorderArgs(specs, args))
	if err != nil {
		fmt.Fprintf(a.stdout, "Incorrect Usage: %s\n\n", err)
		writeCommandHelp(a.stdout, helpName, cmd)
		fmt.Fprintln(a.stderr, err)
		return exitUsage
	}
	if vals.bool("help") {
		writeCommandHelp(a.stdout, helpName, cmd)
		return exitSuccess
	}
	return cmd.action(&cmdContext{app: a, global: global, flags: vals, args: rest})
}

// cmdContext is what a command's action sees.
type cmdContext struct {
	*app
	global values
	flags  values
	args   []string
}

func (c *cmdContext) output() string { return c.global.string("output") }

// fail prints err as etcdctl does ("Error:  <err>", then the detail of a
// cluster error) and returns code.
func (c *cmdContext) fail(code int, err error) int {
	fmt.Fprintln(c.stderr, "Error: ", err)
	if ce, ok := err.(*clusterError); ok {
		fmt.Fprintln(c.stderr, ce.detail())
	}
	return code
}

// totalTimeout is the context of one command's requests (--total-timeout).
func (c *cmdContext) totalTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.global.duration("total-timeout"))
}

// interrupted returns a channel closed on SIGINT or when the run's context
// ends, and a function that stops listening.
func (c *cmdContext) interrupted() (<-chan struct{}, func()) {
	ch := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-c.ctx.Done():
		case <-done:
			return
		}
		close(ch)
	}()
	return ch, func() { signal.Stop(sig); close(done) }
}

// endpoints are the endpoints given: --endpoints, then ETCDCTL_ENDPOINTS,
// --endpoint, ETCDCTL_ENDPOINT, --peers, ETCDCTL_PEERS, and the default.
func (c *cmdContext) endpoints() ([]string, error) {
	eps, err := c.discover()
	if err != nil {
		return nil, err
	}
	if len(eps) == 0 {
		s := firstNonEmpty(c.global.string("endpoints"), c.env["ETCDCTL_ENDPOINTS"],
			c.global.string("endpoint"), c.env["ETCDCTL_ENDPOINT"],
			c.global.string("peers"), c.env["ETCDCTL_PEERS"], defaultEndpoints)
		eps = strings.Split(s, ",")
	}
	for i, ep := range eps {
		u, err := url.Parse(ep)
		if err != nil {
			return nil, err
		}
		if u.Scheme == "" {
			u.Scheme = "http"
		}
		eps[i] = u.String()
	}
	return eps, nil
}

// discover looks the endpoints up in DNS SRV records when --discovery-srv
// (or ETCDCTL_DISCOVERY_SRV) names a domain: _etcd-client-ssl._tcp gives
// https endpoints, _etcd-client._tcp http ones.
func (c *cmdContext) discover() ([]string, error) {
	domain := firstNonEmpty(c.global.string("discovery-srv"), c.env["ETCDCTL_DISCOVERY_SRV"])
	if domain == "" {
		return nil, nil
	}
	var eps []string
	var lastErr error
	for _, s := range []struct{ service, scheme string }{{"etcd-client-ssl", "https"}, {"etcd-client", "http"}} {
		_, addrs, err := net.LookupSRV(s.service, "tcp", domain)
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range addrs {
			host := strings.TrimSuffix(a.Target, ".")
			eps = append(eps, fmt.Sprintf("%s://%s", s.scheme, net.JoinHostPort(host, fmt.Sprint(a.Port))))
		}
	}
	if len(eps) == 0 && lastErr != nil {
		return nil, lastErr
	}
	return eps, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// newClient builds the client from the global flags and, unless --no-sync,
// replaces the endpoints with the ones the cluster publishes. A failure
// has been printed when code is not -1.
func (c *cmdContext) newClient() (*client, int) {
	cl, code := c.newClientNoSync()
	if cl == nil || c.global.bool("no-sync") {
		if cl != nil && c.global.bool("debug") {
			fmt.Fprintf(c.stderr, "Cluster-Endpoints: %s\n", cl.endpointList(", "))
		}
		return cl, code
	}
	debug := c.global.bool("debug")
	if debug {
		fmt.Fprintf(c.stderr, "start to sync cluster using endpoints(%s)\n", cl.endpointList(","))
	}
	ctx, cancel := c.totalTimeout()
	err := cl.sync(ctx)
	cancel()
	if err != nil {
		if err == errNoEndpoints {
			fmt.Fprintf(c.stderr, "etcd cluster has no published client endpoints.\n")
			fmt.Fprintf(c.stderr, "Try '--no-sync' if you want to access non-published client endpoints(%s).\n", cl.endpointList(","))
			return nil, c.fail(exitServerError, err)
		}
		if isConnectionError(err) {
			return nil, c.fail(exitBadConnection, err)
		}
	}
	if debug {
		fmt.Fprintf(c.stderr, "got endpoints(%s) after sync\n", cl.endpointList(","))
		fmt.Fprintf(c.stderr, "Cluster-Endpoints: %s\n", cl.endpointList(", "))
	}
	return cl, -1
}

func (c *cmdContext) newClientNoSync() (*client, int) {
	eps, err := c.endpoints()
	if err != nil {
		fmt.Fprintln(c.stderr, err.Error())
		return nil, exitUsage
	}
	dt := dialTimeout
	if tt := c.global.duration("total-timeout"); tt != 0 && tt < dt {
		dt = tt
	}
	tr, err := newTransport(
		firstNonEmpty(c.global.string("cert-file"), c.env["ETCDCTL_CERT_FILE"]),
		firstNonEmpty(c.global.string("key-file"), c.env["ETCDCTL_KEY_FILE"]),
		firstNonEmpty(c.global.string("ca-file"), c.env["ETCDCTL_CA_FILE"]), dt)
	if err != nil {
		fmt.Fprintln(c.stderr, err.Error())
		return nil, exitUsage
	}
	cl := &client{rt: tr, headerTimeout: c.global.duration("timeout")}
	if c.global.bool("debug") {
		cl.debug = c.stderr
	}
	if u := firstNonEmpty(c.global.string("username"), c.env["ETCDCTL_USERNAME"]); u != "" {
		cl.user, cl.pass = c.userPassword(u, "Password: ")
		cl.hasAuth = true
	}
	for _, ep := range eps {
		u, err := url.Parse(ep)
		if err != nil {
			fmt.Fprintln(c.stderr, err.Error())
			return nil, exitUsage
		}
		cl.endpoints = append(cl.endpoints, *u)
	}
	return cl, -1
}

// userPassword splits "user[:password]", asking for the password on stdin
// when it is not given.
func (c *cmdContext) userPassword(s, prompt string) (string, string) {
	user, pass, ok := strings.Cut(s, ":")
	if !ok {
		pass = c.readPassword(prompt)
	}
	return user, pass
}

func (c *cmdContext) readPassword(prompt string) string {
	fmt.Fprint(c.stdout, prompt)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

// argOrStdin is args[i] or, when missing, all of stdin (which must not be
// empty).
func (c *cmdContext) argOrStdin(i int) (string, bool) {
	if i < len(c.args) {
		return c.args[i], true
	}
	b, err := io.ReadAll(c.stdin)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}
