package content

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with the content, where an editor can find it. Line is 0
// when the problem concerns the whole file (a missing file, say).
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.File + ": " + p.Msg
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Msg
}

// Problems is every problem found in the content, in file and line order.
type Problems []Problem

// Error lists the problems, one "file:line: msg" per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
