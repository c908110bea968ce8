// Package config holds the server configuration: the etcd flag table, the
// ETCD_* environment forms, the YAML config file and validation.
//
// # Sources and precedence
//
// Every setting is an etcd flag, declared once in the flag table (flags.go)
// with its name, default, usage and the Config field it fills. Load reads the
// three sources the way etcd 3.6 does:
//
//   - Command-line flags, in Go's flag syntax (-name x, --name=x, --version).
//   - ETCD_<NAME> environment variables for flags not given on the command
//     line (--initial-cluster-token is ETCD_INITIAL_CLUSTER_TOKEN). An
//     environment variable for a flag that is also on the command line is an
//     error, as in etcd, even when the two values agree. Unknown ETCD_*
//     variables are reported as warnings, not errors.
//   - A YAML file named by --config-file or ETCD_CONFIG_FILE. When a file is
//     given, every other flag and environment variable is ignored (except
//     --version and --help): the file plus defaults is the whole
//     configuration. Keys are flag names; URL lists are comma-separated
//     strings; heartbeat-interval and election-timeout are integer
//     milliseconds; log-outputs is a YAML list. Unknown keys are warnings.
//     The TLS flags may also be given as etcd's files give them, under
//     client-transport-security: and peer-transport-security: (cert-file,
//     key-file, client-cert-auth, trusted-ca-file, auto-tls, crl-file,
//     allowed-cn, allowed-hostname, ...; see tls.go); so may the socket
//     flags under socket-options: and the discovery flags under
//     discovery-config: (fileKey in flags.go).
//
// # etcd 3.6's deprecations and feature gates
//
// Cairn takes every flag etcd 3.6 takes. Most --experimental-* flags were
// renamed in etcd 3.6 (--experimental-corrupt-check-time became
// --corrupt-check-time) or replaced by a feature gate
// (--experimental-initial-corrupt-check by
// --feature-gates=InitialCorruptCheck=true). Load folds each deprecated flag
// given alone into its successor, with etcd's deprecation warning, and
// refuses a flag given together with its successor, as etcd does (see
// resolve.go for the details, and the one deliberate difference). The
// server reads only the successors: the effective fields (CorruptCheckTime,
// InitialCorruptCheck, ...) and Feature. Flags that mean nothing for
// Cairn's storage (bbolt tuning, WAL file retention, memory locking, log
// rotation, tracing) are accepted, with a warning when changed; asking for
// discovery is an error, since Cairn bootstraps from --initial-cluster.
//
// After the sources are read, two values are derived as etcd derives them:
// an empty --data-dir becomes "<name>.etcd", and when --name is not
// "default" while --initial-cluster still holds its default value, the
// initial cluster becomes this member alone: name=<each
// --initial-advertise-peer-urls URL>.
//
// # Errors
//
// Load reports syntax problems (unknown flags, malformed values, conflicting
// environment variables, unreadable config files); Validate reports semantic
// ones (a member missing from --initial-cluster, timeouts out of range, an
// unusable data directory). Both return every problem at once, joined with
// errors.Join, one line each. Error texts follow etcd's where etcd has one,
// so that operators see the messages they already know.
package config
