package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decodeJSON decodes one JSON value from data into v, refusing unknown
// fields and trailing data. Its errors are for the person who wrote the
// file: they give the line and column and say what was expected in JSON's
// words (a string, a list, an object), never Go type names.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the JSON value", lineCol(data, dec.InputOffset()-1))
	}
	return nil
}

// jsonError rewrites an encoding/json error; at is the decoder's offset
// when the error carries none. encoding/json's offsets point just past
// the offending byte or value: the column given is of its last byte.
func jsonError(data []byte, at int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s: %s", lineCol(data, syn.Offset-1), strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		where := ""
		if typ.Field != "" {
			where = fmt.Sprintf(" for %q", typ.Field)
		}
		return fmt.Errorf("%s: found %s%s, want %s", lineCol(data, typ.Offset-1), jsonArticle(typ.Value), where, jsonKind(typ.Type))
	case errors.Is(err, io.EOF) && len(bytes.TrimSpace(data)) == 0:
		return errors.New("empty file: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the JSON value is cut short (the file ends inside it)", lineCol(data, int64(len(data))))
	}
	// DisallowUnknownFields: `json: unknown field "x"`, reported when the
	// whole value is read: point at the field's first occurrence.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if i := bytes.Index(data, []byte(name)); i >= 0 {
			at = int64(i)
		}
	}
	return fmt.Errorf("%s: %s", lineCol(data, at), msg)
}

// lineCol is "line L, column C" (both from 1) of byte offset off.
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonKind names what a Go type reads in JSON's words.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list [...]"
	case reflect.Map, reflect.Struct:
		return "an object {...}"
	case reflect.Bool:
		return "true or false"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}

// jsonArticle is encoding/json's name of the value found ("number",
// "string", "array", …) with an article.
func jsonArticle(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "number", "string", "bool":
		return "a " + v
	}
	if strings.HasPrefix(v, "number") {
		return "the number " + strings.TrimSpace(strings.TrimPrefix(v, "number"))
	}
	return v
}
