package authz

import (
	"net/url"
	"sync"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"github.com/pinpointgw/pinpoint/internal/pipeline"
)

// activation supplies the policy variables of one request to CEL. It is
// pooled and filled lazily: a field is computed only when an expression
// reads it, and computed values (the parsed query, the client IP string)
// are kept for the request's other policies.
type activation struct {
	x       *pipeline.Exchange
	route   *Route
	adapter types.Adapter

	request, consumer, credential, routeVar object
	headers, query, params                  strMap

	queryVals   url.Values
	queryParsed bool
	ip          string
	ipDone      bool
}

var _ interpreter.Activation = (*activation)(nil)

var activations = sync.Pool{New: func() any {
	a := &activation{}
	a.request = object{typ: requestType, act: a}
	a.consumer = object{typ: consumerType, act: a}
	a.credential = object{typ: credentialType, act: a}
	a.routeVar = object{typ: routeType, act: a}
	a.headers = strMap{kind: headerMap, act: a}
	a.query = strMap{kind: queryMap, act: a}
	a.params = strMap{kind: paramMap, act: a}
	return a
}}

// newActivation takes an activation from the pool for x.
func newActivation(x *pipeline.Exchange, route *Route, adapter types.Adapter) *activation {
	a := activations.Get().(*activation)
	a.x, a.route, a.adapter = x, route, adapter
	return a
}

// release returns a to the pool, dropping every reference to the request.
func (a *activation) release() {
	a.x, a.route, a.adapter = nil, nil, nil
	a.queryVals, a.queryParsed = nil, false
	a.ip, a.ipDone = "", false
	activations.Put(a)
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		return &a.request, true
	case "consumer":
		return &a.consumer, true
	case "credential":
		return &a.credential, true
	case "route":
		return &a.routeVar, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

func (a *activation) path() string {
	if a.x.Path != "" {
		return a.x.Path
	}
	return a.x.Request.URL.Path
}

func (a *activation) host() string {
	if a.x.Host != "" {
		return a.x.Host
	}
	return a.x.Request.Host
}

func (a *activation) clientIP() string {
	if !a.ipDone {
		if a.x.ClientIP.IsValid() {
			a.ip = a.x.ClientIP.String()
		}
		a.ipDone = true
	}
	return a.ip
}

// now is the request's time: when the gateway accepted it.
func (a *activation) now() time.Time {
	if !a.x.Start.IsZero() {
		return a.x.Start
	}
	return time.Now()
}

func (a *activation) queryValues() url.Values {
	if !a.queryParsed {
		if u := a.x.Request.URL; u != nil && u.RawQuery != "" {
			a.queryVals = u.Query()
		}
		a.queryParsed = true
	}
	return a.queryVals
}
