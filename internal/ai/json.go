package ai

import (
	"encoding/json"
	"unsafe"
)

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// unsafeString views b as a string without copying; the string (and
// anything gjson returns from it) must not outlive b's contents.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
