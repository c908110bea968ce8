package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// TimeLayout is how ts is written: etcd's ISO 8601 form with microseconds.
const TimeLayout = "2006-01-02T15:04:05.000000Z0700"

// Format names, as --log-format takes them.
const (
	FormatJSON    = "json"
	FormatConsole = "console"
)

// Options configures a Handler.
type Options struct {
	// Level is the lowest level written; nil means info.
	Level slog.Leveler
	// Format is FormatJSON (also when empty) or FormatConsole.
	Format string
}

// Handler is a slog.Handler writing etcd-shaped lines (see the package
// documentation). Each record is written with one Write call, under a lock
// shared by every handler derived from the same NewHandler call, so lines
// never interleave.
type Handler struct {
	w       *lockedWriter
	level   slog.Leveler
	console bool

	// attrs holds the attributes added by WithAttrs, already encoded,
	// including the openings of the groups they sit in; open counts those
	// groups. pending are groups named by WithGroup that hold nothing yet:
	// slog omits empty groups, so they are opened only once an attribute
	// lands in them.
	attrs   []byte
	open    int
	pending []string
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewHandler returns a Handler writing to w.
func NewHandler(w io.Writer, opts Options) *Handler {
	h := &Handler{w: &lockedWriter{w: w}, level: opts.Level, console: opts.Format == FormatConsole}
	if h.level == nil {
		h.level = slog.LevelInfo
	}
	return h
}

// Enabled reports whether records at level l are written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := h.clone()
	e := h2.encoder()
	e.buf = h2.attrs
	e.openPending(&h2.pending, &h2.open)
	opened := len(e.buf)
	for _, a := range attrs {
		e.attr(a)
	}
	if len(e.buf) == opened { // nothing visible was added: undo the group openings
		return h
	}
	h2.attrs = e.buf
	return h2
}

// WithGroup returns a handler that nests later attributes under name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.pending = append(h2.pending, name)
	return h2
}

func (h *Handler) clone() *Handler {
	h2 := *h
	h2.attrs = bytes.Clone(h.attrs)
	h2.pending = append([]string(nil), h.pending...)
	return &h2
}

func (h *Handler) encoder() *encoder {
	if h.console {
		return &encoder{sep: ", ", colon: ": "}
	}
	return &encoder{sep: ",", colon: ":"}
}

// Handle writes one record as one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	// The record's own attributes, in the innermost group.
	e := h.encoder()
	e.buf = append(e.buf, h.attrs...)
	open := h.open
	pending := h.pending
	before := len(e.buf)
	var recAttrs []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		recAttrs = append(recAttrs, a)
		return true
	})
	if len(recAttrs) > 0 {
		e.openPending(&pending, &open)
		opened := len(e.buf)
		for _, a := range recAttrs {
			e.attr(a)
		}
		if len(e.buf) == opened {
			e.buf = e.buf[:before]
			open = h.open
		}
	}
	for range open {
		e.buf = append(e.buf, '}')
	}
	fields := e.buf

	var line []byte
	if h.console {
		line = h.consoleLine(r, fields)
	} else {
		line = h.jsonLine(r, fields)
	}
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	_, err := h.w.w.Write(line)
	return err
}

func (h *Handler) jsonLine(r slog.Record, fields []byte) []byte {
	b := make([]byte, 0, 128+len(fields)+len(r.Message))
	b = append(b, `{"level":`...)
	b = appendString(b, levelName(r.Level))
	if !r.Time.IsZero() {
		b = append(b, `,"ts":`...)
		b = appendString(b, r.Time.Format(TimeLayout))
	}
	if c := caller(r.PC); c != "" {
		b = append(b, `,"caller":`...)
		b = appendString(b, c)
	}
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	if len(fields) > 0 {
		b = append(b, ',')
		b = append(b, fields...)
	}
	return append(b, '}', '\n')
}

func (h *Handler) consoleLine(r slog.Record, fields []byte) []byte {
	b := make([]byte, 0, 128+len(fields)+len(r.Message))
	if !r.Time.IsZero() {
		b = r.Time.AppendFormat(b, TimeLayout)
		b = append(b, '\t')
	}
	b = append(b, levelName(r.Level)...)
	if c := caller(r.PC); c != "" {
		b = append(b, '\t')
		b = append(b, c...)
	}
	b = append(b, '\t')
	b = append(b, r.Message...)
	if len(fields) > 0 {
		b = append(b, "\t{"...)
		b = append(b, fields...)
		b = append(b, '}')
	}
	return append(b, '\n')
}

// levelName is the lower-case level etcd prints; levels between the named
// ones print as slog does ("info+2"), lower-cased.
func levelName(l slog.Level) string {
	switch l {
	case LevelPanic:
		return "panic"
	case LevelFatal:
		return "fatal"
	}
	return strings.ToLower(l.String())
}

// caller formats the call site as "dir/file.go:line", etcd's short form.
func caller(pc uintptr) string {
	if pc == 0 {
		return ""
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	if f.File == "" {
		return ""
	}
	dir, file := filepath.Split(f.File)
	short := filepath.Join(filepath.Base(dir), file)
	return filepath.ToSlash(short) + ":" + strconv.Itoa(f.Line)
}

// encoder appends attributes as the members of a JSON object; the console
// format uses the same encoding with spaced separators.
type encoder struct {
	buf   []byte
	sep   string
	colon string
}

// comma separates a member from the one before, if any.
func (e *encoder) comma() {
	if n := len(e.buf); n > 0 && e.buf[n-1] != '{' {
		e.buf = append(e.buf, e.sep...)
	}
}

func (e *encoder) key(k string) {
	e.comma()
	e.buf = appendString(e.buf, k)
	e.buf = append(e.buf, e.colon...)
}

// openPending opens the groups named by WithGroup that hold nothing yet.
func (e *encoder) openPending(pending *[]string, open *int) {
	for _, g := range *pending {
		e.key(g)
		e.buf = append(e.buf, '{')
		*open++
	}
	*pending = nil
}

// attr appends one attribute, following slog's rules: values are resolved,
// empty attributes are dropped, a group with no key is inlined and an empty
// group is omitted.
func (e *encoder) attr(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		as := a.Value.Group()
		if len(as) == 0 {
			return
		}
		if a.Key == "" {
			for _, ga := range as {
				e.attr(ga)
			}
			return
		}
		mark := len(e.buf)
		e.key(a.Key)
		e.buf = append(e.buf, '{')
		inner := len(e.buf)
		for _, ga := range as {
			e.attr(ga)
		}
		if len(e.buf) == inner {
			e.buf = e.buf[:mark]
			return
		}
		e.buf = append(e.buf, '}')
		return
	}
	e.key(a.Key)
	e.value(a.Value)
}

func (e *encoder) value(v slog.Value) {
	switch v.Kind() {
	case slog.KindString:
		e.buf = appendString(e.buf, v.String())
	case slog.KindInt64:
		e.buf = strconv.AppendInt(e.buf, v.Int64(), 10)
	case slog.KindUint64:
		e.buf = strconv.AppendUint(e.buf, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		switch {
		case math.IsNaN(f):
			e.buf = append(e.buf, `"NaN"`...)
		case math.IsInf(f, 1):
			e.buf = append(e.buf, `"+Inf"`...)
		case math.IsInf(f, -1):
			e.buf = append(e.buf, `"-Inf"`...)
		default:
			e.buf = strconv.AppendFloat(e.buf, f, 'f', -1, 64)
		}
	case slog.KindBool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case slog.KindDuration:
		// etcd's logs write durations as strings ("100ms").
		e.buf = appendString(e.buf, v.Duration().String())
	case slog.KindTime:
		e.buf = appendString(e.buf, v.Time().Format(TimeLayout))
	default:
		e.any(v.Any())
	}
}

func (e *encoder) any(x any) {
	switch x := x.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
		return
	case error:
		e.buf = appendString(e.buf, x.Error())
		return
	case time.Duration:
		e.buf = appendString(e.buf, x.String())
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		e.buf = appendString(e.buf, fmt.Sprintf("%+v", x))
		return
	}
	e.buf = append(e.buf, bytes.TrimRight(b.Bytes(), "\n")...)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// control characters are escaped; HTML characters are left alone, as zap
// leaves them.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
