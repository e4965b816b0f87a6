package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version and commit may be set at build time:
//
//	go build -ldflags "-X main.version=1.4.0 -X main.commit=$(git rev-parse HEAD)" ./cmd/pinpoint
//
// Otherwise init fills them from the build information the Go toolchain
// embeds, so they are never empty when main runs.
var (
	version string
	commit  string
)

func init() {
	info, _ := debug.ReadBuildInfo()
	version, commit = resolveBuild(version, commit, info)
}

// buildInfo is what `pinpoint version` reports.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// currentBuild describes this binary.
func currentBuild() buildInfo {
	return buildInfo{Version: version, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

// resolveBuild fills what ldflags left empty from the build information the
// Go toolchain embeds (info may be nil): the module version for
// `go install ...@v1.4.0`, the VCS revision for builds from a checkout.
func resolveBuild(v, c string, info *debug.BuildInfo) (string, string) {
	if info != nil {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		if c == "" {
			modified := false
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					c = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if c != "" && modified {
				c += " (modified)"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	return v, c
}

func newVersionCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Pinpoint's version, commit and Go version",
		Long: `Version prints this binary's version, the source commit it was built from
and the Go toolchain and platform. It does not contact the gateway. Quote it
when reporting a bug.`,
		Example: `  pinpoint version
  pinpoint version -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			b := currentBuild()
			if c.output == "json" {
				c.printJSON(b)
				return nil
			}
			fmt.Fprintf(c.stdout, "pinpoint %s\ncommit:   %s\ngo:       %s\nplatform: %s\n", b.Version, b.Commit, b.Go, b.Platform)
			return nil
		},
	}
}
