package config

import (
	"strconv"
	"time"
)

// Analytics defaults and bounds.
const (
	DefaultAnalyticsFlushInterval   = 10 * time.Second
	DefaultAnalyticsMaxKeys         = 10000
	DefaultAnalyticsRetentionMinute = 48 * time.Hour
	DefaultAnalyticsRetentionHour   = 720 * time.Hour
	DefaultAnalyticsRetentionDay    = 9600 * time.Hour

	minAnalyticsFlushInterval = 50 * time.Millisecond
	maxAnalyticsFlushInterval = 5 * time.Minute
	minAnalyticsMaxKeys       = 100
	maxAnalyticsMaxKeys       = 1000000
	minRetentionMinute        = 2 * time.Hour
	minRetentionHour          = 48 * time.Hour
)

// analytics validates the analytics block.
func (v *validator) analytics(path string, a *Analytics) {
	if d := a.FlushInterval.D(); d != 0 && (d < minAnalyticsFlushInterval || d > maxAnalyticsFlushInterval) {
		v.fail(join(path, "flush_interval"), "must be between "+minAnalyticsFlushInterval.String()+" and "+maxAnalyticsFlushInterval.String())
	}
	if a.MaxKeys != 0 && (a.MaxKeys < minAnalyticsMaxKeys || a.MaxKeys > maxAnalyticsMaxKeys) {
		v.fail(join(path, "max_keys"), "must be between "+strconv.Itoa(minAnalyticsMaxKeys)+" and "+strconv.Itoa(maxAnalyticsMaxKeys))
	}
	r := join(path, "retention")
	minute := a.Retention.Minute.Or(DefaultAnalyticsRetentionMinute)
	hour := a.Retention.Hour.Or(DefaultAnalyticsRetentionHour)
	day := a.Retention.Day.Or(DefaultAnalyticsRetentionDay)
	switch {
	case a.Retention.Minute < 0 || minute < minRetentionMinute:
		v.fail(join(r, "minute"), "must be at least 2h: minute rows are compacted into hour rows once their hour has closed")
	case a.Retention.Hour < 0 || hour < minRetentionHour:
		v.fail(join(r, "hour"), "must be at least 48h: hour rows are compacted into day rows once their day has closed")
	case hour < minute:
		v.fail(join(r, "hour"), "must be at least retention.minute ("+minute.String()+")")
	case a.Retention.Day < 0 || day < hour:
		v.fail(join(r, "day"), "must be at least retention.hour ("+hour.String()+")")
	}
}

func (a *Analytics) applyDefaults() {
	setBool(&a.Enabled, true)
	setDuration(&a.FlushInterval, DefaultAnalyticsFlushInterval)
	setInt(&a.MaxKeys, DefaultAnalyticsMaxKeys)
	setDuration(&a.Retention.Minute, DefaultAnalyticsRetentionMinute)
	setDuration(&a.Retention.Hour, DefaultAnalyticsRetentionHour)
	setDuration(&a.Retention.Day, DefaultAnalyticsRetentionDay)
}
