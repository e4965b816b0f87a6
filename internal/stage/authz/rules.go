package authz

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pinpointgw/pinpoint/internal/config"
	"github.com/pinpointgw/pinpoint/internal/pipeline"
	"github.com/pinpointgw/pinpoint/internal/stage/authn/credential"
)

// maxShown bounds caller-derived values echoed in a problem detail.
const maxShown = 256

// contains reports whether list holds s; lists are short, so a scan beats
// a map and allocates nothing.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// inGroup reports whether the caller is in one of the required groups.
func (s *Stage) inGroup(id *pipeline.Identity) bool {
	for _, g := range s.groups {
		if id.InGroup(g) {
			return true
		}
	}
	return false
}

// scoped reports whether the credential carries the required scopes: all
// of them, or one for scopes_mode any.
func (s *Stage) scoped(id *pipeline.Identity) bool {
	for _, sc := range s.scopes {
		has := id.HasScope(sc)
		if s.scopesAny && has {
			return true
		}
		if !s.scopesAny && !has {
			return false
		}
	}
	return !s.scopesAny
}

func (s *Stage) authenticationRequired() *pipeline.Denial {
	d := &pipeline.Denial{
		Code:   "authz.authentication_required",
		Rule:   "authenticated",
		Reason: "anonymous caller: the route's auth is optional but its authorize rules need an identity",
	}
	if s.route.Challenge != "" {
		d.Header = http.Header{"Www-Authenticate": {s.route.Challenge}}
	}
	return d
}

// tenantNotAllowed never tells the caller which tenants are allowed: they
// are other organizations' names.
func (s *Stage) tenantNotAllowed(id *pipeline.Identity) *pipeline.Denial {
	who := "consumer " + strconv.Quote(id.ConsumerID)
	var reason string
	if id.TenantID == "" {
		reason = who + " has no tenant; authorize.tenants is " + bracket(s.tenants)
	} else {
		reason = who + " of tenant " + strconv.Quote(id.TenantID) + " is not in authorize.tenants " + bracket(s.tenants)
	}
	return &pipeline.Denial{Code: "authz.tenant_not_allowed", Rule: "tenants", Reason: reason}
}

func (s *Stage) roleDenied(group string) *pipeline.Denial {
	return &pipeline.Denial{
		Code:   "authz.role_denied",
		Rule:   "deny_groups",
		Params: map[string]string{"group": credential.Display(group, maxShown)},
		Reason: "group " + strconv.Quote(group) + " is in authorize.deny_groups " + bracket(s.denyGroups),
	}
}

func (s *Stage) roleMissing(id *pipeline.Identity) *pipeline.Denial {
	return &pipeline.Denial{
		Code:   "authz.role_missing",
		Rule:   "groups",
		Params: map[string]string{"required": s.groupsList},
		Reason: "caller's groups " + bracket(id.Groups) + " include none of authorize.groups " + bracket(s.groups),
	}
}

func (s *Stage) scopeMissing(id *pipeline.Identity) *pipeline.Denial {
	required := s.scopesOr
	mode := "any"
	if !s.scopesAny {
		mode = "all"
		var missing []string
		for _, sc := range s.scopes {
			if !id.HasScope(sc) {
				missing = append(missing, sc)
			}
		}
		required = strings.Join(missing, " ")
	}
	granted := "no scopes"
	if len(id.Scopes) > 0 {
		granted = credential.Display(strings.Join(id.Scopes, " "), maxShown)
	}
	d := &pipeline.Denial{
		Code:   "authz.scope_missing",
		Rule:   "scopes",
		Params: map[string]string{"required": required, "granted": granted},
		Reason: "credential " + strconv.Quote(id.CredentialID) + " lacks scope " + required +
			" (scopes_mode " + mode + " of " + bracket(s.scopes) + "); granted " + bracket(id.Scopes),
	}
	if id.Bearer {
		d.Header = http.Header{"Www-Authenticate": {s.scopeChallenge}}
	}
	return d
}

// bracket formats a list for a trace reason: [a b c].
func bracket(list []string) string {
	return "[" + strings.Join(list, " ") + "]"
}

// checkNames reports empty entries of a name list.
func checkNames(key string, list []string) []error {
	var errs []error
	for i, v := range list {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, config.Fieldf(key+"["+strconv.Itoa(i)+"]", "must not be empty"))
		}
	}
	return errs
}

// checkScopes reports scopes that are not RFC 6749 §3.3 scope-tokens:
// they could never be granted and would break the insufficient_scope
// challenge.
func checkScopes(list []string) []error {
	var errs []error
	for i, v := range list {
		if !validScope(v) {
			errs = append(errs, config.Fieldf("scopes["+strconv.Itoa(i)+"]",
				"%q is not a valid scope (RFC 6749 §3.3: printable ASCII without spaces, '\"' or '\\')", v))
		}
	}
	return errs
}

func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
