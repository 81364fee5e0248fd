package emulator

import (
	"strings"
	"testing"
)

// TestParseStateErrors: a bad --maps file gets the line and column and
// JSON's words, never a Go type name.
func TestParseStateErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{\"maps\": {\"a\": [1,]}}", "line 1, column 19: invalid character ']'"},
		{"{\n  \"maps\": {\"a\": 3}\n}", "line 2, column 17: found a number for \"maps\", want a list [...]"},
		{"{\"maps\": {\"a\": [{\"key\": 1}]}}", "line 1, column 25: found a number for \"maps.key\", want a string"},
		{"{\"mapz\": {}}", "line 1, column 2: unknown field \"mapz\""},
		{"{\"maps\": {\"a\": [", "line 1, column 17: the JSON value is cut short"},
		{"", "empty file"},
		{"{} {}", "line 1, column 4: unexpected data after the JSON value"},
	} {
		_, err := ParseState([]byte(c.in))
		if err == nil {
			t.Errorf("%q: no error", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v\n\twant %q", c.in, err, c.want)
		}
		for _, goName := range []string{"Go struct", "[]emulator", "StateEntry", "json:"} {
			if strings.Contains(err.Error(), goName) {
				t.Errorf("%q: %v names Go internals (%s)", c.in, err, goName)
			}
		}
	}
	if _, err := ParseState([]byte(`{"maps": {"a": [{"key": "00", "value": "01"}]}}`)); err != nil {
		t.Fatal(err)
	}
}
