// Package waf is pipeline stage 3, the web application firewall: Coraza
// v3 running the OWASP Core Rule Set v4 embedded in the binary. It runs
// after the ip stage and before cors and authentication, on the routes
// that enable it (waf.enabled, routes[].waf.enabled).
//
// # Engines
//
// Parsing the CRS takes a while and a compiled rule set holds megabytes,
// so rule sets ("engines") are built once per distinct set of settings
// and shared by every route and every config revision that asks for the
// same one. The gateway:
//
//   - creates one Engines at start (NewEngines);
//   - per revision, when a route runs the WAF, calls Engines.Compile with
//     the waf block (errors are relative to that block) and then
//     Firewall.Stage for each route (errors relative to the route's waf
//     block; nil, nil when the route does not run the WAF);
//   - after switching to the new revision, calls Engines.Retain with its
//     Firewall, which lets go of engines and error logs it no longer uses;
//   - at shutdown, calls Engines.Close.
//
// An engine's settings are the paranoia level, the anomaly threshold,
// the body limit, the directives and the exclusions. The mode,
// inspect_body and body_limit_action are applied per request by the
// stage, so enforcing and report-only routes share an engine.
//
// # Rule set
//
// In load order: coraza.conf-recommended (its rules 200000-200006 pick
// the body processor from Content-Type: URL-encoded forms, multipart,
// JSON, XML; 200002 and 200003 refuse bodies that fail to parse), the
// settings Pinpoint owns (engine on, request body limits, no response
// body access, no audit log), crs-setup.conf.example, one SecAction
// (rule 7700001) setting the blocking and detection paranoia level, the
// inbound anomaly threshold and the allowed methods, waf.directives, the
// CRS request rules (REQUEST-9xx), the removal of the rules tagged with a
// paranoia level above the configured one, waf.exclusions and the
// route's exclusions. CRS only initialises variables still unset, which
// is why the SecAction comes before the rules.
//
// Two choices differ from a stock CRS install. The allowed methods add
// PUT, PATCH and DELETE (routes declare their methods and the route
// stage refuses others, so rule 911100 would only refuse ordinary REST
// calls); a directive that sets tx.allowed_methods again restores CRS's
// list. And the rules of paranoia levels above the configured one are
// not loaded at all, so a directive cannot raise tx.paranoia levels per
// request: use routes[].waf.paranoia_level.
//
// Directives that would change what the config owns (SecRuleEngine, the
// request body settings, the audit and debug logs) are refused with the
// field to use instead. Directives cannot include files: the rule file
// system is the embedded CRS.
//
// # Phases
//
// The stage runs phase 1 (connection, raw URI, headers) and phase 2
// (body), where CRS's 949110 blocks on the inbound anomaly score. It
// never runs the response phases 3 and 4: the WAF inspects requests only,
// and the outbound CRS rules (RESPONSE-950 to 959, and the 980
// correlation rules of the logging phase) are not loaded. The logging
// phase 5 is not run either; Coraza's Transaction.Close only resets the
// transaction, it does not run phase 5. An interruption in phase 1
// short-circuits: phase 2 is not evaluated and the body is not read.
//
// # Bodies
//
// With inspect_body (the default), the stage reads the body through
// Exchange.Body, shared with later stages (the upstream still gets every
// byte), up to body_limit (default 128KiB). A longer body is refused with
// 413 request.body_too_large under body_limit_action: reject, or has its
// first body_limit bytes inspected under process_partial. A JSON or XML
// body cut off at the limit cannot be parsed and rule 200002 refuses it
// (400 waf.blocked): truncating a body must not be a way around its
// inspection. Requests without a body skip body processing.
//
// # Answers
//
// An interrupted request is refused with 403 waf.blocked (or the status
// a directive's deny rule set, when it is 400 or more); its category
// param is derived from the matched rules, see category.go. Denial.Rule
// lists the ids of the matched rules ("942100,949110"); Denial.Reason and
// the trace note give their ids, messages and the names of the variables
// they matched (ARGS:id), never the matched values. In report_only mode
// the same is recorded as a would_deny step and the request goes on. A
// request that matched rules below the threshold records a pass step
// naming them, which is where to look when tuning exclusions.
//
// # Error log
//
// With waf.error_log, every matched rule that has the log action writes
// one ModSecurity-style line ([id "942100"] [msg "…"] [data "[redacted]"]
// … [unique_id "<request id>"]) to the file, which is what go-ftw and a
// SIEM read.
package waf
