package metrics

import "github.com/prometheus/client_golang/prometheus"

// V2StoreCounts are the v2 store's operations on this member: reads and
// writes by action (failed ones included), expired keys, watch requests
// and the watchers now open.
type V2StoreCounts struct {
	Reads, Writes          map[string]uint64
	Expires, WatchRequests uint64
	Watchers               int
}

var (
	v2ReadsDesc = prometheus.NewDesc("etcd_debugging_store_reads_total",
		"Total number of reads action by (get/getRecursive), local to this member.", []string{"action"}, nil)
	v2WritesDesc = prometheus.NewDesc("etcd_debugging_store_writes_total",
		"Total number of writes (e.g. set/compareAndDelete) seen by this member.", []string{"action"}, nil)
	v2ExpiresDesc       = prometheus.NewDesc("etcd_debugging_store_expires_total", "Total number of expired keys.", nil, nil)
	v2WatchRequestsDesc = prometheus.NewDesc("etcd_debugging_store_watch_requests_total",
		"Total number of incoming watch requests (new or reestablished).", nil, nil)
	v2WatchersDesc = prometheus.NewDesc("etcd_debugging_store_watchers", "Count of currently active watchers.", nil, nil)
)

// v2StoreCollector exports V2StoreCounts. As in etcd, an action has a
// series from its first use on.
type v2StoreCollector struct{ read func() V2StoreCounts }

func (c *v2StoreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{v2ReadsDesc, v2WritesDesc, v2ExpiresDesc, v2WatchRequestsDesc, v2WatchersDesc} {
		ch <- d
	}
}

func (c *v2StoreCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.read()
	byAction := func(d *prometheus.Desc, counts map[string]uint64) {
		for action, v := range counts {
			if v > 0 {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), action)
			}
		}
	}
	byAction(v2ReadsDesc, n.Reads)
	byAction(v2WritesDesc, n.Writes)
	ch <- prometheus.MustNewConstMetric(v2ExpiresDesc, prometheus.CounterValue, float64(n.Expires))
	ch <- prometheus.MustNewConstMetric(v2WatchRequestsDesc, prometheus.CounterValue, float64(n.WatchRequests))
	ch <- prometheus.MustNewConstMetric(v2WatchersDesc, prometheus.GaugeValue, float64(n.Watchers))
}
