package ctlv2

// The command tree, with etcdctl v2's names, summaries, argument usages
// and flags, in the order its help screen lists them.

func ttlFlag() *flagSpec {
	return &flagSpec{names: []string{"ttl"}, kind: intFlag, showDef: " (default: 0)", usage: "key time-to-live in seconds"}
}

var (
	sortFlag   = &flagSpec{names: []string{"sort"}, kind: boolFlag, usage: "returns result in sorted order"}
	quorumFlag = &flagSpec{names: []string{"quorum", "q"}, kind: boolFlag, usage: "require quorum for get request"}
)

var rootCommand = &command{
	name:  "etcdctl",
	usage: "A simple command line client for etcd.",
}

func init() {
	rootCommand.subs = []*command{
		{
			name: "backup", usage: "--data-dir=... --backup-dir={output}",
			usageText: "[deprecated] offline backup an etcd directory.",
			description: "Performs an offline backup of etcd directory.\n\n" +
				"Moved to `./etcdutl backup` and going to be decomissioned in v3.5\n\n" +
				"The recommended (online) backup command is: `./etcdctl snapshot save ...`.\n\n",
			flags: []*flagSpec{
				{names: []string{"data-dir"}, kind: stringFlag, usage: "Path to the etcd data dir"},
				{names: []string{"wal-dir"}, kind: stringFlag, usage: "Path to the etcd wal dir"},
				{names: []string{"backup-dir"}, kind: stringFlag, usage: "Path to the backup dir"},
				{names: []string{"backup-wal-dir"}, kind: stringFlag, usage: "Path to the backup wal dir"},
				{names: []string{"with-v3"}, kind: boolFlag, usage: "Backup v3 backend data"},
			},
			action: backupAction,
		},
		{
			name: "cluster-health", usage: "check the health of the etcd cluster", argsUsage: " ",
			flags:  []*flagSpec{{names: []string{"forever", "f"}, kind: boolFlag, usage: "forever check the health every 10 second until CTRL+C"}},
			action: clusterHealthAction,
		},
		{
			name: "mk", usage: "make a new key with a given value", argsUsage: "<key> <value>",
			flags: []*flagSpec{
				{names: []string{"in-order"}, kind: boolFlag, usage: "create in-order key under directory <key>"},
				ttlFlag(),
			},
			action: mkAction,
		},
		{
			name: "mkdir", usage: "make a new directory", argsUsage: "<key>",
			flags:  []*flagSpec{ttlFlag()},
			action: func(c *cmdContext) int { return mkdirAction(c, prevMissing) },
		},
		{
			name: "rm", usage: "remove a key or a directory", argsUsage: "<key>",
			flags: []*flagSpec{
				{names: []string{"dir"}, kind: boolFlag, usage: "removes the key if it is an empty directory or a key-value pair"},
				{names: []string{"recursive", "r"}, kind: boolFlag, usage: "removes the key and all child keys(if it is a directory)"},
				{names: []string{"with-value"}, kind: stringFlag, usage: "previous value"},
				{names: []string{"with-index"}, kind: intFlag, showDef: " (default: 0)", usage: "previous index"},
			},
			action: rmAction,
		},
		{
			name: "rmdir", usage: "removes the key if it is an empty directory or a key-value pair", argsUsage: "<key>",
			action: rmdirAction,
		},
		{
			name: "get", usage: "retrieve the value of a key", argsUsage: "<key>",
			flags:  []*flagSpec{sortFlag, quorumFlag},
			action: getAction,
		},
		{
			name: "ls", usage: "retrieve a directory", argsUsage: "[key]",
			flags: []*flagSpec{
				sortFlag,
				{names: []string{"recursive", "r"}, kind: boolFlag, usage: "returns all key names recursively for the given path"},
				{names: []string{"p"}, kind: boolFlag, usage: "append slash (/) to directories"},
				quorumFlag,
			},
			action: lsAction,
		},
		{
			name: "set", usage: "set the value of a key", argsUsage: "<key> <value>",
			description: "Set sets the value of a key.\n\n" +
				"   When <value> begins with '-', <value> is interpreted as a flag.\n" +
				"   Insert '--' for workaround:\n\n" +
				"   $ set -- <key> <value>",
			flags: []*flagSpec{
				ttlFlag(),
				{names: []string{"swap-with-value"}, kind: stringFlag, usage: "previous value"},
				{names: []string{"swap-with-index"}, kind: intFlag, showDef: " (default: 0)", usage: "previous index"},
			},
			action: setAction,
		},
		{
			name: "setdir", usage: "create a new directory or update an existing directory TTL", argsUsage: "<key>",
			flags:  []*flagSpec{ttlFlag()},
			action: func(c *cmdContext) int { return mkdirAction(c, prevIgnore) },
		},
		{
			name: "update", usage: "update an existing key with a given value", argsUsage: "<key> <value>",
			flags:  []*flagSpec{ttlFlag()},
			action: updateAction,
		},
		{
			name: "updatedir", usage: "update an existing directory", argsUsage: "<key> <value>",
			flags:  []*flagSpec{ttlFlag()},
			action: updatedirAction,
		},
		{
			name: "watch", usage: "watch a key for changes", argsUsage: "<key>",
			flags: []*flagSpec{
				{names: []string{"forever", "f"}, kind: boolFlag, usage: "forever watch a key until CTRL+C"},
				{names: []string{"after-index"}, kind: intFlag, showDef: " (default: 0)", usage: "watch after the given index"},
				{names: []string{"recursive", "r"}, kind: boolFlag, usage: "returns all values for key and child keys"},
			},
			action: watchAction,
		},
		{
			name: "exec-watch", usage: "watch a key for changes and exec an executable", argsUsage: "<key> <command> [args...]",
			flags: []*flagSpec{
				{names: []string{"after-index"}, kind: intFlag, showDef: " (default: 0)", usage: "watch after the given index"},
				{names: []string{"recursive", "r"}, kind: boolFlag, usage: "watch all values for key and child keys"},
			},
			action: execWatchAction,
		},
		memberCommand,
		userCommand,
		roleCommand,
		authCommand,
	}
}
