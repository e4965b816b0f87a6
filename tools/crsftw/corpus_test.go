package main

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedCorpus(t *testing.T) {
	t.Parallel()
	all, err := loadCorpus(embeddedCorpus, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// CRS v4 ships some 4,700 tests; a loader that read one directory or
	// one file would still find some.
	if len(all) < 4000 {
		t.Fatalf("loaded %d tests from the embedded corpus, want over 4000", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].File.FileName < all[i-1].File.FileName {
			t.Fatalf("tests not in file order: %s after %s", all[i].File.FileName, all[i-1].File.FileName)
		}
	}
	if v := corpusVersion(); v != "" && !strings.HasPrefix(v, "v4.") {
		t.Errorf("corpus version %q, want the v4 coraza-coreruleset", v)
	}
}

func TestLoadCorpusFilters(t *testing.T) {
	t.Parallel()
	include := regexp.MustCompile(`^(942100|941100)-`)
	exclude := regexp.MustCompile(`^942100-1$`)
	got, err := loadCorpus(embeddedCorpus, include, exclude)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no tests selected")
	}
	for _, tc := range got {
		id := tc.Test.IdString()
		if !include.MatchString(id) || id == "942100-1" {
			t.Errorf("selected %s", id)
		}
		if tc.Test.RuleId != 942100 && tc.Test.RuleId != 941100 {
			t.Errorf("%s has rule %d", id, tc.Test.RuleId)
		}
	}
}

const corpusFile = `---
meta:
  author: "test"
rule_id: 942100
tests:
  - test_id: 1
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          uri: "/?a=1"
        output:
          log:
            expect_ids: [942100]
`

func TestLoadCorpusSkipsDisabledFiles(t *testing.T) {
	t.Parallel()
	corpus := fstest.MapFS{
		"REQUEST-942/942100.yaml": {Data: []byte(corpusFile)},
		"REQUEST-942/942101.yaml": {Data: []byte(strings.Replace(
			strings.Replace(corpusFile, "942100", "942101", 1), `author: "test"`, "author: test\n  enabled: false", 1))},
	}
	got, err := loadCorpus(corpus, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Test.IdString() != "942100-1" {
		t.Fatalf("got %d tests, want only 942100-1", len(got))
	}
}

func TestLoadCorpusRefusesDuplicateIDs(t *testing.T) {
	t.Parallel()
	corpus := fstest.MapFS{
		"A/942100.yaml": {Data: []byte(corpusFile)},
		"B/942100.yaml": {Data: []byte(corpusFile)},
	}
	if _, err := loadCorpus(corpus, nil, nil); err == nil || !strings.Contains(err.Error(), "942100-1 is in") {
		t.Fatalf("got %v, want the duplicate test named", err)
	}
}

func TestLoadCorpusEmpty(t *testing.T) {
	t.Parallel()
	if _, err := loadCorpus(fstest.MapFS{}, nil, nil); err == nil {
		t.Fatal("an empty corpus loaded")
	}
}

func TestCompileFilter(t *testing.T) {
	t.Parallel()
	if re, err := compileFilter("include", " "); re != nil || err != nil {
		t.Errorf("blank filter: %v %v", re, err)
	}
	if _, err := compileFilter("include", "(942"); err == nil || !strings.Contains(err.Error(), "-include") {
		t.Errorf("bad expression: %v", err)
	}
}
