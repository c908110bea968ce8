package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/cairn-kv/cairn/internal/config"
)

// Levels above slog's four, for etcd's --log-level panic and fatal. Records
// at these levels are only written; panicking or exiting is the caller's
// business (the raft and gRPC adapters do it).
const (
	LevelPanic = slog.Level(12)
	LevelFatal = slog.Level(16)
)

// ParseLevel maps a --log-level value to its slog level.
func ParseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "panic":
		return LevelPanic, nil
	case "fatal":
		return LevelFatal, nil
	}
	return 0, fmt.Errorf("unknown log level: %s, supported values %s", s, "debug, info, warn, error, panic, fatal")
}

// New builds the server's logger from --log-level, --log-format and
// --log-outputs. Outputs are "default" and "stderr" (standard error; etcd
// would use journald under systemd for "default", Cairn does not),
// "stdout", or file paths, opened for appending and created if missing;
// each line goes to every output. Files stay open for the life of the
// process. cfg should have passed Validate; New still reports a bad level,
// format or output rather than guessing.
func New(cfg *config.Config) (*slog.Logger, error) {
	level, err := ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	if cfg.LogFormat != FormatJSON && cfg.LogFormat != FormatConsole {
		return nil, fmt.Errorf("unknown log format: %s, supported values json, console", cfg.LogFormat)
	}
	w, err := openOutputs(cfg.LogOutputs)
	if err != nil {
		return nil, err
	}
	return slog.New(NewHandler(w, Options{Level: level, Format: cfg.LogFormat})), nil
}

// openOutputs opens each named output once and joins them.
func openOutputs(names []string) (io.Writer, error) {
	if len(names) == 0 {
		names = []string{"default"}
	}
	var ws []io.Writer
	var seen []string
	var files []*os.File
	for _, name := range names {
		key := name
		if key == "default" {
			key = "stderr"
		}
		if slices.Contains(seen, key) {
			continue
		}
		seen = append(seen, key)
		switch key {
		case "stderr":
			ws = append(ws, os.Stderr)
		case "stdout":
			ws = append(ws, os.Stdout)
		default:
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				for _, f := range files {
					f.Close()
				}
				return nil, fmt.Errorf("open sink %q: %w", name, err)
			}
			files = append(files, f)
			ws = append(ws, f)
		}
	}
	if len(ws) == 1 {
		return ws[0], nil
	}
	return io.MultiWriter(ws...), nil
}
