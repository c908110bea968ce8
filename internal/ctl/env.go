package ctl

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

// envPrefix starts the environment variable of every global flag:
// --dial-timeout is ETCDCTL_DIAL_TIMEOUT.
const envPrefix = "ETCDCTL_"

// envName is the environment variable that can set a global flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// lookupEnv finds key in an os.Environ-style list. The last entry wins, as
// with os.Getenv.
func lookupEnv(environ []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

// applyEnv fills the global flags that were not given on the command line
// from their ETCDCTL_* variables, the way etcdctl does it when a command
// first needs its client:
//
//   - an empty variable counts as unset;
//   - a variable for a flag that was also given explicitly is fatal (exit 1),
//     even when both say the same;
//   - a value that does not parse is no error: the flag keeps what its
//     parser left, which is zero for durations and numbers;
//   - any other ETCDCTL_* variable gets a warning ("unrecognized environment
//     variable"), except ETCDCTL_API=3 and the ones the running command
//     reads itself (known), such as watch's ETCDCTL_WATCH_KEY.
//
// Messages are log lines on stderr, as etcdctl writes them.
func applyEnv(globals *pflag.FlagSet, environ []string, lg *zap.Logger, known ...string) error {
	used := map[string]bool{}
	var conflict string
	globals.VisitAll(func(f *pflag.Flag) {
		if conflict != "" {
			return
		}
		key := envName(f.Name)
		val, ok := lookupEnv(environ, key)
		if !ok || val == "" {
			return
		}
		used[key] = true
		if f.Changed {
			conflict = key
			return
		}
		_ = f.Value.Set(val) // etcdctl ignores parse errors too
	})
	if conflict != "" {
		lg.Fatal("conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
			zap.String("environment-variable", conflict))
		return silentExit(ExitError)
	}
	for _, kv := range environ {
		key, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, envPrefix) || used[key] || slices.Contains(known, key) {
			continue
		}
		if key == "ETCDCTL_API" && (val == "" || val == "3") {
			continue
		}
		lg.Warn("unrecognized environment variable", zap.String("environment-variable", kv))
	}
	return nil
}

// writeDebugEnv prints every global flag's effective value as
// ETCDCTL_<NAME>=<value>, which is what --debug shows first.
func writeDebugEnv(w io.Writer, globals *pflag.FlagSet) {
	globals.VisitAll(func(f *pflag.Flag) {
		fmt.Fprintf(w, "%s=%s\n", envName(f.Name), f.Value.String())
	})
}
