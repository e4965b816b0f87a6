package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/errors")

// testSecret is the value of SECRET_TOKEN in testEnv; no message may show it.
const testSecret = "hunter2-very-secret"

// testEnv is the environment the tests load configs with.
func testEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"FILES_URL":    "http://files.internal:9000",
		"SECRET_TOKEN": testSecret,
		"RETRIES":      "many-" + testSecret,
		"EMPTY":        "",
		"ORDERS_HOST":  "orders.internal",
		"ORDERS_KEY":   "pp_test_orde1111orde_Gq3nXo0r9bVv2ZkTt8pLw4sJm6yHc1dE",
		"JWT_SECRET":   "a-32-byte-secret-for-hs256-test!",
		"TOKEN_KEY":    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}[name]
	return v, ok
}

// loadErrors loads a document that must fail and returns its Errors.
func loadErrors(t *testing.T, name string, doc []byte) Errors {
	t.Helper()
	c, err := Load(name, doc, testEnv)
	if err == nil {
		t.Fatalf("Load(%s) succeeded, want errors; config: %+v", name, c)
	}
	if c != nil {
		t.Errorf("Load(%s) returned a config along with errors", name)
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load(%s) error is %T, want Errors", name, err)
	}
	return errs
}

func TestErrorsGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no error cases found: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			t.Parallel()
			doc, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			errs := loadErrors(t, name, doc)
			got := errs.Error() + "\n"
			for _, e := range errs {
				if e.Line < 1 || e.Column < 1 || e.File != name {
					t.Errorf("error without a proper position: %#v", e)
				}
			}
			if strings.Contains(got, testSecret) || strings.Contains(got, "hunter2") {
				t.Errorf("a secret leaked into the errors:\n%s", got)
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s (run go test -update to accept)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestErrorsSortedAndFormatted(t *testing.T) {
	t.Parallel()
	errs := loadErrors(t, "x.yaml", []byte("version: 3\ngateway:\n  disclosure: loud\n  nope: 1\n"))
	want := "x.yaml:1:10: version: unsupported version 3; the only version is 1\n" +
		"x.yaml:3:15: gateway.disclosure: invalid disclosure \"loud\": use \"minimal\", \"standard\" or \"debug\"\n" +
		"x.yaml:4:3: gateway.nope: unknown field \"nope\""
	if got := errs.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got, want := (Error{Line: 2, Column: 5, Message: "bad"}).Error(), "2:5: bad"; got != want {
		t.Errorf("Error without file or path = %q, want %q", got, want)
	}
}
