package pricing

// Usage is the token count of one call in one shape for every provider.
//
// Input counts every prompt token, including the ones read from or written
// to a cache; CachedInput, CacheWrite and CacheWrite1h say how many of those
// Input tokens were cache reads and cache writes. This is OpenAI's and
// Gemini's shape (cached tokens are part of prompt_tokens); Anthropic
// reports cache reads and writes beside input_tokens, so AnthropicUsage
// adds them in. Fill Usage through OpenAIUsage, AnthropicUsage or
// GeminiUsage rather than by hand, and count reasoning/thinking tokens in
// Output: every provider bills them as output.
type Usage struct {
	// Input is the number of prompt tokens, cached ones included.
	Input int64 `json:"input_tokens"`
	// Output is the number of generated tokens, reasoning included.
	Output int64 `json:"output_tokens"`
	// CachedInput is how many of Input were read from the provider's cache.
	CachedInput int64 `json:"cached_input_tokens,omitempty"`
	// CacheWrite is how many of Input were written to a 5-minute cache.
	CacheWrite int64 `json:"cache_write_tokens,omitempty"`
	// CacheWrite1h is how many of Input were written to a 1-hour cache.
	CacheWrite1h int64 `json:"cache_write_1h_tokens,omitempty"`
}

// Add returns the sum of two usages (a streamed call's parts, a day's calls).
func (u Usage) Add(o Usage) Usage {
	return Usage{
		Input:        satAdd(u.Input, o.Input),
		Output:       satAdd(u.Output, o.Output),
		CachedInput:  satAdd(u.CachedInput, o.CachedInput),
		CacheWrite:   satAdd(u.CacheWrite, o.CacheWrite),
		CacheWrite1h: satAdd(u.CacheWrite1h, o.CacheWrite1h),
	}
}

// Cost returns the exact cost of a call: uncached prompt tokens at Input,
// cache reads at CachedInput, cache writes at CacheWrite/CacheWrite1h and
// output at Output, all at the rates of the prompt's tier (RatesFor
// u.Input). Negative counts count as 0. If the cache counts add up to more
// than Input (an inconsistent usage report), Input is taken to be their
// sum, so no reported token goes unbilled. Cost does not allocate.
func Cost(p Price, u Usage) Money {
	in, cached, w, w1h := max(u.Input, 0), max(u.CachedInput, 0), max(u.CacheWrite, 0), max(u.CacheWrite1h, 0)
	special := satAdd(satAdd(cached, w), w1h)
	if in < special {
		in = special
	}
	r := p.RatesFor(in)
	total := r.Input.Times(in - special)
	total = total.Add(r.CachedInput.Times(cached))
	total = total.Add(r.CacheWrite.Times(w))
	total = total.Add(r.CacheWrite1h.Times(w1h))
	return total.Add(r.Output.Times(u.Output))
}

// OpenAIUsage is the "usage" object of an OpenAI chat completion or
// embeddings response; Mistral and OpenAI-compatible servers use the same
// fields. The JSON tags match the wire names, so it can be decoded directly.
type OpenAIUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	PromptTokensDetails struct {
		// CachedTokens is the part of PromptTokens read from cache.
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// Usage converts to the common shape. completion_tokens already includes
// reasoning tokens, and prompt_tokens already includes cached_tokens.
func (o OpenAIUsage) Usage() Usage {
	return Usage{Input: o.PromptTokens, Output: o.CompletionTokens, CachedInput: o.PromptTokensDetails.CachedTokens}
}

// AnthropicUsage is the "usage" object of an Anthropic Messages response
// (or the sum of message_start and message_delta usage in a stream).
type AnthropicUsage struct {
	// InputTokens counts only the prompt tokens after the last cache
	// breakpoint: neither cache reads nor cache writes are included.
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	// CacheCreation splits CacheCreationInputTokens by cache lifetime; when
	// absent, every write counts as a 5-minute write.
	CacheCreation struct {
		Ephemeral5mInputTokens int64 `json:"ephemeral_5m_input_tokens"`
		Ephemeral1hInputTokens int64 `json:"ephemeral_1h_input_tokens"`
	} `json:"cache_creation"`
}

// Usage converts to the common shape: Input becomes input_tokens plus cache
// reads plus cache writes, since Anthropic reports them separately.
func (a AnthropicUsage) Usage() Usage {
	w1h := max(a.CacheCreation.Ephemeral1hInputTokens, 0)
	w := max(a.CacheCreationInputTokens, 0) - w1h
	if w < 0 { // the split is larger than the total: trust the split
		w = max(a.CacheCreation.Ephemeral5mInputTokens, 0)
	}
	in := satAdd(satAdd(satAdd(max(a.InputTokens, 0), max(a.CacheReadInputTokens, 0)), w), w1h)
	return Usage{Input: in, Output: a.OutputTokens, CachedInput: a.CacheReadInputTokens, CacheWrite: w, CacheWrite1h: w1h}
}

// GeminiUsage is the "usageMetadata" object of a Gemini generateContent
// response.
type GeminiUsage struct {
	// PromptTokenCount includes CachedContentTokenCount.
	PromptTokenCount        int64 `json:"promptTokenCount"`
	CandidatesTokenCount    int64 `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int64 `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount"`
	CachedContentTokenCount int64 `json:"cachedContentTokenCount"`
}

// Usage converts to the common shape: thoughts are billed as output, and
// tool-use prompt tokens as input.
func (g GeminiUsage) Usage() Usage {
	return Usage{
		Input:       satAdd(g.PromptTokenCount, max(g.ToolUsePromptTokenCount, 0)),
		Output:      satAdd(g.CandidatesTokenCount, max(g.ThoughtsTokenCount, 0)),
		CachedInput: g.CachedContentTokenCount,
	}
}
