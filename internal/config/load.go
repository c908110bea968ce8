package config

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
)

// Load builds the configuration from command-line arguments (without the
// program name) and an environment in os.Environ form, with etcd's
// precedence: a config file, when one is named, replaces flags and
// environment; otherwise flags, then ETCD_* variables, then defaults. See the
// package documentation for the details.
//
// With --version or --help Load stops after the command line and returns
// defaults with ShowVersion or ShowHelp set. Load checks syntax only; call
// Validate for the semantic checks. On error the Config is nil and the error
// joins every problem found, one line each.
func Load(args []string, environ []string) (*Config, error) {
	c := defaults()
	onCmdLine := make(map[string]bool)
	if errs := c.parseArgs(args, onCmdLine); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.ShowVersion || c.ShowHelp {
		derive(c)
		return c, nil
	}

	env := envLookup(environ)
	file := c.ConfigFile
	if file == "" {
		file, _ = env(envName("config-file"))
	}
	if file != "" {
		fc := defaults()
		fc.ConfigFile = file
		if errs := fc.loadFile(file); len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		c = fc
	} else {
		if errs := c.applyEnv(environ, onCmdLine); len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		c.explicit = onCmdLine
		c.given = maps.Clone(onCmdLine)
	}
	if errs := c.resolve(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	if c.DataDir == "" {
		c.warn("'data-dir' was empty; using default", slog.String("data-dir", c.Name+".etcd"))
	}
	if c.Name == DefaultName {
		c.warn("member uses the default name; give each member its own --name", slog.String("name", c.Name))
	}
	derive(c)
	return c, nil
}

// UsageError marks a problem with the command line itself: an unknown
// flag, a missing argument, a value the flag cannot parse. etcd exits with
// status 2 for these (Go's flag package does) and 1 for every other
// configuration error; the message is the wrapped error's.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// parseArgs reads the command line in Go's flag syntax: -flag, --flag,
// -flag=value, -flag value; boolean flags take no separate argument; "--"
// or the first non-flag argument ends the flags (and etcd rejects any
// argument left over, though as a plain error: status 1). Unlike Go's flag package it keeps going after an
// error so that every problem is reported together. The names of the flags
// given are recorded in given.
func (c *Config) parseArgs(args []string, given map[string]bool) []error {
	var errs []error
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if i+1 < len(args) {
				errs = append(errs, fmt.Errorf("%q is not a valid flag", args[i+1]))
			}
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			errs = append(errs, fmt.Errorf("%q is not a valid flag", arg))
			break
		}
		name := strings.TrimPrefix(arg[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			errs = append(errs, usageErrorf("bad flag syntax: %s", printable(arg)))
			continue
		}
		name, val, hasVal := strings.Cut(name, "=")
		f := lookupFlag(name)
		if f == nil {
			errs = append(errs, usageErrorf("flag provided but not defined: -%s", printable(name)))
			// Skip what is probably its value, so that one unknown
			// flag gives one error rather than a second, confusing
			// "not a valid flag" for its argument.
			if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
			}
			continue
		}
		v := f.bind(c)
		if _, isBool := v.(boolFlag); isBool {
			if !hasVal {
				val = "true"
			}
			if err := v.set(val); err != nil {
				errs = append(errs, usageErrorf("invalid boolean value %q for -%s: %v", val, printable(name), err))
			}
			given[f.name] = true
			continue
		}
		if !hasVal {
			if i+1 == len(args) {
				errs = append(errs, usageErrorf("flag needs an argument: -%s", printable(name)))
				continue
			}
			i++
			val = args[i]
		}
		if err := v.set(val); err != nil {
			errs = append(errs, usageErrorf("invalid value %q for flag -%s: %v", val, printable(name), err))
		}
		given[f.name] = true
	}
	return errs
}

// envLookup returns a lookup over environ ("KEY=VALUE" strings). Like
// os.Getenv, it returns the first of duplicated keys.
func envLookup(environ []string) func(string) (string, bool) {
	return func(key string) (string, bool) {
		for _, kv := range environ {
			if k, v, ok := strings.Cut(kv, "="); ok && k == key {
				return v, true
			}
		}
		return "", false
	}
}

// applyEnv sets every flag not given on the command line from its ETCD_*
// variable. A variable for a flag that is on the command line is an error
// (etcd's rule: one of the two is stale, and guessing which is worse), even
// when empty. ETCD_VERSION is refused with a warning, since container images
// often set it to a version string; other unknown ETCD_* variables are
// warnings. Flags set here are added to given.
func (c *Config) applyEnv(environ []string, given map[string]bool) []error {
	byEnv := make(map[string]*flagSpec)
	for i := range flagTable {
		if !flagTable[i].cmdOnly {
			byEnv[envName(flagTable[i].name)] = &flagTable[i]
		}
	}
	var errs []error
	done := make(map[string]bool)
	for _, kv := range environ {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(key, "ETCD_") || done[key] {
			continue
		}
		done[key] = true
		f := byEnv[key]
		switch {
		case key == envName("config-file"):
			// Read by Load before it gets here.
		case key == envName("version"):
			c.warn("cannot set special environment variable", slog.String("key", key), slog.String("value", val))
		case f == nil:
			c.warn("unrecognized environment variable", slog.String("environment-variable", kv))
		case given[f.name]:
			errs = append(errs, fmt.Errorf("conflicting environment variable %q is shadowed by corresponding command-line flag (either unset environment variable or disable flag)", key))
		default:
			if err := f.bind(c).set(val); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for %s: %v", val, key, err))
				continue
			}
			given[f.name] = true
		}
	}
	return errs
}

// loadFile reads a YAML config file over c. Every error names the file.
func (c *Config) loadFile(path string) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	errs := c.applyYAML(data)
	for i, err := range errs {
		errs[i] = fmt.Errorf("%s: %w", path, err)
	}
	return errs
}
