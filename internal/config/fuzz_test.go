package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no document makes Load panic, and that it always
// returns either a config or a non-empty Errors whose every entry has a
// position. Seeds are every document in testdata.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/errors/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			doc, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(doc)
		}
	}
	f.Add([]byte("version: 1\nroutes: [{name: a, paths: [\"/${X:-y}\"], upstream: u}]\nupstreams: [{name: u, targets: [{url: \"http://a:1\"}]}]\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := Load("fuzz.yaml", doc, testEnv)
		if err == nil {
			if c == nil {
				t.Fatal("Load returned neither a config nor an error")
			}
			// A loaded config must survive the gateway's other entry points.
			_ = Summary(Diff(nil, c))
			return
		}
		if c != nil {
			t.Fatal("Load returned a config along with errors")
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T %v is not a non-empty Errors", err, err)
		}
		for _, e := range errs {
			if e.Line < 1 || e.Column < 1 {
				t.Fatalf("error without a position: %#v", e)
			}
		}
	})
}
