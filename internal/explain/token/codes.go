package token

// The frozen tables of the compact encoding. A token stores a code or
// stage that is in its table as an index, anything else as a string. The
// tables are append-only: an entry is never removed, reordered or renamed,
// or tokens sealed by older gateways would open to the wrong code. Append
// new catalog codes at the end (TestCodeTable checks entries stay valid
// catalog codes); until then they are simply stored as strings.

// codeTable lists reason codes by index (catalog codes are never renamed or
// reused, so an index stays meaningful).
var codeTable = [...]string{
	"request.invalid_path", "request.malformed", "request.uri_too_long",
	"request.header_too_large", "request.too_many_headers", "request.body_too_large",
	"route.not_found", "route.method_not_allowed", "route.deprecated_sunset",
	"ip.denied", "ip.not_allowed", "waf.blocked",
	"cors.origin_not_allowed", "cors.method_not_allowed", "cors.header_not_allowed",
	"authn.credential_missing", "authn.credential_malformed", "authn.credential_ambiguous",
	"authn.credential_wrong_location", "authn.key_unknown", "authn.key_expired",
	"authn.key_revoked", "authn.key_not_yet_valid", "authn.key_rotated",
	"authn.key_wrong_environment", "authn.consumer_unknown", "authn.token_malformed",
	"authn.token_invalid", "authn.token_algorithm_not_allowed", "authn.token_expired",
	"authn.token_not_yet_valid", "authn.token_issuer_mismatch", "authn.token_audience_mismatch",
	"authn.token_unknown_kid", "authn.token_claim_missing", "authn.token_inactive",
	"authn.idp_unavailable", "authn.basic_invalid", "authn.signature_key_unknown",
	"authn.signature_invalid", "authn.signature_expired", "authn.signature_headers_missing",
	"authn.digest_mismatch", "authn.client_cert_missing", "authn.client_cert_unknown",
	"consumer.suspended", "tenant.suspended", "authz.scope_missing",
	"authz.role_missing", "authz.role_denied", "authz.tenant_not_allowed",
	"authz.not_owner", "authz.policy_denied", "authz.authentication_required",
	"csrf.origin_mismatch", "csrf.token_missing", "csrf.token_mismatch",
	"ratelimit.exceeded", "ratelimit.unavailable", "quota.exceeded",
	"quota.unavailable", "request.operation_unknown", "request.invalid_parameter",
	"request.invalid_content_type", "request.body_required", "request.invalid_json",
	"request.invalid_body", "request.json_too_deep", "request.json_field_too_long",
	"idempotency.key_missing", "idempotency.key_invalid", "idempotency.in_progress",
	"idempotency.key_reused", "idempotency.unavailable", "upstream.connect_failed",
	"upstream.reset", "upstream.dns_failed", "upstream.tls_failed",
	"upstream.bad_response", "upstream.no_healthy_target", "upstream.circuit_open",
	"upstream.timeout", "upstream.denied", "upstream.rate_limited",
	"upstream.error", "gateway.not_ready", "gateway.internal_error",
}

// stageTable lists pipeline stage names by index.
var stageTable = [...]string{
	"accept", "route", "ip", "waf", "cors", "authn", "consumer", "authz",
	"csrf", "limit", "quota", "validate", "idempotency", "upstream", "gateway",
}

var (
	codeIndex  = indexOf(codeTable[:])
	stageIndex = indexOf(stageTable[:])
)

func indexOf(table []string) map[string]uint64 {
	m := make(map[string]uint64, len(table))
	for i, s := range table {
		m[s] = uint64(i)
	}
	return m
}
