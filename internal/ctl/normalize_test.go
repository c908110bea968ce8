package ctl

import (
	"regexp"
	"strings"
	"testing"
)

// normalize rewrites what legitimately differs between two runs of the same
// case, so that our output and the reference etcdctl's can be compared byte
// for byte. It is applied to both sides, and golden files are stored
// normalized. Nothing else is touched.
//
//   - The test server's port: "127.0.0.1:40123" becomes "127.0.0.1:PPPPP",
//     keeping the length, so tables and protobuf length prefixes still line
//     up (fresh servers get 5-digit ephemeral ports).
//   - JSON log lines on stderr ({"level":...}) are dropped: the client
//     library's retry warnings and etcdctl's environment warnings carry
//     timestamps, pointers, ports and source positions.
//   - Durations of `endpoint health`: "took = 1.2ms", "took":"1.2ms" and
//     "Took" : 1.2ms become DURATION.
//   - In `endpoint status`, the backend sizes and raft indexes depend on the
//     storage engine and on the server's history: dbSize, dbSizeInUse,
//     raftIndex, raftAppliedIndex (json and fields), the matching columns of
//     the simple format, and the DB SIZE, IN USE, PERCENTAGE NOT IN USE,
//     RAFT INDEX and RAFT APPLIED INDEX cells of the table become N. Tables
//     with such cells (or TOOK) are re-drawn without padding, since their
//     widths follow the values; the exact drawing is pinned by the printer
//     tests.
//   - Lines from stty on stderr: the reference etcdctl turns off echo for
//     password prompts by running stty, which complains when stdin is not a
//     terminal.
//   - Help screens: the DESCRIPTION section is our own wording, so it is
//     dropped.
func normalize(r result) result {
	r.stdout = normalizeStream(r.stdout)
	r.stderr = normalizeStream(r.stderr)
	r.stderr = dropLogLines(r.stderr)
	r.stderr = sttyLineRE.ReplaceAllString(r.stderr, "")
	if strings.HasPrefix(r.stdout, "NAME:\n") {
		r.stdout = dropDescription(r.stdout)
	}
	return r
}

var (
	portRE      = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	tookRE      = regexp.MustCompile(`took = \S+`)
	tookJSONRE  = regexp.MustCompile(`"took":"[^"]*"`)
	tookFieldRE = regexp.MustCompile(`"Took" : \S+`)
	sizeJSONRE  = regexp.MustCompile(`"(dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":\d+`)
	sizeFieldRE = regexp.MustCompile(`"(DBSize|DBSizeInUse|RaftIndex|RaftAppliedIndex)" : \d+`)
	hexIDRE     = regexp.MustCompile(`^[0-9a-f]+$`)
)

func normalizeStream(s string) string {
	s = portRE.ReplaceAllStringFunc(s, func(m string) string {
		port := strings.TrimPrefix(m, "127.0.0.1:")
		return "127.0.0.1:" + strings.Repeat("P", len(port))
	})
	s = tookRE.ReplaceAllString(s, "took = DURATION")
	s = tookJSONRE.ReplaceAllString(s, `"took":"DURATION"`)
	s = tookFieldRE.ReplaceAllString(s, `"Took" : DURATION`)
	s = sizeJSONRE.ReplaceAllString(s, `"$1":N`)
	s = sizeFieldRE.ReplaceAllString(s, `"$1" : N`)

	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		lines[i] = normalizeStatusLine(l)
	}
	return normalizeTables(strings.Join(lines, ""))
}

// normalizeStatusLine masks the variable columns of a simple-format status
// line (16 comma-separated fields, the second a hex member ID).
func normalizeStatusLine(l string) string {
	body := strings.TrimSuffix(l, "\n")
	f := strings.Split(body, ", ")
	if len(f) != 16 || !hexIDRE.MatchString(f[1]) {
		return l
	}
	for _, i := range []int{4, 5, 6, 11, 12} {
		f[i] = "N"
	}
	return strings.Join(f, ", ") + l[len(body):]
}

// variableColumns are the table columns whose values vary between runs.
var variableColumns = map[string]bool{
	"TOOK": true, "DB SIZE": true, "IN USE": true, "PERCENTAGE NOT IN USE": true,
	"RAFT INDEX": true, "RAFT APPLIED INDEX": true,
}

// normalizeTables re-draws, without padding, every table that has a
// variable column, with that column's cells masked.
func normalizeTables(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var out strings.Builder
	for i := 0; i < len(lines); {
		// A table: border, header, border, rows..., border.
		if !strings.HasPrefix(lines[i], "+-") || i+2 >= len(lines) || !strings.HasPrefix(lines[i+1], "|") {
			out.WriteString(lines[i])
			i++
			continue
		}
		j := i + 1
		for j < len(lines) && (strings.HasPrefix(lines[j], "|") || strings.HasPrefix(lines[j], "+-")) {
			j++
		}
		out.WriteString(redrawTable(lines[i:j]))
		i = j
	}
	return out.String()
}

func tableCells(line string) []string {
	line = strings.TrimRight(line, "\n")
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

func redrawTable(lines []string) string {
	header := tableCells(lines[1])
	mask := map[int]bool{}
	for i, h := range header {
		if variableColumns[h] {
			mask[i] = true
		}
	}
	if len(mask) == 0 {
		return strings.Join(lines, "")
	}
	var b strings.Builder
	for k, l := range lines {
		if strings.HasPrefix(l, "+-") {
			b.WriteString("+-+\n")
			continue
		}
		cells := tableCells(l)
		if k > 1 {
			for i := range cells {
				if mask[i] && cells[i] != "" {
					cells[i] = "N"
				}
			}
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

var sttyLineRE = regexp.MustCompile(`(?m)^stty: .*\n?`)

var logLineRE = regexp.MustCompile(`(?m)^\{"level":.*\n?`)

func dropLogLines(s string) string { return logLineRE.ReplaceAllString(s, "") }

// dropDescription removes the DESCRIPTION section of a help screen, up to
// and including the blank line that ends it.
func dropDescription(s string) string {
	start := strings.Index(s, "\nDESCRIPTION:\n")
	if start < 0 {
		return s
	}
	end := strings.Index(s[start+1:], "\n\n")
	if end < 0 {
		return s
	}
	return s[:start+1] + s[start+1+end+2:]
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   result
		want result
	}{
		{
			name: "health simple",
			in:   result{stdout: "127.0.0.1:43210 is healthy: successfully committed proposal: took = 1.234ms\n"},
			want: result{stdout: "127.0.0.1:PPPPP is healthy: successfully committed proposal: took = DURATION\n"},
		},
		{
			name: "log lines dropped",
			in:   result{stderr: "{\"level\":\"warn\",\"msg\":\"x\"}\nError: boom\n"},
			want: result{stderr: "Error: boom\n"},
		},
		{
			name: "status simple",
			in:   result{stdout: "127.0.0.1:1, 8e9e05c52164694d, 3.6.16, 3.6.0, 20 kB, 16 kB, 20%, 2.1 GB, true, false, 2, 5, 5, , , false\n"},
			want: result{stdout: "127.0.0.1:P, 8e9e05c52164694d, 3.6.16, 3.6.0, N, N, N, 2.1 GB, true, false, 2, N, N, , , false\n"},
		},
		{
			name: "status json",
			in:   result{stdout: `[{"Endpoint":"x","Status":{"dbSize":20480,"raftIndex":5,"raftAppliedIndex":5,"dbSizeInUse":16384,"dbSizeQuota":2147483648}}]` + "\n"},
			want: result{stdout: `[{"Endpoint":"x","Status":{"dbSize":N,"raftIndex":N,"raftAppliedIndex":N,"dbSizeInUse":N,"dbSizeQuota":2147483648}}]` + "\n"},
		},
		{
			name: "health table",
			in:   result{stdout: "+------+------+\n| ENDPOINT | TOOK |\n+------+------+\n|  a |  1.2ms |\n+------+------+\n"},
			want: result{stdout: "+-+\n| ENDPOINT | TOOK |\n+-+\n| a | N |\n+-+\n"},
		},
		{
			name: "member table kept",
			in:   result{stdout: "+----+\n| ID |\n+----+\n| 1  |\n+----+\n"},
			want: result{stdout: "+----+\n| ID |\n+----+\n| 1  |\n+----+\n"},
		},
		{
			name: "help description",
			in:   result{stdout: "NAME:\n  put - x\n\nUSAGE:\n  etcdctl put\n\nDESCRIPTION:\n  a\n  \n  b\n\nOPTIONS:\n"},
			want: result{stdout: "NAME:\n  put - x\n\nUSAGE:\n  etcdctl put\n\nOPTIONS:\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalize(tt.in); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
