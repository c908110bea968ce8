package utl

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cairn-kv/cairn/internal/snapshot"
)

// Output formats (-w).
const (
	formatSimple = "simple"
	formatJSON   = "json"
	formatTable  = "table"
	formatFields = "fields"
	// etcdutl lists protobuf among its formats but prints nothing in it.
	formatProtobuf = "protobuf"
)

// checkFormat refuses an unknown -w value. etcdutl does so before it reads
// anything, but takes "protobuf" and refuses it only when printing (see
// print).
func (c *cli) checkFormat() error {
	switch c.writeOut {
	case formatSimple, formatJSON, formatTable, formatFields, formatProtobuf:
		return nil
	}
	return exitErrf(ExitBadFeature, "unsupported output format")
}

// print prints a result in the -w format with printFn, or refuses protobuf.
func (c *cli) print(w io.Writer, printFn func(io.Writer, string)) error {
	if c.writeOut == formatProtobuf {
		return exitErrf(ExitBadFeature, "protobuf not supported as output format")
	}
	printFn(w, c.writeOut)
	return nil
}

// statusJSON is `snapshot status -w json`, fields in etcdutl's order.
type statusJSON struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	TotalKey  int    `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
	Version   string `json:"version"`
}

func printStatus(w io.Writer, format string, st snapshot.Status) {
	size := humanBytes(uint64(st.TotalSize))
	switch format {
	case formatJSON:
		printJSON(w, statusJSON(st))
	case formatTable:
		renderTable(w, []string{"HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "VERSION"}, [][]string{{
			strconv.FormatUint(uint64(st.Hash), 16), strconv.FormatInt(st.Revision, 10),
			strconv.Itoa(st.TotalKey), size, st.Version,
		}})
	case formatFields:
		fmt.Fprintf(w, "%q : %d\n", "Hash", st.Hash)
		fmt.Fprintf(w, "%q : %d\n", "Revision", st.Revision)
		fmt.Fprintf(w, "%q : %d\n", "Keys", st.TotalKey)
		fmt.Fprintf(w, "%q : %d\n", "Size", st.TotalSize)
		fmt.Fprintf(w, "%q : %s\n", "Version", st.Version)
	default:
		fmt.Fprintf(w, "%x, %d, %d, %s, %s\n", st.Hash, st.Revision, st.TotalKey, size, st.Version)
	}
}

// hashKVJSON is `hashkv -w json`, fields in etcdutl's order.
type hashKVJSON struct {
	Hash            uint32 `json:"hash"`
	HashRevision    int64  `json:"hashRevision"`
	CompactRevision int64  `json:"compactRevision"`
}

func printHashKV(w io.Writer, format string, h snapshot.HashKV) {
	switch format {
	case formatJSON:
		printJSON(w, hashKVJSON(h))
	case formatTable:
		renderTable(w, []string{"HASH", "HASH REVISION", "COMPACT REVISION"}, [][]string{{
			strconv.FormatUint(uint64(h.Hash), 10), strconv.FormatInt(h.HashRevision, 10),
			strconv.FormatInt(h.CompactRevision, 10),
		}})
	case formatFields:
		fmt.Fprintf(w, "%q : %d\n", "Hash", h.Hash)
		fmt.Fprintf(w, "%q : %d\n", "Hash revision", h.HashRevision)
		fmt.Fprintf(w, "%q : %d\n", "Compact revision", h.CompactRevision)
	default:
		fmt.Fprintf(w, "%d, %d, %d\n", h.Hash, h.HashRevision, h.CompactRevision)
	}
}

// printJSON prints v, a struct of numbers and strings, as one JSON line.
func printJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}

// humanBytes formats a size in SI units as etcdutl prints sizes: whole
// bytes below 10, then one significant decimal below 10 of a unit and none
// above ("9 B", "1.5 kB", "20 kB", "2.1 GB"), halves rounded up before
// printing.
func humanBytes(n uint64) string {
	if n < 10 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	e := math.Floor(math.Log(float64(n)) / math.Log(1000))
	v := math.Floor(float64(n)/math.Pow(1000, e)*10+0.5) / 10
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, units[int(e)])
	}
	return fmt.Sprintf("%.0f %s", v, units[int(e)])
}

// renderTable draws header and rows the way etcdutl's tables look: headers
// centred (an odd space goes right), cells right-aligned, one space of
// padding in each cell.
func renderTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
		for _, r := range rows {
			widths[i] = max(widths[i], len(r[i]))
		}
	}
	var b strings.Builder
	border := func() {
		b.WriteByte('+')
		for _, wd := range widths {
			b.WriteString(strings.Repeat("-", wd+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(cells []string, centre bool) {
		b.WriteByte('|')
		for i, s := range cells {
			gap := widths[i] - len(s)
			left := gap
			if centre {
				left = gap / 2
			}
			b.WriteString(strings.Repeat(" ", left+1))
			b.WriteString(s)
			b.WriteString(strings.Repeat(" ", gap-left+1))
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	border()
	line(header, true)
	border()
	for _, r := range rows {
		line(r, false)
	}
	border()
	io.WriteString(w, b.String())
}
