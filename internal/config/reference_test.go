package config

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestConfigReference keeps docs/configuration.md in sync with the doc
// comments of the config structs, which are the user documentation.
// Rewrite it with: go test ./internal/config -run TestConfigReference -update
func TestConfigReference(t *testing.T) {
	want := renderReference(t)
	path := filepath.Join("..", "..", "docs", "configuration.md")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/config -run TestConfigReference -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/configuration.md is out of date with internal/config/types.go; run: go test ./internal/config -run TestConfigReference -update")
	}
}

// renderReference walks the Config type by reflection (for the YAML shape)
// and types.go by go/ast (for the doc comments).
func renderReference(t *testing.T) []byte {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("types*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no types*.go files: %v", err)
	}
	typeDocs := map[string]string{}
	fieldDocs := map[string]map[string]string{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		collectDocs(f, typeDocs, fieldDocs)
	}
	return renderTypes(typeDocs, fieldDocs)
}

// collectDocs records the doc comments of the struct types and fields of f.
func collectDocs(f *ast.File, typeDocs map[string]string, fieldDocs map[string]map[string]string) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			typeDocs[ts.Name.Name] = gd.Doc.Text()
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			fieldDocs[ts.Name.Name] = map[string]string{}
			for _, fld := range st.Fields.List {
				for _, n := range fld.Names {
					fieldDocs[ts.Name.Name][n.Name] = fld.Doc.Text()
				}
			}
		}
	}

}

// renderTypes writes the reference from the collected doc comments.
func renderTypes(typeDocs map[string]string, fieldDocs map[string]map[string]string) []byte {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("<!-- Generated from internal/config/types.go by `go test ./internal/config -run TestConfigReference -update`. Do not edit. -->\n\n")
	b.WriteString("A configuration is one YAML document. It is decoded strictly: unknown fields, wrong types, duplicate keys, ")
	b.WriteString("aliases and several documents in one file are errors, and every error is reported at once with file, line, ")
	b.WriteString("column and field path. `${NAME}` and `${NAME:-default}` in values are replaced from the environment (`$${` is a ")
	b.WriteString("literal `${`); the stored revision keeps the reference, never the secret. ")
	b.WriteString("Durations are Go durations (`500ms`, `30s`, `5m`); sizes take `B`, `KB`, `MB`, `GB`, `KiB`, `MiB`, `GiB`.\n\n")
	b.WriteString("A commented example with every field: [internal/config/testdata/full.yaml](../internal/config/testdata/full.yaml). ")
	b.WriteString("Check a file offline with `pinpoint validate -f FILE`.\n")

	seen := map[string]bool{}
	var walk func(rt reflect.Type, path string)
	walk = func(rt reflect.Type, path string) {
		name := rt.Name()
		if seen[name] {
			return
		}
		seen[name] = true
		fmt.Fprintf(&b, "\n## `%s`\n\n", path)
		if d := strings.TrimSpace(typeDocs[name]); d != "" {
			b.WriteString(indentCode(d))
			b.WriteString("\n\n")
		}
		b.WriteString("| field | type | description |\n|---|---|---|\n")
		var nested []func()
		for i := 0; i < rt.NumField(); i++ {
			sf := rt.Field(i)
			key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
			ft, shape := yamlShape(sf.Type)
			doc := strings.Join(strings.Fields(fieldDocs[name][sf.Name]), " ")
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", key, shape, strings.ReplaceAll(doc, "|", "\\|"))
			if ft.Kind() == reflect.Struct && ft.PkgPath() == rt.PkgPath() && ft.Name() != "Duration" {
				child := path + "." + key
				if path == "" {
					child = key
				}
				if sf.Type.Kind() == reflect.Slice {
					child += "[]"
				}
				nested = append(nested, func() { walk(ft, child) })
			}
		}
		for _, n := range nested {
			n()
		}
	}
	root := reflect.TypeOf(Config{})
	seen[root.Name()] = true
	b.WriteString("\n## top level\n\n")
	b.WriteString(indentCode(strings.TrimSpace(typeDocs[root.Name()])))
	b.WriteString("\n\n| field | type | description |\n|---|---|---|\n")
	var tops []reflect.StructField
	for i := 0; i < root.NumField(); i++ {
		sf := root.Field(i)
		key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
		_, shape := yamlShape(sf.Type)
		doc := strings.Join(strings.Fields(fieldDocs[root.Name()][sf.Name]), " ")
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", key, shape, doc)
		tops = append(tops, sf)
	}
	for _, sf := range tops {
		ft, _ := yamlShape(sf.Type)
		if ft.Kind() == reflect.Struct {
			key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
			if sf.Type.Kind() == reflect.Slice {
				key += "[]"
			}
			walk(ft, key)
		}
	}
	return []byte(b.String())
}

// yamlShape returns the element type and a human name of a field's YAML shape.
func yamlShape(t reflect.Type) (reflect.Type, string) {
	switch t.Kind() {
	case reflect.Pointer:
		et, s := yamlShape(t.Elem())
		return et, s
	case reflect.Slice:
		et, s := yamlShape(t.Elem())
		return et, "list of " + s
	case reflect.Map:
		return t, "map of string"
	}
	switch t.Name() {
	case "Duration":
		return t, "duration"
	case "ByteSize":
		return t, "size"
	case "Ratio":
		return t, "ratio"
	case "int":
		return t, "integer"
	case "float64":
		return t, "number"
	case "bool":
		return t, "boolean"
	case "string":
		return t, "string"
	}
	return t, "object"
}

// indentCode keeps the tab-indented examples of doc comments as code blocks.
func indentCode(doc string) string {
	var out []string
	inCode := false
	for _, line := range strings.Split(doc, "\n") {
		code := strings.HasPrefix(line, "\t")
		switch {
		case code && !inCode:
			out = append(out, "```yaml")
			inCode = true
		case !code && inCode:
			out = append(out, "```")
			inCode = false
		}
		out = append(out, strings.TrimPrefix(line, "\t"))
	}
	if inCode {
		out = append(out, "```")
	}
	return strings.Join(out, "\n")
}
