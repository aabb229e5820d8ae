package jmsg

import (
	_ "embed"
	"sync"

	"github.com/jmsg-im/jmsg/internal/codetable"
)

//go:generate go run ./internal/gen/errcodes -in codes.tsv -out codes_gen.go

// codesTSV is the error-code table, the single source of every code's
// constant name, English message and Chinese description. Columns, tab
// separated: code, Go constant name, English message, Chinese description.
// Lines starting with # are comments. codes_gen.go is generated from it.
//
//go:embed codes.tsv
var codesTSV string

// CodeInfo describes one error code of the table.
type CodeInfo = codetable.Entry

// codeTable parses codesTSV once. Tests parse the same text, so a failure
// here means a broken build, and it panics.
var codeTable = sync.OnceValues(func() (map[int]CodeInfo, []CodeInfo) {
	infos, err := codetable.Parse(codesTSV)
	if err != nil {
		panic("jmsg: codes.tsv: " + err.Error())
	}
	m := make(map[int]CodeInfo, len(infos))
	for _, in := range infos {
		m[in.Code] = in
	}
	return m, infos
})

// Lookup returns the table entry for code.
func Lookup(code int) (CodeInfo, bool) {
	m, _ := codeTable()
	in, ok := m[code]
	return in, ok
}

// MessageOf returns the English message of code, or "unknown error" for a
// code the table does not hold.
func MessageOf(code int) string {
	if in, ok := Lookup(code); ok {
		return in.Message
	}
	return "unknown error"
}

// ChineseOf returns the Chinese description of code, or "" when there is none.
func ChineseOf(code int) string {
	in, _ := Lookup(code)
	return in.Chinese
}

// Codes returns every entry of the table in table order. The slice is a copy.
func Codes() []CodeInfo {
	_, infos := codeTable()
	return append([]CodeInfo(nil), infos...)
}
