// Package codetable parses jmsg's error-code table (codes.tsv in the module
// root). It is shared by the jmsg package and the generator of its constants,
// and imports only the standard library.
package codetable

import (
	"strconv"
	"strings"
)

// Entry is one row of the table.
type Entry struct {
	Code    int
	Name    string // Go constant name
	Message string // English message, exactly as JMessage prints it
	Chinese string // Chinese description; may be empty
}

// Parse parses the table text: one row per line, four tab-separated fields
// (code, name, English message, Chinese description); blank lines and lines
// starting with # are skipped. It rejects malformed rows, duplicate codes and
// duplicate names.
func Parse(text string) ([]Entry, error) {
	var out []Entry
	seenCode := map[int]bool{}
	seenName := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, &Error{Line: i + 1, Msg: "want 4 tab-separated fields, got " + strconv.Itoa(len(f))}
		}
		code, err := strconv.Atoi(f[0])
		if err != nil || code < 0 {
			return nil, &Error{Line: i + 1, Msg: "bad code " + strconv.Quote(f[0])}
		}
		if f[1] == "" || f[2] == "" {
			return nil, &Error{Line: i + 1, Msg: "empty name or message"}
		}
		if seenCode[code] {
			return nil, &Error{Line: i + 1, Msg: "duplicate code " + f[0]}
		}
		if seenName[f[1]] {
			return nil, &Error{Line: i + 1, Msg: "duplicate name " + f[1]}
		}
		seenCode[code], seenName[f[1]] = true, true
		out = append(out, Entry{Code: code, Name: f[1], Message: f[2], Chinese: f[3]})
	}
	return out, nil
}

// Error reports a malformed table row.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Msg }
