package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusThroughPinpoint builds the gateway of this repository and runs
// the CI subset through it, the way scripts/crs-regression.sh --ci does:
// the pass rate must meet the default threshold and every committed
// override of the subset must still hold.
func TestCorpusThroughPinpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the gateway with")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-ci", "-out", out}, &stdout, &stderr)
	if code != 0 {
		failures, _ := os.ReadFile(filepath.Join(out, "failures.txt"))
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nfailures:\n%s", code, &stdout, &stderr, failures)
	}
	if !strings.Contains(stdout.String(), "threshold 99.00 %: met") {
		t.Errorf("no verdict in the output:\n%s", &stdout)
	}
	failures, err := os.ReadFile(filepath.Join(out, "failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(failures), "stale-override") {
		t.Errorf("stale overrides:\n%s", failures)
	}
}
