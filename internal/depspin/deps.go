// Package depspin keeps dependencies pinned while packages are being written; removed once they import them.
package depspin

import (
	_ "github.com/coder/websocket"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/google/uuid"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)
