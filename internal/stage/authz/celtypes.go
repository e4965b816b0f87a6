package authz

import (
	"fmt"
	"reflect"
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// The policy variables are typed objects, so that a misspelled field or a
// comparison of the wrong type is a config error ("undefined field
// 'methd'") rather than a refusal at run time. Their fields are computed on
// access from the exchange: a policy that only reads consumer.groups never
// builds the header map.
const (
	requestTypeName    = "pinpoint.Request"
	consumerTypeName   = "pinpoint.Consumer"
	credentialTypeName = "pinpoint.Credential"
	routeTypeName      = "pinpoint.Route"
)

var (
	requestType    = cel.ObjectType(requestTypeName)
	consumerType   = cel.ObjectType(consumerTypeName)
	credentialType = cel.ObjectType(credentialTypeName)
	routeType      = cel.ObjectType(routeTypeName)

	stringMapType = cel.MapType(cel.StringType, cel.StringType)
	dynMapType    = cel.MapType(cel.StringType, cel.DynType)
	stringList    = cel.ListType(cel.StringType)
)

// getter reads one field of a policy variable from the activation. It may
// return a CEL value or a plain Go value (a map or slice), which CEL adapts
// on use; plain maps let CEL index them without wrapping.
type getter func(a *activation) any

// field declares one field of a policy variable.
type field struct {
	name string
	typ  *types.Type
	get  getter
}

// objectFields are the fields of each policy variable; see the package
// documentation for what they hold.
var objectFields = map[string][]field{
	requestTypeName: {
		{"method", cel.StringType, func(a *activation) any { return types.String(a.x.Request.Method) }},
		{"path", cel.StringType, func(a *activation) any { return types.String(a.path()) }},
		{"host", cel.StringType, func(a *activation) any { return types.String(a.host()) }},
		{"scheme", cel.StringType, func(a *activation) any { return types.String(a.x.Scheme) }},
		{"headers", stringMapType, func(a *activation) any { return &a.headers }},
		{"query", stringMapType, func(a *activation) any { return &a.query }},
		{"client_ip", cel.StringType, func(a *activation) any { return types.String(a.clientIP()) }},
		{"params", stringMapType, func(a *activation) any { return &a.params }},
		{"time", cel.TimestampType, func(a *activation) any { return types.Timestamp{Time: a.now()} }},
	},
	consumerTypeName: {
		{"id", cel.StringType, func(a *activation) any { return types.String(a.x.Identity.ConsumerID) }},
		{"name", cel.StringType, func(a *activation) any { return types.String(a.x.Identity.ConsumerName) }},
		{"tenant", cel.StringType, func(a *activation) any { return types.String(a.x.Identity.TenantID) }},
		{"groups", stringList, func(a *activation) any { return types.NewStringList(a.adapter, a.x.Identity.Groups) }},
		{"metadata", stringMapType, func(a *activation) any { return a.x.Identity.Metadata }},
	},
	credentialTypeName: {
		{"method", cel.StringType, func(a *activation) any { return types.String(a.x.Identity.Method) }},
		{"id", cel.StringType, func(a *activation) any { return types.String(a.x.Identity.CredentialID) }},
		{"scopes", stringList, func(a *activation) any { return types.NewStringList(a.adapter, a.x.Identity.Scopes) }},
		{"claims", dynMapType, func(a *activation) any { return a.x.Identity.Claims }},
	},
	routeTypeName: {
		{"name", cel.StringType, func(a *activation) any { return types.String(a.route.Name) }},
		{"version", cel.StringType, func(a *activation) any { return types.String(a.route.Version) }},
	},
}

// provider adds the policy variables' object types to CEL's own provider.
type provider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType
	names  map[string][]string
}

// withPolicyTypes is the env option that installs the provider on top of
// the environment's default one.
func withPolicyTypes() cel.EnvOption {
	return func(e *cel.Env) (*cel.Env, error) {
		p := &provider{
			Provider: e.CELTypeProvider(),
			fields:   map[string]map[string]*types.FieldType{},
			names:    map[string][]string{},
		}
		for typeName, fs := range objectFields {
			m := map[string]*types.FieldType{}
			for _, f := range fs {
				get := f.get
				m[f.name] = &types.FieldType{
					Type:    f.typ,
					IsSet:   func(any) bool { return true },
					GetFrom: func(target any) (any, error) { return fieldOf(target, get) },
				}
				p.names[typeName] = append(p.names[typeName], f.name)
			}
			slices.Sort(p.names[typeName])
			p.fields[typeName] = m
		}
		return cel.CustomTypeProvider(p)(e)
	}
}

// fieldOf applies get to the activation behind a policy variable.
func fieldOf(target any, get getter) (any, error) {
	o, ok := target.(*object)
	if !ok {
		return nil, fmt.Errorf("internal error: field of %T", target)
	}
	return get(o.act), nil
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.fields[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Provider.FindStructType(name)
}

// FindIdent implements types.Provider, so that expressions can name the
// variables' types: type(request) == pinpoint.Request.
func (p *provider) FindIdent(name string) (ref.Val, bool) {
	if _, ok := p.fields[name]; ok {
		return types.NewObjectType(name), true
	}
	return p.Provider.FindIdent(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if ns, ok := p.names[name]; ok {
		return ns, true
	}
	return p.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if m, ok := p.fields[name]; ok {
		ft, ok := m[fieldName]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, fieldName)
}

// NewValue implements types.Provider: the policy variables cannot be
// constructed in an expression.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.fields[name]; ok {
		return types.NewErr("%s cannot be constructed in a policy", name)
	}
	return p.Provider.NewValue(name, fields)
}

// object is the value of one policy variable: a view of the activation.
type object struct {
	typ *types.Type
	act *activation
}

// ConvertToNative implements ref.Val.
func (o *object) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("%s cannot be converted to %v", o.typ.TypeName(), t)
}

// ConvertToType implements ref.Val.
func (o *object) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.TypeType:
		return o.typ
	case o.typ:
		return o
	}
	return types.NewErr("type conversion error from '%s' to '%s'", o.typ.TypeName(), t.TypeName())
}

// Equal implements ref.Val: a variable equals only itself.
func (o *object) Equal(other ref.Val) ref.Val {
	p, ok := other.(*object)
	return types.Bool(ok && p == o)
}

// Type implements ref.Val.
func (o *object) Type() ref.Type { return o.typ }

// Value implements ref.Val; field access goes through the provider's
// getters, which receive the object itself.
func (o *object) Value() any { return o }

// checkConstruction rejects expressions that build a policy variable
// (pinpoint.Route{name: "x"}): the types exist only to be read.
func checkConstruction(a *cel.Ast) error {
	native := a.NativeRep()
	var bad error
	ast.PostOrderVisit(native.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if bad != nil || e.Kind() != ast.StructKind {
			return
		}
		name := e.AsStruct().TypeName()
		if _, ok := objectFields[name]; ok {
			loc := native.SourceInfo().GetStartLocation(e.ID())
			bad = fmt.Errorf("%d:%d: %s cannot be constructed in a policy", loc.Line(), loc.Column()+1, name)
		}
	}))
	return bad
}
