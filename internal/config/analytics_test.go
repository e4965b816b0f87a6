package config

import (
	"strings"
	"testing"
	"time"
)

// defaultAnalytics is the analytics block with every default applied.
func defaultAnalytics() Analytics {
	return Analytics{Enabled: ptr(true), FlushInterval: Duration(10 * time.Second), MaxKeys: 10000,
		Retention: AnalyticsRetention{Minute: Duration(48 * time.Hour), Hour: Duration(720 * time.Hour), Day: Duration(9600 * time.Hour)}}
}

// fullAnalytics is the analytics block of testdata/full.yaml.
func fullAnalytics(want *Config) {
	want.Analytics = Analytics{Enabled: ptr(true), FlushInterval: Duration(5 * time.Second), MaxKeys: 20000,
		Retention: AnalyticsRetention{Minute: Duration(24 * time.Hour), Hour: Duration(360 * time.Hour), Day: Duration(4800 * time.Hour)}}
}

func TestAnalyticsValidation(t *testing.T) {
	t.Parallel()
	const base = "version: 1\n"
	for _, tc := range []struct{ doc, path, msg string }{
		{"analytics: {flush_interval: 10ms}", "analytics.flush_interval", "must be between 50ms and 5m0s"},
		{"analytics: {flush_interval: 1h}", "analytics.flush_interval", "must be between 50ms and 5m0s"},
		{"analytics: {max_keys: 10}", "analytics.max_keys", "must be between 100 and 1000000"},
		{"analytics: {retention: {minute: 1h}}", "analytics.retention.minute", "must be at least 2h"},
		{"analytics: {retention: {hour: 24h}}", "analytics.retention.hour", "must be at least 48h"},
		{"analytics: {retention: {minute: 100h, hour: 72h}}", "analytics.retention.hour", "must be at least retention.minute (100h0m0s)"},
		{"analytics: {retention: {day: 100h}}", "analytics.retention.day", "must be at least retention.hour (720h0m0s)"},
	} {
		errs := loadErrors(t, "test.yaml", []byte(base+tc.doc+"\n"))
		found := false
		for _, e := range errs {
			if e.Path == tc.path && strings.Contains(e.Message, tc.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %v, want %s: %s", tc.doc, errs, tc.path, tc.msg)
		}
	}
	c := mustLoad(t, base+"analytics: {flush_interval: 100ms, retention: {minute: 2h, hour: 48h, day: 48h}}\n")
	if c.Analytics.FlushInterval.D() != 100*time.Millisecond || c.Analytics.Retention.Day.D() != 48*time.Hour || c.Analytics.MaxKeys != 10000 {
		t.Errorf("analytics = %+v", c.Analytics)
	}
}
