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
		if key == clientSecurity || key == peerSecurity {
			errs = append(errs, c.applySecurityYAML(key, v, set)...)
			continue
		}
		f := lookupFlag(key)
		if f == nil || f.cmdOnly || f.name != key {
			c.warn("unrecognized config file key", slog.String("key", key), slog.Int("line", k.Line))
			continue
		}
		set(key, k, v, f)
	}
	return errs
}

// applySecurityYAML reads one of etcd's transport security mappings,
// setting each key's flag through set.
func (c *Config) applySecurityYAML(section string, n *yaml.Node, set func(key string, k, v *yaml.Node, f *flagSpec)) []error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return []error{fmt.Errorf("line %d: %s must map TLS settings to values", n.Line, section)}
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("line %d: a key in %s must be a setting name", k.Line, section))
			continue
		}
		key := section + "." + k.Value
		f := lookupFileKey(key)
		if f == nil {
			c.warn("unrecognized config file key", slog.String("key", key), slog.Int("line", k.Line))
			continue
		}
		set(key, k, v, f)
	}
	return errs
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
// log-outputs and the TLS name lists), and the TLS flags etcd reads from
// client-transport-security: and peer-transport-security: in those
// mappings.
func (c *Config) MarshalYAML() (any, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	sections := make(map[string]*yaml.Node)
	for _, f := range flagTable {
		if f.cmdOnly {
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
		if section, nested, ok := strings.Cut(f.fileKey, "."); ok {
			if sections[section] == nil {
				sections[section] = &yaml.Node{Kind: yaml.MappingNode}
				m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: section}, sections[section])
			}
			parent, key = sections[section], nested
		}
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &val)
	}
	return m, nil
}
