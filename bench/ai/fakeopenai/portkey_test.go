package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// portkeyDir holds bench/ai.sh's pinned Portkey gateway.
const portkeyDir = "../portkey"

// needNode skips without node and npm, and fails instead when CI=true.
func needNode(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not installed: skipping the Portkey test", tool)
		}
	}
}

// npmCI installs dir's lockfile when node_modules is missing or older than it.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestThroughPortkey runs the pinned Portkey gateway as bench/ai.sh does and
// sends it a non-streamed and a streamed chat completion for the fake, with
// Portkey's provider headers. It checks both what bench/ai.sh relies on (the
// setup works end to end: the pinned versions, the loopback preload, the
// forwarded provider key) and that a real AI gateway parses the fake's JSON
// and SSE and gives them back unchanged in meaning.
func TestThroughPortkey(t *testing.T) {
	needNode(t)
	npmCI(t, portkeyDir)
	const key = "sk-portkey-test"
	const chunks = 7
	fake := httptest.NewServer(handler(options{chunks: chunks, apiKey: key}))
	t.Cleanup(fake.Close)

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "--require", "./loopback.cjs",
		"node_modules/@portkey-ai/gateway/build/start-server.js", "--headless", fmt.Sprintf("--port=%d", port))
	cmd.Dir = portkeyDir
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("Portkey's output:\n%s", logs.String())
		}
	})

	url := fmt.Sprintf("http://127.0.0.1:%d/v1/chat/completions", port)
	send := func(body, auth string) (*http.Response, []byte, error) {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-portkey-provider", "openai")
		req.Header.Set("x-portkey-custom-host", fake.URL+"/v1")
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	// Portkey prints a spinner for about a second before it listens.
	var resp *http.Response
	var body []byte
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, body, err = send(chatBody+`}`, "Bearer "+key)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Portkey did not answer within 30 s: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("non-streamed: status %d: %s", resp.StatusCode, body)
	}
	var c completion
	decodeStrict(t, body, &c)
	if c.ID != CompletionID || len(c.Choices) != 1 || c.Choices[0].Message == nil {
		t.Errorf("non-streamed reply through Portkey = %s", body)
	}
	checkUsage(t, c.Usage, chunks)

	t.Run("streamed", func(t *testing.T) {
		resp, body, err := send(chatBody+`,"stream":true,"stream_options":{"include_usage":true}}`, "Bearer "+key)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s (with @hono/node-server 1.14 or later Portkey 1.15.2 fails every stream)", resp.StatusCode, body)
		}
		events := readSSE(t, bytes.NewReader(body))
		if len(events) != chunks+4 || events[len(events)-1].data != "[DONE]" {
			t.Fatalf("got %d events ending %q, want %d ending [DONE]", len(events), events[len(events)-1].data, chunks+4)
		}
		var text strings.Builder
		for _, ev := range events[:len(events)-1] {
			var c completion
			decodeStrict(t, []byte(ev.data), &c)
			if len(c.Choices) == 1 && c.Choices[0].Delta != nil && c.Choices[0].Delta.Content != nil {
				text.WriteString(*c.Choices[0].Delta.Content)
			}
			if c.Usage != nil {
				checkUsage(t, c.Usage, chunks)
			}
		}
		if want := nonStreamed(t, options{chunks: chunks}); text.String() != want {
			t.Errorf("streamed text through Portkey %q, want %q", text.String(), want)
		}
	})

	t.Run("provider key is forwarded", func(t *testing.T) {
		resp, body, err := send(chatBody+`}`, "Bearer sk-wrong")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("with a wrong key: status %d: %s, want the fake's 401", resp.StatusCode, body)
		}
		var e map[string]any
		if err := json.Unmarshal(body, &e); err != nil || e["error"] == nil {
			t.Errorf("401 body %s is not the fake's OpenAI error (%v)", body, err)
		}
	})
}
