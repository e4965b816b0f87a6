package problem

import (
	"fmt"
	"strings"
)

// Markdown renders the reason-code reference (docs/reason-codes.md) from the
// catalog, grouped by family in code order.
func Markdown() []byte {
	var b strings.Builder
	b.WriteString("# Reason codes\n\n")
	b.WriteString("<!-- Generated from internal/problem/catalog.go by `go test ./internal/problem -run TestReasonCodeDocs -update`. Do not edit. -->\n\n")
	b.WriteString("Every response Pinpoint itself writes with a status of 400 or more is an RFC 9457 `application/problem+json` body whose `code` is one of these. ")
	b.WriteString("The same code is in the `Pinpoint-Code` header and the call log. Codes are stable: they are never renamed or reused. ")
	b.WriteString("Codes whose layer is `upstream` are never written by the gateway: they label a backend's own response in headers and logs.\n\n")
	all := All()
	b.WriteString("| code | status | layer | title |\n|---|---|---|---|\n")
	for _, c := range all {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %d | %s | %s |\n", c.Code, anchor(c.Code), c.Status, c.Layer, c.Title)
	}
	family := ""
	for _, c := range all {
		if f := Family(c.Code); f != family {
			family = f
			fmt.Fprintf(&b, "\n## %s.*\n", family)
		}
		fmt.Fprintf(&b, "\n### %s\n\n", c.Code)
		fmt.Fprintf(&b, "Status %d, layer `%s`, stage `%s`. %s.\n\n", c.Status, c.Layer, c.Stage, c.Title)
		if c.Detail != "" {
			fmt.Fprintf(&b, "- Caller sees: %s\n", c.Detail)
		}
		if c.Hint != "" {
			fmt.Fprintf(&b, "- Hint: %s\n", c.Hint)
		}
		if c.Detail != "" || c.Hint != "" {
			b.WriteString("\n")
		}
		b.WriteString(c.Doc)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// anchor is the GitHub-style heading anchor of a code.
func anchor(code string) string {
	return strings.NewReplacer(".", "", "_", "_").Replace(code)
}
