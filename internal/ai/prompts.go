package ai

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/pinpointgw/pinpoint/internal/ai/prompt"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// servesPrompt reports whether the route serves the prompt.
func (e *Endpoint) servesPrompt(name string) bool { return e.prompts == nil || e.prompts[name] }

// servePrompt answers POST <prefix>/<name>: the variables are validated
// against the prompt's schema, the template becomes a chat completion on
// the prompt's model (with every access rule, limit and fallback of an
// ordinary call), and the answer is returned as JSON.
func (e *Endpoint) servePrompt(w http.ResponseWriter, x *pipeline.Exchange, name string) *pipeline.Denial {
	p := e.s.prompts[name]
	if p == nil || !e.servesPrompt(name) {
		return &pipeline.Denial{Code: "ai.prompt_unknown", Params: map[string]string{"prompt": name},
			Reason: "no ai.prompts entry " + strconv.Quote(name) + " on route " + e.route}
	}
	vars, complete, err := x.Body(e.maxBody)
	if !complete || pipeline.IsBodyTooLarge(err) {
		return &pipeline.Denial{Code: "request.body_too_large", Stage: "ai",
			Params: map[string]string{"limit": strconv.FormatInt(e.maxBody, 10)}, Reason: "prompt variables over the route's limit"}
	}
	if err := p.Validate(vars); err != nil {
		reason := err.Error()
		var ie *prompt.InputError
		if errors.As(err, &ie) {
			reason = ie.Reason
		}
		return &pipeline.Denial{Code: "ai.prompt_input_invalid", Params: map[string]string{"reason": reason},
			Reason: "prompt " + name + ": " + reason}
	}
	body, err := p.Build(vars)
	if err != nil {
		return &pipeline.Denial{Code: "ai.prompt_input_invalid", Params: map[string]string{"reason": err.Error()},
			Reason: "prompt " + name + ": " + err.Error()}
	}
	c := &call{e: e, x: x, w: w, op: provider.Chat, body: body}
	if dn := c.parse(); dn != nil {
		return dn
	}
	c.rec.Op = "prompt"
	if dn := c.run(); dn != nil || c.promptAnswer == nil {
		return dn
	}
	out, err := p.Answer(c.promptAnswer)
	if err != nil {
		reason := err.Error()
		var oe *prompt.OutputError
		if errors.As(err, &oe) {
			reason = oe.Reason
		}
		c.x.Record(pipeline.Step{Stage: "ai", Outcome: pipeline.OutcomeDeny, Code: "ai.output_invalid", Note: reason})
		return &pipeline.Denial{Code: "ai.output_invalid", Params: map[string]string{"reason": reason},
			Reason: "prompt " + name + ": " + reason}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listPrompts answers GET <prefix> with the prompts the route serves.
func (e *Endpoint) listPrompts(w http.ResponseWriter, x *pipeline.Exchange) *pipeline.Denial {
	b := append(make([]byte, 0, 512), `{"prompts":[`...)
	n := 0
	for _, name := range e.s.promptNames {
		if !e.servesPrompt(name) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		d, _ := json.Marshal(e.s.prompts[name].Describe())
		b = append(b, d...)
		n++
	}
	b = append(b, "]}"...)
	writeJSON(w, http.StatusOK, b)
	return nil
}
