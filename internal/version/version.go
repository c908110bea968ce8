// Package version holds the versions Cairn reports.
//
// Cairn reports two versions side by side. Clients gate features on the etcd
// version (kube-apiserver turns RequestWatchProgress off below 3.5.13), so
// every place etcd prints its own version prints EtcdVersion, the etcd release
// whose API and behaviour Cairn implements. Cairn's own release is Version.
package version

import "strings"

const (
	// EtcdVersion is the etcd server version whose API Cairn implements.
	EtcdVersion = "3.6.16"
	// Version is Cairn's own release.
	Version = "0.1.0"
	// StorageVersion is what Status.storage_version and /version "storage" report.
	StorageVersion = "3.6.0"
)

// GitSHA is set at build time with -ldflags "-X .../version.GitSHA=<sha>".
var GitSHA = "Not provided"

// APIVersion is the major.minor of EtcdVersion ("3.6"), as etcdctl prints it.
func APIVersion() string {
	parts := strings.SplitN(EtcdVersion, ".", 3)
	return parts[0] + "." + parts[1]
}

// ClusterVersion is what /version reports for "etcdcluster": major.minor.0.
func ClusterVersion() string { return APIVersion() + ".0" }
