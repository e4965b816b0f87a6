package authz

import (
	"testing"

	"github.com/pinpointgw/pinpoint/internal/config"
)

func TestNewErrors(t *testing.T) {
	t.Parallel()
	pols, err := CompilePolicies([]config.Policy{
		{Name: "business-hours", Expression: "true"},
		{Name: "partners-only", Expression: "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	route := Route{Params: []string{"id", "user_id"}}
	for _, c := range []struct {
		name string
		a    config.Authorize
		pols *Policies
		want map[string]string
	}{
		{"valid", config.Authorize{Scopes: []string{"orders:read"}, ScopesMode: "any", Mode: "enforce",
			Owner:    []config.OwnerRule{{Param: "id", Equals: "consumer.id"}, {BodyField: "/a~1b/0", Equals: "claims.sub"}},
			Policies: []string{"business-hours"}}, pols, nil},
		{"unknown policy with a suggestion", config.Authorize{Policies: []string{"partners-only", "busines-hours"}}, pols,
			map[string]string{"policies[1]": `unknown policy "busines-hours" (did you mean "business-hours"?)`}},
		{"unknown policy without policies", config.Authorize{Policies: []string{"x"}}, nil,
			map[string]string{"policies[0]": `unknown policy "x" (the top-level policies list is empty)`}},
		{"policy listed twice", config.Authorize{Policies: []string{"partners-only", "partners-only"}}, pols,
			map[string]string{"policies[1]": "listed twice"}},
		{"scopes_mode", config.Authorize{Scopes: []string{"a"}, ScopesMode: "some"}, nil,
			map[string]string{"scopes_mode": `unknown scopes_mode "some" (want "all" or "any")`}},
		{"mode", config.Authorize{Mode: "dry_run"}, nil,
			map[string]string{"mode": `unknown mode "dry_run" (want "enforce" or "report_only")`}},
		{"param not captured", config.Authorize{Owner: []config.OwnerRule{{Param: "account", Equals: "consumer.id"}}}, nil,
			map[string]string{"owner[0].param": `the route's paths capture no parameter "account" (they capture id, user_id)`}},
		{"param and body_field", config.Authorize{Owner: []config.OwnerRule{{Param: "id", BodyField: "/id", Equals: "consumer.id"}}}, nil,
			map[string]string{"owner[0]": "not both"}},
		{"neither param nor body_field", config.Authorize{Owner: []config.OwnerRule{{Param: "id", Equals: "consumer.id"}, {Equals: "consumer.id"}}}, nil,
			map[string]string{"owner[1]": "set param (a path parameter) or body_field (a JSON pointer)"}},
		{"equals missing", config.Authorize{Owner: []config.OwnerRule{{Param: "id"}}}, nil,
			map[string]string{"owner[0].equals": "required: one of consumer.id, consumer.tenant, consumer.metadata.NAME, credential.id, claims.NAME"}},
		{"equals unknown with suggestion", config.Authorize{Owner: []config.OwnerRule{{Param: "id", Equals: "consumer.ids"}}}, nil,
			map[string]string{"owner[0].equals": `unknown attribute "consumer.ids"`}},
		{"equals without a name", config.Authorize{Owner: []config.OwnerRule{{Param: "id", Equals: "claims."}}}, nil,
			map[string]string{"owner[0].equals": `unknown attribute "claims."`}},
		{"body_field not a pointer", config.Authorize{Owner: []config.OwnerRule{{BodyField: "owner_id", Equals: "consumer.id"}}}, nil,
			map[string]string{"owner[0].body_field": `"owner_id" is not a JSON pointer: a JSON pointer must start with "/"`}},
		{"body_field bad escape", config.Authorize{Owner: []config.OwnerRule{{BodyField: "/a~2", Equals: "consumer.id"}}}, nil,
			map[string]string{"owner[0].body_field": `"~" must be followed by 0 or 1`}},
		{"empty list entries", config.Authorize{Tenants: []string{"acme", ""}, Groups: []string{" "}, DenyGroups: []string{""}}, nil,
			map[string]string{"tenants[1]": "must not be empty", "groups[0]": "must not be empty", "deny_groups[0]": "must not be empty"}},
		{"invalid scope", config.Authorize{Scopes: []string{"orders:read", "orders write", `a"b`}}, nil,
			map[string]string{"scopes[1]": "not a valid scope", "scopes[2]": "not a valid scope"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(&c.a, c.pols, route)
			wantFieldErrors(t, err, c.want)
			if err == nil && s.Name() != "authz" {
				t.Errorf("Name %q", s.Name())
			}
		})
	}
}

func TestEqualsSuggestion(t *testing.T) {
	t.Parallel()
	_, err := New(&config.Authorize{Owner: []config.OwnerRule{{Param: "id", Equals: "credential.di"}}}, nil, Route{Params: []string{"id"}})
	wantFieldErrors(t, err, map[string]string{"owner[0].equals": `did you mean "credential.id"?`})
}

func TestNilAuthorizeNeedsIdentity(t *testing.T) {
	t.Parallel()
	s, err := New(nil, nil, Route{})
	if err != nil {
		t.Fatal(err)
	}
	if s.summary != "authenticated" {
		t.Errorf("summary %q", s.summary)
	}
}
