package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// value is one flag bound to its Config field.
type value interface {
	// set parses s in flag syntax and stores it.
	set(s string) error
	// String formats the stored value in flag syntax, so that
	// set(String()) restores it.
	String() string
}

// listSetter is implemented by values that also accept a YAML sequence.
type listSetter interface {
	setList(items []string) error
}

// boolFlag marks values that need no argument on the command line.
type boolFlag interface{ isBool() }

// yamlValuer gives the value to write in a YAML config file, when the flag
// string would be the wrong YAML type.
type yamlValuer interface{ yamlValue() any }

// The errors Go's flag package uses for unparsable numbers; etcd reports
// them in these words.
var (
	errParse = errors.New("parse error")
	errRange = errors.New("value out of range")
)

func numError(err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return errRange
	}
	return errParse
}

type stringValue struct{ p *string }

func (v *stringValue) set(s string) error { *v.p = s; return nil }
func (v *stringValue) String() string     { return *v.p }

// enumValue is a string restricted to a fixed set, checked as it is parsed.
type enumValue struct {
	p       *string
	allowed []string
}

func (v *enumValue) set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return fmt.Errorf("valid values are %s", strings.Join(v.allowed, ", "))
	}
	*v.p = s
	return nil
}
func (v *enumValue) String() string { return *v.p }

type boolValue struct{ p *bool }

func (v *boolValue) set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errParse
	}
	*v.p = b
	return nil
}
func (v *boolValue) String() string { return strconv.FormatBool(*v.p) }
func (v *boolValue) isBool()        {}
func (v *boolValue) yamlValue() any { return *v.p }

type uint64Value struct{ p *uint64 }

func (v *uint64Value) set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	*v.p = n
	return nil
}
func (v *uint64Value) String() string { return strconv.FormatUint(*v.p, 10) }
func (v *uint64Value) yamlValue() any { return *v.p }

type uintValue struct{ p *uint }

func (v *uintValue) set(s string) error {
	n, err := strconv.ParseUint(s, 0, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = uint(n)
	return nil
}
func (v *uintValue) String() string { return strconv.FormatUint(uint64(*v.p), 10) }
func (v *uintValue) yamlValue() any { return uint64(*v.p) }

type int64Value struct{ p *int64 }

func (v *int64Value) set(s string) error {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	*v.p = n
	return nil
}
func (v *int64Value) String() string { return strconv.FormatInt(*v.p, 10) }
func (v *int64Value) yamlValue() any { return *v.p }

// millisValue is a duration given as a whole number of milliseconds, the
// unit of etcd's --heartbeat-interval and --election-timeout, both on the
// command line and in the config file.
type millisValue struct{ p *time.Duration }

// maxMillis keeps n*time.Millisecond from overflowing.
const maxMillis = uint64(1<<63-1) / uint64(time.Millisecond)

func (v *millisValue) set(s string) error {
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return numError(err)
	}
	if n > maxMillis {
		return errRange
	}
	*v.p = time.Duration(n) * time.Millisecond
	return nil
}
func (v *millisValue) String() string {
	return strconv.FormatInt(int64(*v.p/time.Millisecond), 10)
}
func (v *millisValue) yamlValue() any { return int64(*v.p / time.Millisecond) }

// durationValue is a Go duration ("5s", "10m") on the command line; a bare
// integer counts nanoseconds, which is how etcd's YAML config files give
// durations.
type durationValue struct{ p *time.Duration }

func (v *durationValue) set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return errRange
		}
		*v.p = time.Duration(n)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errParse
	}
	if d < 0 {
		return errRange
	}
	*v.p = d
	return nil
}
func (v *durationValue) String() string { return v.p.String() }
func (v *durationValue) yamlValue() any { return int64(*v.p) }

// csvValue is a comma-separated list of strings kept in the order given,
// items verbatim (etcd's --cipher-suites and --peer-cert-allowed-cn behave
// so). The empty string is the empty list.
type csvValue struct{ p *[]string }

func (v *csvValue) set(s string) error {
	if s == "" {
		*v.p = nil
		return nil
	}
	return v.setList(strings.Split(s, ","))
}
func (v *csvValue) setList(items []string) error {
	*v.p = nil
	if len(items) > 0 {
		*v.p = slices.Clone(items)
	}
	return nil
}

// String joins the list with commas. Items holding commas (possible from
// a config file's list) do not survive set(String()); the YAML list form
// keeps them.
func (v *csvValue) String() string { return strings.Join(*v.p, ",") }
func (v *csvValue) yamlValue() any {
	if *v.p == nil {
		return []string{}
	}
	return slices.Clone(*v.p)
}

// urlsValue is a comma-separated list of URLs, stored sorted as etcd does.
type urlsValue struct{ p *[]url.URL }

func (v *urlsValue) set(s string) error {
	us, err := ParseURLs(s)
	if err != nil {
		return err
	}
	*v.p = us
	return nil
}
func (v *urlsValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }
func (v *urlsValue) String() string               { return FormatURLs(*v.p) }

// clusterValue is --initial-cluster.
type clusterValue struct{ p *map[string][]url.URL }

func (v *clusterValue) set(s string) error {
	m, err := ParseInitialCluster(s)
	if err != nil {
		return err
	}
	*v.p = m
	return nil
}
func (v *clusterValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }
func (v *clusterValue) String() string               { return FormatInitialCluster(*v.p) }

// listValue is a comma-separated list of strings, stored sorted and without
// duplicates (etcd's --log-outputs behaves so).
type listValue struct{ p *[]string }

func (v *listValue) set(s string) error { return v.setList(strings.Split(s, ",")) }
func (v *listValue) setList(items []string) error {
	out := slices.Clone(items)
	slices.Sort(out)
	*v.p = slices.Compact(out)
	return nil
}

// String joins the list with commas. A list whose items contain commas (a
// file path, say) does not survive set(String()); the config file's YAML
// list form keeps such items intact.
func (v *listValue) String() string { return strings.Join(*v.p, ",") }
func (v *listValue) yamlValue() any { return slices.Clone(*v.p) }

type intValue struct{ p *int }

func (v *intValue) set(s string) error {
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = int(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(*v.p) }
func (v *intValue) yamlValue() any { return int64(*v.p) }

// uint32Value is etcd's --max-concurrent-streams: unlike the other numbers
// it reports strconv's own error ("strconv.ParseUint: parsing "-1":
// invalid syntax"), as etcd's flag does.
type uint32Value struct{ p *uint32 }

func (v *uint32Value) set(s string) error {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return err
	}
	*v.p = uint32(n)
	return nil
}
func (v *uint32Value) String() string { return strconv.FormatUint(uint64(*v.p), 10) }
func (v *uint32Value) yamlValue() any { return uint64(*v.p) }

// choiceValue is a string restricted to a fixed set, refused with etcd's
// terse "invalid value" (--discovery-fallback).
type choiceValue struct {
	p       *string
	allowed []string
}

func (v *choiceValue) set(s string) error {
	if !slices.Contains(v.allowed, s) {
		return errors.New("invalid value")
	}
	*v.p = s
	return nil
}
func (v *choiceValue) String() string { return *v.p }

// choicesValue is a comma-separated list of strings from a fixed set,
// kept as given (--v2-deprecation); an item outside the set is refused as
// etcd refuses it.
type choicesValue struct {
	p       *string
	allowed []string
}

func (v *choicesValue) set(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		if !slices.Contains(v.allowed, item) {
			return fmt.Errorf("invalid value %q", item)
		}
	}
	*v.p = s
	return nil
}
func (v *choicesValue) String() string { return *v.p }

// stringSetValue is a comma-separated set of strings, stored sorted,
// without duplicates or empty items (--host-whitelist); the empty string
// is the empty set.
type stringSetValue struct{ p *[]string }

func (v *stringSetValue) set(s string) error { return v.setList(strings.Split(s, ",")) }
func (v *stringSetValue) setList(items []string) error {
	out := slices.DeleteFunc(slices.Clone(items), func(s string) bool { return s == "" })
	slices.Sort(out)
	*v.p = slices.Compact(out)
	if len(*v.p) == 0 {
		*v.p = nil
	}
	return nil
}
func (v *stringSetValue) String() string { return strings.Join(*v.p, ",") }

// corsValue is --cors: "*", or comma-separated origins, each checked as a
// member URL is (etcd parses them with the same rules), stored as their
// URL strings, sorted and without duplicates.
type corsValue struct{ p *[]string }

func (v *corsValue) set(s string) error {
	if s == "*" {
		*v.p = []string{"*"}
		return nil
	}
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		u, err := parseURL(strings.TrimSpace(item))
		if err != nil {
			return err
		}
		out = append(out, u.String())
	}
	slices.Sort(out)
	*v.p = slices.Compact(out)
	return nil
}
func (v *corsValue) setList(items []string) error { return v.set(strings.Join(items, ",")) }
func (v *corsValue) String() string               { return strings.Join(*v.p, ",") }

// ignoredValue is one of the etcd v2 flags etcd still accepts and ignores:
// any value, or none.
type ignoredValue struct{}

func (ignoredValue) set(string) error { return nil }
func (ignoredValue) String() string   { return "" }
func (ignoredValue) isBool()          {}
