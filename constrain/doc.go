// Package constrain restricts what a model may generate to a formal
// language: one JSON object (OpenAI response_format json_object), a JSON
// value valid against a JSON Schema (response_format json_schema), or
// Qwen3 tool-call blocks whose arguments follow each function's parameter
// schema (tool_choice required or a named function).
//
// It works in two layers. A Matcher recognizes the prefixes of the
// language one byte at a time: JSONValidator for any JSON object, and the
// pushdown automaton that Compile builds from a schema. A Constraint lifts
// a Matcher to tokens: it checks a token's bytes against the matcher's
// state, answers the common cases from the token's kind (a string-safe
// token inside a free string, the first byte), and keeps, per matcher
// state, the set of allowed tokens once it has been computed, so a state
// seen again costs a bit lookup per token.
//
// The package is a leaf: it knows bytes and token ids, not tokenizers or
// models; the engine builds the Vocab from its tokenizer.
package constrain
