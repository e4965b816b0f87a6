package explain

import (
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// This file writes the fixes of the AI gateway's refusals (ai.*).

func (fx *fixer) ai() *Fix {
	rule := fx.accessRule()
	switch fx.code {
	case "ai.request_invalid":
		return &Fix{Cause: "The body of this AI call could not be used: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"The caller should send a JSON object with \"model\" and \"messages\" (chat/completions) or \"input\" (embeddings), as OpenAI's API documents; the official SDKs do."}}
	case "ai.endpoint_unknown":
		return &Fix{Cause: "Route " + fx.x.Route + " serves the OpenAI-compatible API, and " + fx.x.Request.Path + " is none of its endpoints.",
			Actions: []string{"Point the client's base URL at the route's prefix (the part before chat/completions) so the SDK adds chat/completions, embeddings or models itself."}}
	case "ai.model_unknown":
		acts := []string{"The caller should send one of the names `GET models` lists for it."}
		if fx.cfg != nil {
			acts = append(acts, "Models of this revision: "+orSomething(strings.Join(fx.aiModels(), ", "), "none")+
				". To serve the name, add it to ai.models (and to "+fx.routeField("ai.models")+" if the route lists models) and "+fx.apply()+".")
		}
		return &Fix{Cause: "The model is not served here: " + orSomething(fx.why, "see the trace") + ".", Actions: acts}
	case "ai.model_not_allowed":
		acts := []string{"The caller should use a model `GET models` lists for its credential."}
		if rule != nil {
			acts = append(acts, "Access rule "+rule.Name+" allows "+strings.Join(rule.Models, ", ")+"; add the model to ai.access["+rule.Name+"].models, or stop selecting this caller with the rule, and "+fx.apply()+".")
		}
		return &Fix{Cause: "An access rule that applies to this caller does not list the model: " + orSomething(fx.why, "see the trace") + ".", Actions: acts}
	case "ai.tokens_rate_exceeded":
		cause := "The caller's tokens in the last minute, with the calls still running, leave no room for this call: " + orSomething(fx.why, "see the trace") + "."
		acts := []string{"The caller should wait for Retry-After, send shorter prompts, or set a smaller max_tokens (the reservation counts max_tokens, or the rule's reserve_output_tokens when the call sets none)."}
		if rule != nil {
			acts = append(acts, "Or raise ai.access["+rule.Name+"].tokens_per_minute (now "+strconv.FormatInt(rule.TokensPerMinute, 10)+", counted per "+orSomething(rule.Key, "consumer")+") and "+fx.apply()+".")
		}
		return &Fix{Cause: cause, Actions: acts}
	case "ai.budget_exceeded":
		acts := []string{"See what was spent: `pinpoint usage --consumer " + fx.consumerOr() + " --by day,model --since 720h`."}
		if rule != nil {
			acts = append(acts, "Raise ai.access["+rule.Name+"].daily_budget_usd ("+orSomething(rule.DailyBudgetUSD, "none")+") or monthly_budget_usd ("+
				orSomething(rule.MonthlyBudgetUSD, "none")+"), or move the caller to another rule, and "+fx.apply()+"; otherwise the budget resets at the period's end.")
		}
		return &Fix{Cause: "The caller's budget, with the calls still running, leaves no room for this call: " + orSomething(fx.why, "see the trace") + ".", Actions: acts}
	case "ai.provider_unavailable", "ai.provider_denied":
		attempts := fx.aiAttempts()
		cause := "Every provider target of the model failed (" + strconv.Itoa(len(attempts)) + " attempts)."
		if fx.code == "ai.provider_denied" {
			cause = "Every provider target refused the gateway's own credentials (" + strconv.Itoa(len(attempts)) + " attempts); the caller's key is not the problem."
		}
		acts := make([]string, 0, len(attempts)+1)
		for _, a := range attempts {
			acts = append(acts, "Attempt "+a.Rule+": "+a.Note+".")
		}
		if fx.code == "ai.provider_denied" {
			acts = append(acts, "Check the provider key that ai.providers[].api_key references (env: or file:), the account's billing, and the model id or Azure deployment in ai.models[].targets; then "+fx.apply()+".")
		} else {
			acts = append(acts, "Check the providers' status; add a target of another provider (a higher priority number is tried later) to ai.models so calls can fall back, or raise max_concurrency or timeout of ai.providers.")
		}
		return &Fix{Cause: cause, Actions: acts}
	case "ai.prompt_unknown":
		return &Fix{Cause: "No prompt of this name is served by route " + fx.x.Route + ".",
			Actions: []string{"Prompts of this revision: " + orSomething(strings.Join(fx.aiPrompts(), ", "), "none") + ". Add it to ai.prompts (and to " + fx.routeField("ai.prompts") + " if the route lists prompts) and " + fx.apply() + "."}}
	case "ai.prompt_input_invalid":
		return &Fix{Cause: "The variables do not match the prompt's schema: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"The caller should send the variables ai.prompts[].variables describes; `GET` on the route's prefix lists each prompt's schema."}}
	case "ai.output_invalid":
		return &Fix{Cause: "The model's answer did not match the prompt's output schema: " + orSomething(fx.why, "see the trace") + ".",
			Actions: []string{"Make the template ask for the schema's fields explicitly, raise max_tokens in ai.prompts[].parameters if answers are cut off, or target a model with native structured output; then " + fx.apply() + "."}}
	}
	return nil
}

// accessRule is the ai.access rule a refusal names ("ai.access.<name>").
func (fx *fixer) accessRule() *config.AIAccess {
	name, ok := strings.CutPrefix(fx.rule, "ai.access.")
	if !ok || fx.cfg == nil {
		return nil
	}
	for i := range fx.cfg.AI.Access {
		if fx.cfg.AI.Access[i].Name == name {
			return &fx.cfg.AI.Access[i]
		}
	}
	return nil
}

// aiAttempts are the failed provider attempts in the trace.
func (fx *fixer) aiAttempts() []Step {
	var out []Step
	for _, s := range fx.x.Steps {
		if s.Stage == "ai" && s.Outcome == "error" {
			out = append(out, s)
		}
	}
	return out
}

func (fx *fixer) aiModels() []string {
	var out []string
	for _, m := range fx.cfg.AI.Models {
		if fx.rt == nil || fx.rt.AI == nil || len(fx.rt.AI.Models) == 0 || contains(fx.rt.AI.Models, m.Name) {
			out = append(out, m.Name)
		}
	}
	return out
}

func (fx *fixer) aiPrompts() []string {
	if fx.cfg == nil {
		return nil
	}
	var out []string
	for _, p := range fx.cfg.AI.Prompts {
		out = append(out, p.Name)
	}
	return out
}
