package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-kv/cairn/internal/storage"
)

// engineStatsCollector exports the storage engine's statistics. They have
// no etcd counterpart (etcd exports nothing of its bbolt backend beyond
// sizes), so they carry Cairn's names.
type engineStatsCollector struct {
	read  func() storage.Stats
	descs []*prometheus.Desc
}

// engineMetric names one statistic and picks it from EngineStats.
type engineMetric struct {
	name, help string
	counter    bool
	value      func(storage.Stats) float64
}

var engineMetrics = []engineMetric{
	{"block_cache_bytes", "Bytes held by the storage engine's block cache.", false, func(s storage.Stats) float64 { return float64(s.BlockCacheBytes) }},
	{"block_cache_hits_total", "Block reads served by the storage engine's block cache.", true, func(s storage.Stats) float64 { return float64(s.BlockCacheHits) }},
	{"block_cache_misses_total", "Block reads the storage engine's block cache could not serve.", true, func(s storage.Stats) float64 { return float64(s.BlockCacheMisses) }},
	{"memtable_bytes", "Bytes held by the storage engine's memtables.", false, func(s storage.Stats) float64 { return float64(s.MemTableBytes) }},
	{"l0_tables", "Tables in the storage engine's level 0.", false, func(s storage.Stats) float64 { return float64(s.L0Files) }},
	{"tables", "Tables in the storage engine.", false, func(s storage.Stats) float64 { return float64(s.Tables) }},
	{"flushes_total", "Memtable flushes of the storage engine.", true, func(s storage.Stats) float64 { return float64(s.Flushes) }},
	{"compactions_total", "Compactions of the storage engine.", true, func(s storage.Stats) float64 { return float64(s.Compactions) }},
	{"read_amplification", "Sorted runs a point read of the storage engine may visit.", false, func(s storage.Stats) float64 { return float64(s.ReadAmp) }},
}

func engineCollector(read func() storage.Stats) *engineStatsCollector {
	c := &engineStatsCollector{read: read}
	for _, m := range engineMetrics {
		c.descs = append(c.descs, prometheus.NewDesc("cairn_engine_"+m.name, m.help, nil, nil))
	}
	return c
}

func (c *engineStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *engineStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for i, m := range engineMetrics {
		kind := prometheus.GaugeValue
		if m.counter {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[i], kind, m.value(s))
	}
}
