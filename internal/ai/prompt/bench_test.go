package prompt

import (
	"strconv"
	"strings"
	"testing"
)

// benchBody is a typical request: a paragraph of text and a number.
var benchBody = []byte(`{"text":` + strconv.Quote(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 24)) + `,"max_words":50,"lang":"German"}`)

func BenchmarkValidateBuild(b *testing.B) {
	p := mustCompile(b, summarize)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if err := p.Validate(benchBody); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Build(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	p := mustCompile(b, summarize)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Validate(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	p := mustCompile(b, summarize)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if _, err := p.Build(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnswer(b *testing.B) {
	p := mustCompile(b, summarize)
	body := completion(strconv.Quote(`{"summary":"A fox jumps over a dog, again and again.","words":9}`), `null`, `"stop"`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Answer(body); err != nil {
			b.Fatal(err)
		}
	}
}
