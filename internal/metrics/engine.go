package metrics

import "github.com/prometheus/client_golang/prometheus"

// EngineStats are the storage engine's statistics. etcd exports none of its
// own for its bbolt backend beyond sizes, so these are Cairn's names.
type EngineStats struct {
	BlockCacheBytes  float64
	BlockCacheHits   float64
	BlockCacheMisses float64
	MemTableBytes    float64
	L0Files          float64
	Tables           float64
	Flushes          float64
	Compactions      float64
	ReadAmp          float64
}

type engineStatsCollector struct {
	read  func() EngineStats
	descs []*prometheus.Desc
}

// engineMetric names one statistic and picks it from EngineStats.
type engineMetric struct {
	name, help string
	counter    bool
	value      func(EngineStats) float64
}

var engineMetrics = []engineMetric{
	{"block_cache_bytes", "Bytes held by the storage engine's block cache.", false, func(s EngineStats) float64 { return s.BlockCacheBytes }},
	{"block_cache_hits_total", "Block reads served by the storage engine's block cache.", true, func(s EngineStats) float64 { return s.BlockCacheHits }},
	{"block_cache_misses_total", "Block reads the storage engine's block cache could not serve.", true, func(s EngineStats) float64 { return s.BlockCacheMisses }},
	{"memtable_bytes", "Bytes held by the storage engine's memtables.", false, func(s EngineStats) float64 { return s.MemTableBytes }},
	{"l0_tables", "Tables in the storage engine's level 0.", false, func(s EngineStats) float64 { return s.L0Files }},
	{"tables", "Tables in the storage engine.", false, func(s EngineStats) float64 { return s.Tables }},
	{"flushes_total", "Memtable flushes of the storage engine.", true, func(s EngineStats) float64 { return s.Flushes }},
	{"compactions_total", "Compactions of the storage engine.", true, func(s EngineStats) float64 { return s.Compactions }},
	{"read_amplification", "Sorted runs a point read of the storage engine may visit.", false, func(s EngineStats) float64 { return s.ReadAmp }},
}

func engineCollector(read func() EngineStats) *engineStatsCollector {
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
