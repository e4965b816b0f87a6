package aitest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// RequireNode skips the test when node or npm is not on PATH, or fails it
// when CI=true (CI must run the official-SDK tests, a laptop need not).
// Tests that drive a gateway or a fake with a provider's official npm SDK
// call it first:
//
//	aitest.RequireNode(t)
//	aitest.NPMCI(t, "testdata/aisdk")
//	... exec.Command("node", "--test", ...) in that folder ...
func RequireNode(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true: %v", bin, err)
			}
			t.Skipf("%s not found (%v); install Node.js 20+ to check the fakes against the official SDKs", bin, err)
		}
	}
}

// npmInstalls remembers, per absolute folder, the outcome of the npm ci
// that NPMCI ran (or decided not to run) in this process.
var npmInstalls sync.Map // string -> *npmInstall

type npmInstall struct {
	once sync.Once
	err  string
}

// NPMCI installs the node packages of dir (a folder with package.json and
// a committed package-lock.json) with `npm ci`, when dir/node_modules is
// missing or older than package-lock.json. It runs at most once per folder
// per test process, so parallel tests sharing a folder install it once; a
// failed install fails every test that asks for that folder.
func NPMCI(t testing.TB, dir string) {
	t.Helper()
	key, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := npmInstalls.LoadOrStore(key, &npmInstall{})
	in := v.(*npmInstall)
	in.once.Do(func() { in.err = npmCI(dir) })
	if in.err != "" {
		t.Fatal(in.err)
	}
}

// npmCI runs npm ci in dir unless its installation is current; it returns
// "" or what went wrong.
func npmCI(dir string) string {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err.Error()
	}
	if installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "npm ci in " + dir + ": " + err.Error() + "\n" + string(out)
	}
	return ""
}

// NodeTests runs `node --test` on the *.test.mjs files of dir (there must
// be exactly want of them) with the extra environment variables env, and
// fails the test unless node passed at least one test and failed,
// skipped and cancelled none. It returns the test files, and logs the
// number that passed.
func NodeTests(t testing.TB, dir string, want int, timeout time.Duration, env ...string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.test.mjs"))
	if len(files) != want {
		t.Fatalf("want %d node test files in %s, found %v", want, dir, files)
	}
	args := []string{"--test", "--test-reporter=tap"}
	for _, f := range files {
		args = append(args, filepath.Base(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed (%v):\n%s", err, out)
	}
	summary := map[string]string{}
	for _, m := range tapSummary.FindAllSubmatch(out, -1) {
		summary[string(m[1])] = string(m[2])
	}
	if summary["pass"] == "" || summary["pass"] == "0" || summary["fail"] != "0" || summary["skipped"] != "0" || summary["cancelled"] != "0" {
		t.Fatalf("node test summary %v:\n%s", summary, out)
	}
	t.Logf("node --test: %s tests passed", summary["pass"])
	return files
}

var tapSummary = regexp.MustCompile(`(?m)^# (pass|fail|skipped|todo|cancelled) (\d+)$`)
