// Package schematest checks JSON texts against JSON Schemas with an
// independent validator (github.com/santhosh-tekuri/jsonschema/v6, format
// assertions on), for the tests of constrained output: whatever the
// constraint lets a model write must pass it.
package schematest

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Compile compiles a schema document, failing the test on an error.
func Compile(t testing.TB, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(schema)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Validate reports why text is not valid JSON or not valid against s (nil
// when it is).
func Validate(s *jsonschema.Schema, text string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// Check fails the test unless text validates against s.
func Check(t testing.TB, s *jsonschema.Schema, text string) {
	t.Helper()
	if err := Validate(s, text); err != nil {
		t.Fatalf("%s\ndoes not validate: %v", text, err)
	}
}
