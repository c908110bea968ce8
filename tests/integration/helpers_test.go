package integration

import (
	"sort"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func itoa(i int) string { return strconv.Itoa(i) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type clientHolder struct{ c *clientv3.Client }
