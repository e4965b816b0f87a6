package aitest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/aitest"
)

// The fakes stand behind every contestant in bench/: these say how much
// of a core they need per call, so their share of a result is known.

func benchChat(b *testing.B, stream bool) {
	s := aitest.Start(aitest.OpenAI)
	defer s.Close()
	s.Keep(0)
	text := strings.Repeat("tok ", 50)
	s.Script("m", aitest.Reply{Text: text, Chunks: 50, Usage: aitest.Usage{Input: 20, Output: 50}})
	body := chatBody("m", stream, stream)
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", s.URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer k")
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	})
}

func BenchmarkOpenAIChat(b *testing.B)         { benchChat(b, false) }
func BenchmarkOpenAIChatStream50(b *testing.B) { benchChat(b, true) }
