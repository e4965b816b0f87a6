// Package examples ships the runnable example configurations; the quickstart
// is embedded in the binary.
package examples

import _ "embed"

// Quickstart is the configuration `pinpoint serve` applies to an empty store
// when started without --config.
//
//go:embed quickstart.yaml
var Quickstart []byte
