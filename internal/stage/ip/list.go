package ip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// Modes of a filter.
const (
	modeEnforce    = "enforce"
	modeReportOnly = "report_only"
)

// List is one compiled ip filter (gateway.ip or a route's ip): its allow
// and deny entries as address sets, and its mode. It is immutable and safe
// for concurrent use. Build it with Compile.
type List struct {
	allow      *netipx.IPSet // nil: no allow list
	deny       *netipx.IPSet // nil: no deny list
	denyByText []entry       // the deny entries as written, to name the match
	allowN     int
	reportOnly bool
}

// entry is one deny entry: its prefix and its text as written in config.
type entry struct {
	prefix netip.Prefix
	text   string
}

// Compile validates f and builds its address sets. Errors are
// config.FieldError values with paths relative to the filter ("allow[1]",
// "deny[0]", "mode"), joined with errors.Join. A filter without entries
// compiles to an empty List (see Empty); its mode is still validated.
func Compile(f config.IPFilter) (*List, error) {
	var errs []error
	l := &List{}
	switch f.Mode {
	case "", modeEnforce:
	case modeReportOnly:
		l.reportOnly = true
	default:
		errs = append(errs, config.Fieldf("mode", "unknown mode %q: want %q or %q", f.Mode, modeEnforce, modeReportOnly))
	}
	var allow, deny netipx.IPSetBuilder
	for i, s := range f.Allow {
		p, err := ParseEntry(s)
		if err != nil {
			errs = append(errs, config.Fieldf("allow["+strconv.Itoa(i)+"]", "%v", err))
			continue
		}
		allow.AddPrefix(p)
		l.allowN++
	}
	for i, s := range f.Deny {
		p, err := ParseEntry(s)
		if err != nil {
			errs = append(errs, config.Fieldf("deny["+strconv.Itoa(i)+"]", "%v", err))
			continue
		}
		deny.AddPrefix(p)
		l.denyByText = append(l.denyByText, entry{prefix: p, text: s})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if l.allowN > 0 {
		set, err := allow.IPSet()
		if err != nil {
			return nil, config.Fieldf("allow", "%v", err)
		}
		l.allow = set
	}
	if len(l.denyByText) > 0 {
		set, err := deny.IPSet()
		if err != nil {
			return nil, config.Fieldf("deny", "%v", err)
		}
		l.deny = set
	}
	return l, nil
}

// ParseEntry parses one list entry: an IPv4 or IPv6 address ("10.6.6.6",
// "2001:db8::1", taken as a /32 or /128) or a CIDR ("10.0.0.0/8",
// "2001:db8::/32"). IPv4-mapped IPv6 entries are taken as the IPv4 they
// map ("::ffff:10.0.0.0/104" is 10.0.0.0/8), because client addresses are
// unmapped before lookup. A CIDR with host bits set ("10.1.2.3/8") is
// refused rather than guessed at, and so are zones ("fe80::1%eth0").
func ParseEntry(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty entry: want an IP address or a CIDR such as 10.0.0.0/8")
	}
	if strings.IndexByte(s, '%') >= 0 {
		return netip.Prefix{}, fmt.Errorf("%q: zones are not supported", s)
	}
	if strings.IndexByte(s, '/') < 0 {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (examples: 10.6.6.6, 10.0.0.0/8, 2001:db8::/32)", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR (examples: 10.6.6.6, 10.0.0.0/8, 2001:db8::/32)", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the /%d prefix; did you mean %q?", s, p.Bits(), m.String())
	}
	if a := p.Addr(); a.Is4In6() {
		// Masked, so the mapping's ::ffff bits are inside the prefix: /96 or longer.
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// Empty reports whether l has no entries (nil is empty).
func (l *List) Empty() bool { return l == nil || (l.allow == nil && l.deny == nil) }

// ReportOnly reports whether l only traces its refusals.
func (l *List) ReportOnly() bool { return l != nil && l.reportOnly }

// denied returns the deny entry, as written in config, that holds a; ok is
// false when a is on no deny entry. The set answers the common case (not
// denied) without a scan; only a hit searches the entries for its name.
func (l *List) denied(a netip.Addr) (match string, ok bool) {
	if l.deny == nil || !a.IsValid() || !l.deny.Contains(a) {
		return "", false
	}
	for _, e := range l.denyByText {
		if e.prefix.Contains(a) {
			return e.text, true
		}
	}
	return "", true // unreachable: the set is the union of the entries
}

// hasAllow reports whether l has an allow list.
func (l *List) hasAllow() bool { return l.allow != nil }

// allows reports whether a is on l's allow list. An invalid address (a
// unix socket peer) is on no list.
func (l *List) allows(a netip.Addr) bool { return a.IsValid() && l.allow.Contains(a) }
