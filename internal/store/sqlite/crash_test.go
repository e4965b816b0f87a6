package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinpointgw/pinpoint/internal/store"
)

// crashDBEnv tells the re-executed test binary to run as the crash helper
// against the database at its value.
const crashDBEnv = "PINPOINT_SQLITE_CRASH_DB"

// TestCrashHelper is the child process of TestCrashDurability: it appends
// revisions until it is killed, printing each number and hash right after
// AppendRevision returns, and after each one an audit entry of varying
// size, printing its sequence number right after AppendAudit returns. It exits by itself when stdout breaks (the parent
// is gone) or after a large bounded number of appends.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("helper process for TestCrashDurability")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	for i := range 100000 {
		r, err := s.AppendRevision(context.Background(), store.Revision{
			Author: "crash-helper", Source: "test", Summary: fmt.Sprint("append ", i),
			Document: crashDoc(os.Getpid(), i),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "append:", err)
			os.Exit(3)
		}
		if _, err := fmt.Printf("committed %d %s\n", r.Number, r.Hash); err != nil {
			os.Exit(4)
		}
		e := []store.AuditEntry{{Actor: "crash-helper", Action: store.AuditKeyCreated, ObjectKind: store.AuditObjectKey,
			ObjectID: strconv.FormatInt(r.Number, 10), Detail: []byte(`{"pad":"` + strings.Repeat("x", (i*613)%3000) + `"}`)}}
		if err := s.AppendAudit(context.Background(), e); err != nil {
			fmt.Fprintln(os.Stderr, "audit:", err)
			os.Exit(3)
		}
		if _, err := fmt.Printf("audited %d %d\n", e[0].Seq, r.Number); err != nil {
			os.Exit(4)
		}
	}
	os.Exit(5)
}

// crashDoc is a document of varying size (up to ~40 KiB, several database
// pages) so that a kill can land in the middle of writing one.
func crashDoc(pid, i int) []byte {
	line := fmt.Sprintf("pid %d append %d\n", pid, i)
	return bytes.Repeat([]byte(line), 1+(i*997)%2000)
}

// TestCrashDurability kills a process that is appending revisions with
// SIGKILL, several times, and checks after each kill that every revision the
// process saw committed is in the database intact, with its audit entry,
// that numbering is still gap-free, and that every audit entry the process
// saw appended survived.
func TestCrashDurability(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	reported := map[int64]string{} // number -> hash, across all kills
	audited := map[int64]int64{}   // audit seq -> revision number, across all kills
	const kills, linesBeforeKill = 5, 5

	for kill := range kills {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}

		sc := bufio.NewScanner(stdout)
		seen := 0
		for sc.Scan() {
			var (
				n    int64
				hash string
			)
			var seq int64
			if _, err := fmt.Sscanf(sc.Text(), "audited %d %d", &seq, &n); err == nil {
				audited[seq] = n
				continue
			}
			if _, err := fmt.Sscanf(sc.Text(), "committed %d %s", &n, &hash); err != nil {
				continue // test framework output
			}
			reported[n] = hash
			seen++
			if seen == linesBeforeKill {
				// Lines already in the pipe are read below: they were committed too.
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		_ = cmd.Wait()
		cancel()
		if seen < linesBeforeKill {
			t.Fatalf("kill %d: helper reported %d commits before exiting; stderr:\n%s", kill, seen, stderr.String())
		}
		if ps := cmd.ProcessState; ps == nil || ps.Exited() {
			t.Fatalf("kill %d: helper was not killed by the signal: %v", kill, ps)
		}
		verifyAfterCrash(t, path, reported, audited)
	}
}

func verifyAfterCrash(t *testing.T, path string, reported map[int64]string, audited map[int64]int64) {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	latest, err := s.LatestRevision(t.Context())
	if err != nil {
		t.Fatalf("latest after kill: %v", err)
	}
	for n := int64(1); n <= latest.Number; n++ {
		r, err := s.Revision(t.Context(), n)
		if err != nil {
			t.Fatalf("revision %d of %d after kill: %v", n, latest.Number, err)
		}
		sum := sha256.Sum256(r.Document)
		if hex.EncodeToString(sum[:]) != r.Hash || !strings.HasPrefix(string(r.Document), "pid ") {
			t.Fatalf("revision %d: document does not match its hash", n)
		}
		if want, ok := reported[n]; ok && r.Hash != want {
			t.Fatalf("revision %d: hash %s, helper reported %s", n, r.Hash, want)
		}
	}
	for n := range reported {
		if n > latest.Number {
			t.Fatalf("revision %d was reported committed but is lost (latest is %d)", n, latest.Number)
		}
	}
	// Each revision's audit entry commits in its transaction: a kill
	// leaves neither a revision without its entry nor an entry without
	// its revision.
	entries, err := s.QueryAudit(t.Context(), store.AuditQuery{Action: store.AuditRevisionApplied, Ascending: true, Limit: 10000})
	if err != nil {
		t.Fatalf("audit after kill: %v", err)
	}
	if int64(len(entries)) != latest.Number {
		t.Fatalf("%d revision audit entries after kill, want %d", len(entries), latest.Number)
	}
	for i, e := range entries {
		if e.Revision != int64(i+1) || e.ObjectID != strconv.Itoa(i+1) {
			t.Fatalf("audit entry %d names revision %d (%s), want %d", i, e.Revision, e.ObjectID, i+1)
		}
	}
	// Every entry AppendAudit returned is stored intact.
	stored, err := s.QueryAudit(t.Context(), store.AuditQuery{Action: store.AuditKeyCreated, Limit: 10000})
	if err != nil {
		t.Fatalf("audit after kill: %v", err)
	}
	bySeq := make(map[int64]store.AuditEntry, len(stored))
	for _, e := range stored {
		bySeq[e.Seq] = e
	}
	for seq, n := range audited {
		e, ok := bySeq[seq]
		if !ok || e.ObjectID != strconv.FormatInt(n, 10) || !json.Valid(e.Detail) {
			t.Fatalf("audit entry %d (revision %d) was reported appended but is lost or damaged: %+v", seq, n, e)
		}
	}
}
