package ctl

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Tables are drawn the way etcdctl draws them:
//
//	+-----------------+--------+
//	|    ENDPOINT     | HEALTH |
//	+-----------------+--------+
//	| 127.0.0.1:2379  |   true |
//	+-----------------+--------+
//
// Headers are centred (an odd space goes right), cells are right-aligned,
// and a cell wider than cellWrapWidth is re-wrapped on spaces into several
// lines: the line breaks are the ones that minimise the sum of squared gaps
// at the ends of all lines but the last. A single word longer than the limit
// stays whole and widens the column.
const cellWrapWidth = 30

// wrapPenalty is added to the cost of a line that is longer than the limit.
const wrapPenalty = 100000

// renderTable writes header and rows as a bordered table.
func renderTable(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	cells := func(row []string) [][]string {
		out := make([][]string, len(header))
		for i := range header {
			var s string
			if i < len(row) {
				s = row[i]
			}
			lines, width := wrapCell(s)
			out[i] = lines
			widths[i] = max(widths[i], width)
		}
		return out
	}
	head := cells(header)
	body := make([][][]string, len(rows))
	for i, r := range rows {
		body[i] = cells(r)
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
	line := func(row [][]string, pad func(string, int) string) {
		height := 0
		for _, c := range row {
			height = max(height, len(c))
		}
		for l := 0; l < height; l++ {
			b.WriteByte('|')
			for i, c := range row {
				var s string
				if l < len(c) {
					s = c[l]
				}
				b.WriteByte(' ')
				b.WriteString(pad(s, widths[i]))
				b.WriteString(" |")
			}
			b.WriteByte('\n')
		}
	}
	border()
	line(head, padCenter)
	border()
	for _, r := range body {
		line(r, padLeft)
	}
	border()
	io.WriteString(w, b.String())
}

func textWidth(s string) int { return utf8.RuneCountInString(s) }

func padLeft(s string, width int) string {
	return strings.Repeat(" ", max(0, width-textWidth(s))) + s
}

func padCenter(s string, width int) string {
	gap := max(0, width-textWidth(s))
	left := gap / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", gap-left)
}

// wrapCell splits a cell into display lines and returns the width its
// column needs.
func wrapCell(s string) ([]string, int) {
	raw := strings.Split(s, "\n")
	limit := 0
	for _, l := range raw {
		limit = max(limit, textWidth(l))
	}
	limit = min(limit, cellWrapWidth)
	lines := wrapWords(strings.Split(strings.Join(raw, " "), " "), limit)
	width := limit
	for _, l := range lines {
		width = max(width, textWidth(l))
	}
	return lines, width
}

// wrapWords joins words into lines of at most limit runes (a longer word
// raises the limit), choosing breaks with the least total squared slack; the
// last line is free.
func wrapWords(words []string, limit int) []string {
	for _, w := range words {
		limit = max(limit, textWidth(w))
	}
	n := len(words)
	// span(i, j) is the width of words[i..j] joined by single spaces.
	prefix := make([]int, n+1)
	for i, w := range words {
		prefix[i+1] = prefix[i] + textWidth(w)
	}
	span := func(i, j int) int { return prefix[j+1] - prefix[i] + (j - i) }

	// cost[i] is the cheapest way to lay out words[i:]; next[i] is where the
	// line starting at word i ends (exclusive).
	cost := make([]int, n+1)
	next := make([]int, n+1)
	for i := n - 1; i >= 0; i-- {
		if span(i, n-1) <= limit {
			cost[i], next[i] = 0, n
			continue
		}
		cost[i] = int(^uint(0) >> 1)
		for j := i + 1; j < n; j++ {
			slack := limit - span(i, j-1)
			c := slack*slack + cost[j]
			if span(i, j-1) > limit {
				c += wrapPenalty
			}
			if c < cost[i] {
				cost[i], next[i] = c, j
			}
		}
	}
	var lines []string
	for i := 0; i < n; i = next[i] {
		lines = append(lines, strings.Join(words[i:next[i]], " "))
	}
	return lines
}
