package ai

import "unsafe"

// unsafeString views b as a string without copying; the string (and
// anything gjson returns from it) must not outlive b's contents.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
