// Package providers links every provider package the gateway ships, so
// that their kinds are registered with internal/ai/provider.
package providers

import (
	// Each package registers its kinds in init.
	_ "github.com/pinpointgw/pinpoint/internal/ai/anthropic"
	_ "github.com/pinpointgw/pinpoint/internal/ai/azure"
	_ "github.com/pinpointgw/pinpoint/internal/ai/gemini"
	_ "github.com/pinpointgw/pinpoint/internal/ai/mistral"
	_ "github.com/pinpointgw/pinpoint/internal/ai/openai"
)
