package validate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/pinpointgw/pinpoint/internal/config"
)

// document is an OpenAPI document compiled for one route: its operations
// and the matchers that find them.
type document struct {
	spec     string     // the file, as configured, for the operator's messages
	matchers []*matcher // one per set of server base paths, longest base first
	openapi  string     // the document's version, "3.0.3" or "3.1.0"
}

// operation is one operation of the document, with everything a request
// is checked against.
type operation struct {
	label      string // "createOrder (POST /orders)"
	route      *routers.Route
	params     []*openapi3.Parameter // path item's then operation's, as kin-openapi orders them
	pathParams bool
	body       *requestBody // nil: the operation describes no body
}

// requestBody is an operation's requestBody.
type requestBody struct {
	required bool
	content  openapi3.Content
	accepted string                                 // the media types, for the client: "application/json, application/xml"
	schemas  map[*openapi3.MediaType]*schemaChecker // the media types that have a schema
}

// schemaChecker validates values against one schema with the options that
// suit the document.
type schemaChecker struct {
	schema *openapi3.Schema
	opts   []openapi3.SchemaValidationOption
}

// formats are the string formats validated besides kin-openapi's own
// (byte, date, date-time): set per validation so that kin-openapi's
// package-level registry is left alone.
var formats = map[string]openapi3.StringFormatValidator{
	"email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
	"uuid":  openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562),
	"ipv4":  ipFormat(true),
	"ipv6":  ipFormat(false),
}

// ipFormat validates ipv4 or ipv6 without kin-openapi's validator, whose
// errors carry the value.
func ipFormat(v4 bool) openapi3.StringFormatValidator {
	return openapi3.NewCallbackValidator(func(s string) error {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Is4() != v4 || a.Zone() != "" {
			return errors.New("not an IP address of this version")
		}
		return nil
	})
}

// loadDocument reads, validates and compiles the document at spec.
// External $refs may name other local files (resolved relative to the
// document), never URLs: the gateway does not fetch from the network
// while it applies a revision.
func loadDocument(spec string) (*document, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = readLocalFile
	ctx := context.Background()
	loader.Context = ctx
	doc, err := loader.LoadFromFile(spec)
	if err != nil {
		return nil, config.Fieldf("spec", "%s: %v", spec, err)
	}
	// Examples do not take part in validating requests, and documents in
	// the wild often have stale ones: they are not checked.
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		return nil, config.Fieldf("spec", "%s is not a valid OpenAPI document: %v", spec, err)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, config.Fieldf("spec", "%s describes no paths, so every request would be unknown", spec)
	}
	d := &document{spec: spec, openapi: doc.OpenAPI}
	if err := d.compile(doc); err != nil {
		return nil, config.Fieldf("spec", "%s: %v", spec, err)
	}
	return d, nil
}

// readLocalFile reads a file the document refers to, and refuses URLs.
func readLocalFile(l *openapi3.Loader, u *url.URL) ([]byte, error) {
	if u.Scheme != "" && u.Scheme != "file" || u.Host != "" {
		return nil, fmt.Errorf("$ref %s: only local files may be referenced, not URLs", u.Redacted())
	}
	return openapi3.ReadFromFile(l, u)
}

// compile builds the operations and matchers of doc.
func (d *document) compile(doc *openapi3.T) error {
	v31 := doc.IsOpenAPI31OrLater()
	// For 3.1 documents kin-openapi validates parameters with its JSON
	// Schema 2020-12 validator, which compiles the schema on every call
	// (~0.7ms). Schemas that use no keyword only that validator knows get
	// kin-openapi's own validator instead, through a view of the document
	// that reports 3.0, as kin-openapi itself does for such schemas.
	legacy := doc
	if v31 {
		legacy = &openapi3.T{OpenAPI: "3.0.3", Info: doc.Info, Paths: doc.Paths, Components: doc.Components}
	}
	docBases, err := basePaths(doc.Servers)
	if err != nil {
		return err
	}
	byBases := map[string]*matcher{}
	templates := slices.Sorted(maps.Keys(doc.Paths.Map()))
	for _, template := range templates {
		item := doc.Paths.Value(template)
		bases := docBases
		if len(item.Servers) > 0 {
			if bases, err = basePaths(item.Servers); err != nil {
				return err
			}
		}
		key := strings.Join(bases, "\x00")
		m := byBases[key]
		if m == nil {
			m = &matcher{bases: bases}
			byBases[key] = m
			d.matchers = append(d.matchers, m)
		}
		e := &pathEntry{template: template, operations: map[string]*operation{}}
		ops := item.Operations()
		methods := slices.Sorted(maps.Keys(ops))
		for _, method := range methods {
			op, err := compileOperation(doc, legacy, v31, template, item, method, ops[method])
			if err != nil {
				return err
			}
			e.operations[method] = op
		}
		e.methods = strings.Join(methods, ", ")
		if err := m.add(e); err != nil {
			return err
		}
	}
	slices.SortStableFunc(d.matchers, func(a, b *matcher) int { return len(b.bases[0]) - len(a.bases[0]) })
	return nil
}

func compileOperation(doc, legacy *openapi3.T, v31 bool, template string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*operation, error) {
	label := method + " " + template
	if op.OperationID != "" {
		label = op.OperationID + " (" + label + ")"
	}
	o := &operation{label: label}
	for _, ref := range item.Parameters {
		p := ref.Value
		if op.Parameters.GetByInAndName(p.In, p.Name) == nil {
			o.params = append(o.params, p)
		}
	}
	for _, ref := range op.Parameters {
		o.params = append(o.params, ref.Value)
	}
	spec := legacy
	for _, p := range o.params {
		if p == nil {
			return nil, fmt.Errorf("%s: a parameter is not resolved", label)
		}
		o.pathParams = o.pathParams || p.In == openapi3.ParameterInPath
		if v31 && parameterUses2020(p) {
			spec = doc
		}
	}
	o.route = &routers.Route{Spec: spec, Path: template, PathItem: item, Method: method, Operation: op}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		rb := op.RequestBody.Value
		b := &requestBody{required: rb.Required, content: rb.Content, schemas: map[*openapi3.MediaType]*schemaChecker{}}
		b.accepted = strings.Join(slices.Sorted(maps.Keys(rb.Content)), ", ")
		for _, mt := range rb.Content {
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			b.schemas[mt] = newSchemaChecker(mt.Schema, v31)
		}
		o.body = b
	}
	return o, nil
}

// newSchemaChecker validates request bodies against s. For a 3.1 document
// a schema that uses a JSON Schema 2020-12 keyword kin-openapi's own
// validator does not know (const, prefixItems, if/then/else, ...) goes to
// kin-openapi's 2020-12 validator, which is exact but compiles the schema
// on every request.
func newSchemaChecker(s *openapi3.SchemaRef, v31 bool) *schemaChecker {
	opts := []openapi3.SchemaValidationOption{
		openapi3.VisitAsRequest(),
		openapi3.MultiErrors(),
		openapi3.WithStringFormatValidators(formats),
	}
	if v31 && uses2020(s) {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return &schemaChecker{schema: s.Value, opts: opts}
}

func parameterUses2020(p *openapi3.Parameter) bool {
	if p.Schema != nil && uses2020(p.Schema) {
		return true
	}
	for _, mt := range p.Content {
		if mt != nil && mt.Schema != nil && uses2020(mt.Schema) {
			return true
		}
	}
	return false
}

var errFound = errors.New("found")

// uses2020 reports whether s or a schema below it uses a keyword that
// only kin-openapi's JSON Schema 2020-12 validator checks (the list
// kin-openapi itself decides by).
func uses2020(s *openapi3.SchemaRef) bool {
	err := s.WalkSubtree(func(_ string, ref *openapi3.SchemaRef) error {
		v := ref.Value
		if v.Const != nil || len(v.PrefixItems) != 0 || v.Contains != nil ||
			len(v.PatternProperties) != 0 || len(v.DependentSchemas) != 0 || v.PropertyNames != nil ||
			v.UnevaluatedItems.Has != nil || v.UnevaluatedItems.Schema != nil ||
			v.UnevaluatedProperties.Has != nil || v.UnevaluatedProperties.Schema != nil ||
			v.If != nil || v.Then != nil || v.Else != nil ||
			len(v.DependentRequired) != 0 || len(v.Defs) != 0 || v.ContentSchema != nil {
			return errFound
		}
		return nil
	})
	return errors.Is(err, errFound)
}

// maxBases bounds the base paths the variables of the servers expand to.
const maxBases = 64

// basePaths are the paths of servers' URLs (variables expanded to each
// of their enum values, or their default), without a trailing slash,
// longest first: [""] when no server has a path. The scheme and host are
// ignored: the gateway's route decides which hosts the document serves. A
// relative URL ("/v1", "v1") is taken as a path from the root.
func basePaths(servers openapi3.Servers) ([]string, error) {
	set := map[string]bool{}
	for _, s := range servers {
		if s == nil {
			continue
		}
		u := s.URL
		if i := strings.Index(u, "://"); i >= 0 {
			rest := u[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 {
				u = rest[j:]
			} else {
				u = ""
			}
		}
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		for _, p := range expandVariables(u, s.Variables) {
			p = path.Clean("/" + p)
			if p == "/" {
				p = ""
			}
			set[p] = true
			if len(set) > maxBases {
				return nil, fmt.Errorf("the servers' URL variables expand to more than %d base paths", maxBases)
			}
		}
	}
	if len(set) == 0 {
		return []string{""}, nil
	}
	bases := slices.Collect(maps.Keys(set))
	slices.SortFunc(bases, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return bases, nil
}

// expandVariables substitutes the server variables in u: each of a
// variable's enum values, or its default.
func expandVariables(u string, vars openapi3.ServerVariables) []string {
	out := []string{u}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		v := vars[name]
		if v == nil || !strings.Contains(u, "{"+name+"}") {
			continue
		}
		values := v.Enum
		if len(values) == 0 {
			values = []string{v.Default}
		}
		var next []string
		for _, o := range out {
			for _, val := range values {
				next = append(next, strings.ReplaceAll(o, "{"+name+"}", val))
				if len(next) > maxBases {
					return next
				}
			}
		}
		out = next
	}
	return out
}

// find returns the operation for method and path: the path entry that
// matched (nil for none) and its operation for method (nil for none). A
// HEAD request is answered by a document's GET when it has no HEAD, as
// HTTP defines HEAD.
func (d *document) find(method, path string, c *captures) (*pathEntry, *operation) {
	for _, m := range d.matchers {
		if e := m.find(path, c); e != nil {
			op := e.operations[method]
			if op == nil && method == "HEAD" {
				op = e.operations["GET"]
			}
			return e, op
		}
	}
	return nil, nil
}
