// Package prompt turns the prompt templates of ai.prompts into REST
// endpoints: a caller POSTs a JSON object of variables, the gateway checks
// it against the prompt's variables schema, fills the templates into an
// OpenAI chat completion request, and turns the completion into the
// endpoint's answer.
//
// # Templates
//
// The system and user templates are text with placeholders:
//
//	Summarize in at most {{max_words}} words:
//
//	{{ text }}
//
// A placeholder is "{{", optional spaces, a variable name, optional spaces
// and "}}". A name is letters, digits, "_" and "-", and must be a property
// of the variables schema's top-level "properties". A string variable is
// inserted as it is; any other value (number, boolean, null, array,
// object) as its compact JSON. A variable the body leaves out inserts its
// schema's "default" if it has one, else nothing.
//
// "{{" always opens a placeholder; a literal "{{" is written "{{{{". A
// "{{" that does not open a well-formed placeholder is a configuration
// error rather than text, so that a mistyped placeholder never reaches the
// model verbatim. "}}" and single braces outside a placeholder are text,
// so JSON examples need no escaping unless they contain "{{".
//
// # Schemas
//
// The variables schema and the output schema are JSON Schema (draft
// 2020-12 unless "$schema" names another draft), with "format" asserted.
// Both must be self-contained: a "$ref" may point inside the schema but
// never to a file or URL. Both must be of type "object": the body is an
// object of variables, and OpenAI's structured outputs require an object
// at the root.
//
// # Errors
//
// Compile reports a configuration problem as a *FieldError naming the
// field. Validate and Build refuse a bad body with an *InputError, and
// Answer refuses an answer that does not match the output schema with an
// *OutputError; the reasons of both are safe to show the client: they
// name JSON pointers and schema rules, never the values.
package prompt
