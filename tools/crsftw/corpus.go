package main

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	crstests "github.com/corazawaf/coraza-coreruleset/v4/tests"
	schema "github.com/coreruleset/ftw-tests-schema/v2/types"
	"github.com/coreruleset/go-ftw/v2/test"
)

// embeddedCorpus is the CRS regression corpus of the coraza-coreruleset
// module, the same version whose rules the gateway embeds.
var embeddedCorpus fs.FS = crstests.FS

// testCase is one test of the corpus with the file it comes from.
type testCase struct {
	File *test.FTWTest
	Test schema.Test
}

// loadCorpus reads every test file (DIR/NNNNNN.yaml) of corpus, in path
// order, and returns the tests whose id include matches (nil: all) and
// exclude does not (nil: none).
func loadCorpus(corpus fs.FS, include, exclude *regexp.Regexp) ([]testCase, error) {
	files, err := fs.Glob(corpus, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("corpus: no test files (*/*.yaml)")
	}
	slices.Sort(files)
	var out []testCase
	seen := map[string]string{}
	for _, name := range files {
		b, err := fs.ReadFile(corpus, name)
		if err != nil {
			return nil, err
		}
		f, err := test.GetTestFromYaml(b, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("corpus: %s: %w", name, err)
		}
		if f.Meta.Enabled != nil && !*f.Meta.Enabled {
			continue
		}
		for _, tc := range f.Tests {
			id := tc.IdString()
			if prev, dup := seen[id]; dup {
				return nil, fmt.Errorf("corpus: test %s is in %s and %s", id, prev, name)
			}
			seen[id] = name
			if include != nil && !include.MatchString(id) {
				continue
			}
			if exclude != nil && exclude.MatchString(id) {
				continue
			}
			out = append(out, testCase{File: f, Test: tc})
		}
	}
	return out, nil
}

// compileFilter compiles an -include or -exclude expression; "" is nil.
// Like go-ftw's, it is matched against test ids ("942100-3"), so
// "942100" selects every test of that rule and "^9421" a range.
func compileFilter(flag, expr string) (*regexp.Regexp, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", flag, err)
	}
	return re, nil
}
