package config

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ParseURLs parses a comma-separated list of member URLs, the form of
// --listen-client-urls and its siblings. Items are trimmed of spaces; the
// empty string is the empty list. Each URL must use http, https, unix or
// unixs; http and https URLs must name host:port; none may carry a path.
// The result is sorted by URL string, as etcd sorts it.
func ParseURLs(s string) ([]url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var us []url.URL
	for item := range strings.SplitSeq(s, ",") {
		u, err := parseURL(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		us = append(us, *u)
	}
	sortURLs(us)
	return us, nil
}

// parseURL parses and checks one member URL. The error texts are etcd's.
func parseURL(s string) (*url.URL, error) {
	// Go's parser lets spaces through in some parts; no member URL has
	// one, and refusing them keeps the formatted form stable.
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("URL must not contain spaces or control characters: %q", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if err := checkURL(u, s); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURL applies etcd's rules for member URLs to u, parsed from raw.
func checkURL(u *url.URL, raw string) error {
	switch u.Scheme {
	case "http", "https":
		if _, _, err := net.SplitHostPort(u.Host); err != nil {
			return fmt.Errorf("URL address does not have the form \"host:port\": %s", printable(raw))
		}
	case "unix", "unixs":
	default:
		return fmt.Errorf("URL scheme must be http, https, unix, or unixs: %s", printable(raw))
	}
	if u.Path != "" {
		return fmt.Errorf("URL must not contain a path: %s", printable(raw))
	}
	return nil
}

// FormatURLs joins URLs with commas, the inverse of ParseURLs.
func FormatURLs(us []url.URL) string {
	ss := make([]string, len(us))
	for i := range us {
		ss[i] = us[i].String()
	}
	return strings.Join(ss, ",")
}

func sortURLs(us []url.URL) {
	slices.SortFunc(us, func(a, b url.URL) int { return strings.Compare(a.String(), b.String()) })
}

// urlStrings formats each URL, for comparisons and messages.
func urlStrings(us []url.URL) []string {
	ss := make([]string, len(us))
	for i := range us {
		ss[i] = us[i].String()
	}
	return ss
}

// ParseInitialCluster parses --initial-cluster: comma-separated name=URL
// pairs. A name given several times collects several URLs; empty items are
// skipped; names are kept verbatim, URLs are trimmed and checked as in
// ParseURLs. The empty string is the empty cluster (which Validate rejects,
// since this member is not in it).
func ParseInitialCluster(s string) (map[string][]url.URL, error) {
	m := make(map[string][]url.URL)
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			continue
		}
		name, raw, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not of the form name=url", item)
		}
		if err := checkMemberName(name); err != nil {
			return nil, err
		}
		u, err := parseURL(strings.TrimSpace(raw))
		if err != nil {
			return nil, err
		}
		m[name] = append(m[name], *u)
	}
	for _, us := range m {
		sortURLs(us)
	}
	return m, nil
}

// FormatInitialCluster formats a cluster map as --initial-cluster, sorted by
// name and then URL: "a=http://h1:2380,b=http://h2:2380".
func FormatInitialCluster(m map[string][]url.URL) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(m)) {
		for _, u := range m[name] {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(u.String())
		}
	}
	return b.String()
}

// checkInitialCluster applies etcd's bootstrap checks to this member's view
// of the initial cluster: the member's name is in it, its entry lists
// exactly --initial-advertise-peer-urls, and no URL belongs to two members.
//
// etcd also resolves host names before comparing this member's URLs; Cairn
// compares them as written, so "localhost" and "127.0.0.1" differ (as they
// do in etcd whenever resolution gives different addresses).
func (c *Config) checkInitialCluster() []error {
	var errs []error
	seen := make(map[string]bool)
	for _, name := range slices.Sorted(maps.Keys(c.InitialCluster)) {
		for _, u := range c.InitialCluster[name] {
			if err := checkURL(&u, u.String()); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for --initial-cluster: %w", name+"="+u.String(), err))
				continue
			}
			s := u.String()
			if seen[s] {
				errs = append(errs, fmt.Errorf("initial cluster %s has duplicate url", FormatInitialCluster(c.InitialCluster)))
				return errs
			}
			seen[s] = true
		}
	}
	mine, ok := c.InitialCluster[c.Name]
	if !ok {
		return append(errs, fmt.Errorf("couldn't find local name %q in the initial cluster configuration", c.Name))
	}
	want := urlStrings(c.InitialAdvertisePeerURLs)
	got := urlStrings(mine)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		entry := FormatInitialCluster(map[string][]url.URL{c.Name: mine})
		errs = append(errs, fmt.Errorf("--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s",
			entry, strings.Join(want, ",")))
	}
	return errs
}

// printable returns s as it is, or quoted when it holds control characters,
// so that an error message stays on one line.
func printable(s string) string {
	if hasControl(s) {
		return strconv.Quote(s)
	}
	return s
}

// checkMemberName refuses member names that --initial-cluster cannot carry
// (',' and '=' separate its entries) or that would break log lines and
// etcdctl's tables (control characters). etcd takes them and fails later,
// or prints them raw.
func checkMemberName(name string) error {
	if hasControl(name) || strings.ContainsAny(name, ",=") {
		return fmt.Errorf("member name %q must not contain a control character, ',' or '='", name)
	}
	return nil
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
