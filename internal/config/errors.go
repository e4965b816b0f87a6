package config

import (
	"cmp"
	"errors"
	"fmt"
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

// FieldError is a problem a compiler found in one block of a loaded
// configuration, at Path relative to that block ("allow_origins[2]"; empty
// for the block itself). The gateway turns it into an Error with the
// block's path prefixed and the position Load recorded. Stage constructors
// return one, or several joined with errors.Join.
type FieldError struct {
	Path    string
	Message string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Fieldf builds a FieldError.
func Fieldf(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// BlockErrors converts err, returned by the compiler of the block at
// path, into positioned errors of c: every FieldError in err's tree (see
// errors.Join) becomes one Error; any other error becomes one Error at path.
func (c *Config) BlockErrors(path string, err error) Errors {
	if err == nil {
		return nil
	}
	var out Errors
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var fe *FieldError
		if errors.As(e, &fe) {
			p := path
			if fe.Path != "" {
				if fe.Path[0] == '[' {
					p += fe.Path
				} else {
					p = join(path, fe.Path)
				}
			}
			out = append(out, c.Errorf(p, "%s", fe.Message))
			return
		}
		out = append(out, c.Errorf(path, "%s", e.Error()))
	}
	walk(err)
	return out
}
