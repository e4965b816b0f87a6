// Package azure is the provider for Azure OpenAI (kind "azure"): OpenAI's
// format, addressed by deployment instead of model and authenticated by
// an api-key header.
//
// The base URL is the resource's, e.g.
// "https://NAME.openai.azure.com/openai"; a call to deployment D goes to
// {base}/deployments/D/chat/completions?api-version=V (or /embeddings),
// V being Config.APIVersion or DefaultAPIVersion.
package azure

import (
	"net/http"
	"net/url"

	"github.com/pinpointgw/pinpoint/internal/ai/openai"
	"github.com/pinpointgw/pinpoint/internal/ai/provider"
)

// DefaultAPIVersion is the api-version used when the config gives none:
// the GA version that reports usage in streams.
const DefaultAPIVersion = "2024-10-21"

func init() {
	provider.Register("azure", provider.Factory{
		NeedsKey:   true,
		Embeddings: true,
		New: func(c provider.Config) (provider.Provider, error) {
			return New(c)
		},
	})
}

// New builds an Azure OpenAI provider for c; Call.Model is the
// deployment name.
func New(c provider.Config) (*openai.Provider, error) {
	version := c.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	query := "?api-version=" + url.QueryEscape(version)
	return openai.New(c, openai.Dialect{
		NeedsKey: true,
		URL: func(base string, call *provider.Call) string {
			endpoint := "/chat/completions"
			if call.Op == provider.Embeddings {
				endpoint = "/embeddings"
			}
			return base + "/deployments/" + url.PathEscape(call.Model) + endpoint + query
		},
		Auth: func(h http.Header, key string) { h.Set("Api-Key", key) },
	})
}
