//go:build race

package gateway

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of pooled paths mean nothing under -race.
const raceEnabled = true
