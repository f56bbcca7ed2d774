package parser

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

type marshalsBadBytes struct{}

func (marshalsBadBytes) MarshalJSON() ([]byte, error) { return []byte("\"m\xc0\""), nil }

// Whatever the arguments hold, EncodeData writes UTF-8: a text frame that
// is not UTF-8 makes a websocket peer close the connection (1007), so one
// bad json.RawMessage in a broadcast would disconnect every listener.
func TestEncodeDataUTF8(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"string", []any{"e", "a\xffb"}, `["e","a\ufffdb"]`},
		{"raw", []any{"e", json.RawMessage("\"a\xffb\xe2\x82\"")}, "[\"e\",\"a\uFFFDb\uFFFD\"]"},
		{"raw in a map", []any{map[string]any{"k": json.RawMessage("\"\xed\xa0\x80\"")}}, "[{\"k\":\"\uFFFD\uFFFD\uFFFD\"}]"},
		{"marshaler", []any{struct{ M marshalsBadBytes }{}}, "[{\"M\":\"m\uFFFD\"}]"},
		{"with an attachment", []any{"e", []byte{0xff}, json.RawMessage("\"\xff\"")}, "[\"e\",{\"_placeholder\":true,\"num\":0},\"\uFFFD\"]"},
	} {
		got, atts, err := EncodeData([]byte("prefix"), tc.args)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != "prefix"+tc.want || !utf8.Valid(got) {
			t.Errorf("%s: %+q, want %+q", tc.name, got, "prefix"+tc.want)
		}
		if tc.name == "with an attachment" && (len(atts) != 1 || atts[0][0] != 0xff) {
			t.Errorf("%s: attachments %q changed", tc.name, atts)
		}
	}
}
