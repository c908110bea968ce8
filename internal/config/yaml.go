package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"gopkg.in/yaml.v3"
)

// applyYAML sets flags from a YAML document whose top level maps flag names
// to values. A scalar is parsed exactly as the flag's command-line argument
// would be; a list is accepted for list flags (log-outputs, the URL flags,
// initial-cluster and the TLS name lists); null keeps the default. TLS flags
// may instead sit under client-transport-security: and
// peer-transport-security:, as in etcd's files (fileKey). Unknown keys are
// warnings, as etcd ignores them. Every bad entry is reported, each with its
// line; so is a flag set twice, at the top level and in a mapping.
func (c *Config) applyYAML(data []byte) []error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{err}
	}
	if doc.Kind == 0 { // empty document: nothing to set
		return nil
	}
	return c.applyYAMLNode(&doc)
}

func (c *Config) applyYAMLNode(n *yaml.Node) []error {
	n = resolve(n)
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = resolve(n.Content[0])
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: the config file must map flag names to values", n.Line)}
	}
	var errs []error
	seen := make(map[string]bool)
	setAt := make(map[string]int) // flag name -> line of the key that set it
	set := func(key string, k, v *yaml.Node, f *flagSpec) {
		if line, dup := setAt[f.name]; dup {
			errs = append(errs, fmt.Errorf("line %d: key %q sets %s, which line %d already set", k.Line, key, f.name, line))
			return
		}
		setAt[f.name] = k.Line
		c.markGiven(f.name)
		if err := setFromNode(key, f.bind(c), v); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", v.Line, err))
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("line %d: a key must be a flag name", k.Line))
			continue
		}
		key := k.Value
		if seen[key] {
			errs = append(errs, fmt.Errorf("line %d: key %q appears more than once", k.Line, key))
			continue
		}
		seen[key] = true
		if isFileSection(key) {
			errs = append(errs, c.applySectionYAML(key, v, set)...)
			continue
		}
		f := lookupFlag(key)
		if f == nil || f.cmdOnly || f.ignored || f.name != key {
			f = lookupFileKey(key)
		}
		if f == nil {
			c.warn("unrecognized config file key", slog.String("key", key), slog.Int("line", k.Line))
			continue
		}
		set(key, k, v, f)
	}
	return errs
}

// applySectionYAML reads one of the nested mappings of etcd's files (the
// transport security ones, socket-options, discovery-config), named by its
// dotted path, setting each key's flag through set.
func (c *Config) applySectionYAML(path string, n *yaml.Node, set func(key string, k, v *yaml.Node, f *flagSpec)) []error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		what := "settings"
		if path == clientSecurity || path == peerSecurity {
			what = "TLS settings"
		}
		return []error{fmt.Errorf("line %d: %s must map %s to values", n.Line, path, what)}
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("line %d: a key in %s must be a setting name", k.Line, path))
			continue
		}
		key := path + "." + k.Value
		if isFileSection(key) {
			errs = append(errs, c.applySectionYAML(key, v, set)...)
			continue
		}
		f := lookupFileKey(key)
		if f == nil {
			c.warn("unrecognized config file key", slog.String("key", key), slog.Int("line", k.Line))
			continue
		}
		set(key, k, v, f)
	}
	return errs
}

// lookupFileKey finds the flag a config file sets under a key other than
// the flag's own name: a top-level key, or a "section.key" path.
func lookupFileKey(key string) *flagSpec {
	for i := range flagTable {
		if flagTable[i].fileKey == key {
			return &flagTable[i]
		}
	}
	return nil
}

// isFileSection reports whether path (dotted) names a mapping of etcd's
// config files that holds flags.
func isFileSection(path string) bool {
	for _, f := range flagTable {
		if strings.HasPrefix(f.fileKey, path+".") {
			return true
		}
	}
	return false
}

// setFromNode stores one YAML value into the flag named key.
func setFromNode(key string, v value, n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		if err := v.set(n.Value); err != nil {
			return fmt.Errorf("invalid value %q for %s: %w", n.Value, key, err)
		}
		return nil
	case yaml.SequenceNode:
		ls, ok := v.(listSetter)
		if !ok {
			return fmt.Errorf("invalid value for %s: expected a single value, not a list", key)
		}
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("invalid value for %s: list items must be plain values", key)
			}
			items = append(items, item.Value)
		}
		if err := ls.setList(items); err != nil {
			return fmt.Errorf("invalid value %q for %s: %w", strings.Join(items, ","), key, err)
		}
		return nil
	default:
		return fmt.Errorf("invalid value for %s: expected a value, not a mapping", key)
	}
}

// resolve follows an alias (*name) to its anchored node. yaml.v3 rejects
// alias cycles while parsing, so one step suffices for well-formed input;
// a chain is followed to its end.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// UnmarshalYAML sets c from an etcd config file document, through the flag
// table, over whatever c already holds (use Default for etcd's defaults).
// It reports every bad entry at once. Unknown keys are added to c.Warnings.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	return errors.Join(c.applyYAMLNode(n)...)
}

// MarshalYAML writes c as an etcd config file: one key per flag, in table
// order, with values in the types etcd's file uses (integers for counts and
// milliseconds, comma-separated strings for URL lists, lists for
// log-outputs and the TLS name lists), and the flags etcd reads from nested
// mappings (client-transport-security:, peer-transport-security:,
// socket-options:, discovery-config:) in those mappings. Deprecated flags
// are left out: Load has folded their values into their successors, which
// are written instead (or, for --max-snapshots and --v2-deprecation, they
// have no effect), so the file loads without deprecation warnings.
func (c *Config) MarshalYAML() (any, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	sections := make(map[string]*yaml.Node)
	// section returns the mapping at a dotted path, adding it (and its
	// parents) at the end of their parents when new.
	var section func(path string) *yaml.Node
	section = func(path string) *yaml.Node {
		if s, ok := sections[path]; ok {
			return s
		}
		parent, key := m, path
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent, key = section(path[:i]), path[i+1:]
		}
		s := &yaml.Node{Kind: yaml.MappingNode}
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, s)
		sections[path] = s
		return s
	}
	for _, f := range flagTable {
		if f.cmdOnly || f.ignored || f.deprecated() {
			continue
		}
		v := f.bind(c)
		var val yaml.Node
		var err error
		if yv, ok := v.(yamlValuer); ok {
			err = val.Encode(yv.yamlValue())
		} else {
			err = val.Encode(v.String())
		}
		if err != nil {
			return nil, err
		}
		parent, key := m, f.name
		if i := strings.LastIndexByte(f.fileKey, '.'); i >= 0 {
			parent, key = section(f.fileKey[:i]), f.fileKey[i+1:]
		}
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &val)
	}
	return m, nil
}
