package config

import "strings"

// maxSuggestDistance is how many edits a misspelling may be from the name
// we suggest instead.
const maxSuggestDistance = 2

// closest returns the candidate nearest to s (case-insensitive edit
// distance), if one is within maxSuggestDistance edits and not a complete
// rewrite of a short name. Ties go to the earlier candidate.
func closest(s string, candidates []string) (string, bool) {
	best, bestDist := "", maxSuggestDistance+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if c == s {
			continue
		}
		dist := editDistance(ls, strings.ToLower(c))
		if dist < bestDist && dist < len(c) && dist < len(s) {
			best, bestDist = c, dist
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Names this long are not typos of each other worth suggesting,
		// and the quadratic table should stay small.
		if a == b {
			return 0
		}
		return maxSuggestDistance + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate nearest to s (case-insensitive edit
// distance) for a "did you mean" hint, with the rules config errors use.
// Stage compilers use it for names only they can check.
func Closest(s string, candidates []string) (string, bool) { return closest(s, candidates) }
