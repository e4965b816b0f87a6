package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// followPage is how many records one --follow poll asks for.
const followPage = 1000

// page asks the admin API for records: the newest matching ones when
// after is 0 and follow is false, else (following) up to followPage
// records with a sequence number above after, oldest first.
type page[T any] func(ctx context.Context, after int64, follow bool) ([]T, error)

// tail prints the newest matching records in the order they happened and,
// with follow, polls for newer ones every c.pollInterval until ctx ends.
// none is printed (text output) when there is nothing to show and follow
// is off. Used by `logs` and `audit`.
func tail[T any](ctx context.Context, c *cli, fetch page[T], seq func(T) int64, print func(T), none string, follow bool) error {
	recs, err := fetch(ctx, 0, false)
	if err != nil {
		return c.fail(err)
	}
	// The newest come first; print in the order they happened.
	slices.Reverse(recs)
	var last int64
	for _, r := range recs {
		print(r)
		last = max(last, seq(r))
	}
	if !follow {
		if len(recs) == 0 && c.output == "text" {
			fmt.Fprintln(c.stderr, none)
		}
		return nil
	}
	tick := time.NewTicker(c.pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for {
			recs, err := fetch(ctx, last, true)
			if err != nil {
				if ctx.Err() != nil {
					// Interrupted mid-request: the normal end of --follow.
					return nil
				}
				return c.fail(err)
			}
			for _, r := range recs {
				print(r)
				last = max(last, seq(r))
			}
			if len(recs) < followPage {
				break
			}
		}
	}
}
