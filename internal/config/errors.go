package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found in a configuration document, with the position
// of the offending YAML node. Its text reads
//
//	gateway.yaml:12:14: routes[2].upstream: unknown upstream "ordres" (did you mean "orders"?)
type Error struct {
	// File is the document's name as given to Load ("gateway.yaml").
	File string
	// Line and Column are 1-based positions in the document.
	Line, Column int
	// Path is the field path, e.g. "routes[2].upstream" or
	// "upstreams[0].targets[1].url"; empty for document-level problems such
	// as YAML syntax errors.
	Path string
	// Message says what is wrong and, where possible, how to fix it. It never
	// holds the value of an environment variable.
	Message string
}

// Error formats e as "file:line:col: path: message".
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(e.Column))
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in one document, sorted by position. Load
// returns either nil or a non-empty Errors; use errors.As to get at it.
type Errors []Error

// Error joins the errors, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// sortErrors orders errors by line, column, path and message, and drops
// exact duplicates (one bad node can be reached by two rules).
func sortErrors(es Errors) Errors {
	slices.SortStableFunc(es, func(a, b Error) int {
		return cmp.Or(
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Message, b.Message),
		)
	})
	return slices.Compact(es)
}

// pos is the position of a YAML node.
type pos struct {
	line, col int
}

// report collects errors for one document.
type report struct {
	file string
	errs Errors
}

func (r *report) add(at pos, path, msg string) {
	if at.line < 1 {
		at = pos{1, 1}
	}
	r.errs = append(r.errs, Error{File: r.file, Line: at.line, Column: at.col, Path: path, Message: msg})
}
