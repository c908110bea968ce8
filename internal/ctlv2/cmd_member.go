package ctlv2

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

var memberCommand = &command{
	name: "member", usage: "member add, remove and list subcommands",
	subs: []*command{
		{name: "list", usage: "enumerate existing cluster members", argsUsage: " ", action: memberListAction},
		{name: "add", usage: "add a new member to the etcd cluster", argsUsage: "<name> <peerURL>", action: memberAddAction},
		{name: "remove", usage: "remove an existing member from the etcd cluster", argsUsage: "<memberID>", action: memberRemoveAction},
		{name: "update", usage: "update an existing member in the etcd cluster", argsUsage: "<memberID> <peerURLs>", action: memberUpdateAction},
	},
}

// idHex prints a member ID as etcd does.
func idHex(id uint64) string { return fmt.Sprintf("%x", id) }

// The member commands print their failures bare and exit 1.
func (c *cmdContext) memberFail(msg string) int {
	fmt.Fprintln(c.stderr, msg)
	return exitUsage
}

func memberListAction(c *cmdContext) int {
	if len(c.args) != 0 {
		return c.memberFail("No arguments accepted")
	}
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	ms, err := cl.memberList(ctx)
	if err != nil {
		return c.memberFail(err.Error())
	}
	leader, err := cl.memberLeader(ctx)
	if err != nil {
		fmt.Fprintln(c.stderr, "Failed to get leader: ", err)
		return exitUsage
	}
	for _, m := range ms {
		if m.Name == "" {
			fmt.Fprintf(c.stdout, "%s[unstarted]: peerURLs=%s\n", m.ID, strings.Join(m.PeerURLs, ","))
			continue
		}
		fmt.Fprintf(c.stdout, "%s: name=%s peerURLs=%s clientURLs=%s isLeader=%v\n",
			m.ID, m.Name, strings.Join(m.PeerURLs, ","), strings.Join(m.ClientURLs, ","), m.ID == leader.ID)
	}
	return exitSuccess
}

func memberAddAction(c *cmdContext) int {
	if len(c.args) != 2 {
		return c.memberFail("Provide a name and a single member peerURL")
	}
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	m, err := cl.memberAdd(ctx, c.args[1])
	if err != nil {
		return c.memberFail(err.Error())
	}
	name := c.args[0]
	fmt.Fprintf(c.stdout, "Added member named %s with ID %s to cluster\n", name, m.ID)
	ms, err := cl.memberList(ctx)
	if err != nil {
		return c.memberFail(err.Error())
	}
	var conf []string
	for _, x := range ms {
		for _, u := range x.PeerURLs {
			n := x.Name
			if x.ID == m.ID {
				n = name
			}
			conf = append(conf, fmt.Sprintf("%s=%s", n, u))
		}
	}
	fmt.Fprint(c.stdout, "\n")
	fmt.Fprintf(c.stdout, "ETCD_NAME=%q\n", name)
	fmt.Fprintf(c.stdout, "ETCD_INITIAL_CLUSTER=%q\n", strings.Join(conf, ","))
	fmt.Fprintf(c.stdout, "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n")
	return exitSuccess
}

func memberRemoveAction(c *cmdContext) int {
	if len(c.args) != 1 {
		return c.memberFail("Provide a single member ID")
	}
	id := c.args[0]
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	defer cancel()
	ms, err := cl.memberList(ctx)
	if err != nil {
		return c.memberFail("Error while verifying ID against known members: " + err.Error())
	}
	found := false
	for _, m := range ms {
		if m.ID == id {
			found = true
		}
		if m.Name == id {
			fmt.Fprintf(c.stderr, "Found a member named %s; if this is correct, please use its ID, eg:\n\tetcdctl member remove %s\n", m.Name, m.ID)
			fmt.Fprintf(c.stderr, "For more details, read the documentation at https://github.com/etcd-io/etcd/blob/main/Documentation/runtime-configuration.md#remove-a-member\n\n")
		}
	}
	if !found {
		fmt.Fprintf(c.stderr, "Couldn't find a member in the cluster with an ID of %s.\n", id)
		return exitUsage
	}
	if err := cl.memberRemove(ctx, id); err != nil {
		fmt.Fprintf(c.stderr, "Received an error trying to remove member %s: %s", id, err.Error())
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "Removed member %s from cluster\n", id)
	return exitSuccess
}

func memberUpdateAction(c *cmdContext) int {
	if len(c.args) != 2 {
		return c.memberFail("Provide an ID and a list of comma separated peerURL (0xabcd http://example.com,http://example1.com)")
	}
	cl, code := c.newClient()
	if cl == nil {
		return code
	}
	ctx, cancel := c.totalTimeout()
	err := cl.memberUpdate(ctx, c.args[0], strings.Split(c.args[1], ","))
	cancel()
	if err != nil {
		return c.memberFail(err.Error())
	}
	fmt.Fprintf(c.stdout, "Updated member with ID %s in cluster\n", c.args[0])
	return exitSuccess
}

// healthInterval is how long cluster-health --forever waits between
// checks.
var healthInterval = 10 * time.Second

// clusterHealthAction asks every member's client URLs for /health, then
// sums up: healthy (exit 0), degraded or unavailable (exit 5). With
// --forever it checks again every 10 seconds until interrupted.
func clusterHealthAction(c *cmdContext) int {
	forever := c.flags.bool("forever")
	cl, code := c.newClientNoSync()
	if cl == nil {
		return code
	}
	hc := &http.Client{Transport: cl.rt}
	ctx, interrupted, stop := c.watchContext()
	defer stop()
	ms, err := cl.memberList(ctx)
	if err != nil {
		fmt.Fprintln(c.stdout, "cluster may be unhealthy: failed to list members")
		return c.fail(exitServerError, err)
	}
	for {
		healthy := 0
		for _, m := range ms {
			if len(m.ClientURLs) == 0 {
				fmt.Fprintf(c.stdout, "member %s is unreachable: no available published client urls\n", m.ID)
				continue
			}
			checked := false
			for _, u := range m.ClientURLs {
				ok, err := checkHealth(hc, u)
				if err != nil {
					fmt.Fprintf(c.stdout, "failed to check the health of member %s on %s: %v\n", m.ID, u, err)
					continue
				}
				checked = true
				if ok {
					fmt.Fprintf(c.stdout, "member %s is healthy: got healthy result from %s\n", m.ID, u)
					healthy++
				} else {
					fmt.Fprintf(c.stdout, "member %s is unhealthy: got unhealthy result from %s\n", m.ID, u)
				}
				break
			}
			if !checked {
				fmt.Fprintf(c.stdout, "member %s is unreachable: %v are all unreachable\n", m.ID, m.ClientURLs)
			}
		}
		switch healthy {
		case len(ms):
			fmt.Fprintln(c.stdout, "cluster is healthy")
		case 0:
			fmt.Fprintln(c.stdout, "cluster is unavailable")
		default:
			fmt.Fprintln(c.stdout, "cluster is degraded")
		}
		if !forever {
			if healthy == len(ms) {
				return exitSuccess
			}
			return exitClusterNotHealthy
		}
		fmt.Fprintf(c.stdout, "\nnext check after 10 second...\n\n")
		select {
		case <-time.After(healthInterval):
		case <-ctx.Done():
		}
		if interrupted() {
			return exitSuccess
		}
	}
}

func checkHealth(hc *http.Client, u string) (bool, error) {
	resp, err := hc.Get(u + "/health")
	if err != nil {
		return false, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	var result struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(b, &result); err != nil {
		return false, err
	}
	return result.Health == "true", nil
}
