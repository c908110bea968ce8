// Package config holds the server configuration: the etcd flag table, the
// ETCD_* environment forms, the YAML config file and validation.
package config

import (
	"net/url"
	"time"
)

// Config is the whole server configuration. YAML tags are etcd's flag names,
// so existing etcd.conf.yml files load unchanged.
type Config struct {
	Name    string `yaml:"name"`
	DataDir string `yaml:"data-dir"`

	ListenClientURLs         []url.URL `yaml:"-"`
	AdvertiseClientURLs      []url.URL `yaml:"-"`
	ListenPeerURLs           []url.URL `yaml:"-"`
	InitialAdvertisePeerURLs []url.URL `yaml:"-"`

	// InitialCluster maps member name to its peer URLs, parsed from
	// --initial-cluster ("name=url,name=url").
	InitialCluster      map[string][]url.URL `yaml:"-"`
	InitialClusterToken string               `yaml:"initial-cluster-token"`
	// InitialClusterState is "new" or "existing".
	InitialClusterState string `yaml:"initial-cluster-state"`

	SnapshotCount     uint64        `yaml:"snapshot-count"`
	HeartbeatInterval time.Duration `yaml:"-"` // flag in milliseconds
	ElectionTimeout   time.Duration `yaml:"-"` // flag in milliseconds

	QuotaBackendBytes int64 `yaml:"quota-backend-bytes"`
	MaxRequestBytes   uint  `yaml:"max-request-bytes"`
	MaxTxnOps         uint  `yaml:"max-txn-ops"`

	LogLevel   string   `yaml:"log-level"`
	Logger     string   `yaml:"logger"`
	LogFormat  string   `yaml:"log-format"`
	LogOutputs []string `yaml:"log-outputs"`
}
