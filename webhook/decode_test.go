package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nanta-district/bangban/queue"
)

// chatOf is the chat each testdata update belongs to.
var chatOf = map[string]int64{
	"message_private.json":       5103928174,
	"edited_message.json":        6021447733,
	"callback_query.json":        5103928174,
	"callback_query_inline.json": 6021447733, // no message: sharded by from.id
	"my_chat_member.json":        5103928174,
	"channel_post.json":          -1001987654321,
	"inline_query.json":          6021447733, // no chat: from.id
	"poll_answer.json":           6021447733, // user.id
	"unknown_field.json":         -1002233445566,
	"unknown_enum.json":          -4012345678,
	"forum_topic.json":           -1002233445566,
	"poll.json":                  0, // neither chat nor sender: shard 0
}

func testdata(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/updates/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("glob testdata: %v, %d files", err, len(paths))
	}
	files := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

func TestParseUpdateTestdata(t *testing.T) {
	files := testdata(t)
	for name, raw := range files {
		t.Run(name, func(t *testing.T) {
			want, ok := chatOf[name]
			if !ok {
				t.Fatalf("%s has no expected chat id in chatOf", name)
			}
			var head struct {
				UpdateID int64 `json:"update_id"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				t.Fatal(err)
			}
			u, err := ParseUpdate(raw)
			if err != nil {
				t.Fatalf("ParseUpdate(%s) error: %v", name, err)
			}
			if u.UpdateID != head.UpdateID || u.ChatID != want || u.Kind != queue.KindTelegram {
				t.Errorf("ParseUpdate(%s) = update %d chat %d kind %q, want %d %d %q",
					name, u.UpdateID, u.ChatID, u.Kind, head.UpdateID, want, queue.KindTelegram)
			}
			if &u.Raw[0] != &raw[0] || len(u.Raw) != len(raw) {
				t.Errorf("ParseUpdate(%s): Raw is not the body itself", name)
			}
		})
	}
	for name := range chatOf {
		if _, ok := files[name]; !ok {
			t.Errorf("chatOf names %s, which is not in testdata/updates", name)
		}
	}
}

func TestParseUpdate(t *testing.T) {
	tests := []struct {
		in       string
		update   int64
		chat     int64
		err      error
		describe string
	}{
		{in: `{"update_id":1}`, update: 1},
		{in: " \t\r\n{\"update_id\" : 7 } \n", update: 7},
		{in: `{"update_id":9223372036854775807}`, update: 9223372036854775807},
		{in: `{"update_id":-9223372036854775808}`, update: -9223372036854775808},
		{in: `{"update_id":-0}`, update: 0},
		{in: `{"update_id":9223372036854775808}`, err: errNoUpdateID, describe: "overflow"},
		{in: `{"update_id":1.0}`, err: errNoUpdateID},
		{in: `{"update_id":1e3}`, err: errNoUpdateID},
		{in: `{"update_id":"1"}`, err: errNoUpdateID},
		{in: `{"update_id":null}`, err: errNoUpdateID},
		{in: `{"message":{"chat":{"id":5}}}`, err: errNoUpdateID},
		{in: `{"update_id":1,"update_id":"x"}`, err: errNoUpdateID, describe: "last key wins"},
		{in: `{"update_id":"x","update_id":2}`, update: 2},
		{in: `[{"update_id":1}]`, err: errNoUpdateID},
		{in: `null`, err: errNoUpdateID},
		{in: ``, err: errBadJSON},
		{in: `{"update_id":1`, err: errBadJSON},
		{in: `{"update_id":1,}`, err: errBadJSON},
		{in: `{"update_id":01}`, err: errBadJSON},
		{in: `{"update_id":1} x`, err: errBadJSON},
		{in: `{"update_id":1,"x":"a` + "\x01" + `"}`, err: errBadJSON, describe: "control character"},
		{in: `{"update_id":1,"x":"\q"}`, err: errBadJSON},
		{in: `{"update_id":1,"x":[1,2,]}`, err: errBadJSON},
		{in: `{"update_id":1,"x":tru}`, err: errBadJSON},
		{in: `{"update_id":1,"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, err: errBadJSON, describe: "too deep"},
		{in: `{"update_id":1,"x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, update: 1, describe: "deepest allowed"},
		{in: `{"update_id":1,"callback_query":{"from":{"id":2},"message":{"chat":{"id":3}}}}`, update: 1, chat: 3},
		{in: `{"update_id":1,"callback_query":{"from":{"id":2},"message":{"chat":{"id":"3"}}}}`, update: 1, chat: 2},
		{in: `{"update_id":1,"poll_answer":{"voter_chat":{"id":-100},"option_ids":[]}}`, update: 1, chat: -100},
		{in: `{"update_id":1,"a":{"text":"x"},"b":{"from":{"id":4}},"c":{"chat":{"id":5}}}`, update: 1, chat: 4, describe: "first object naming one"},
		{in: `{"update_id":1,"message":{"chat":{"id":5},"chat":{"title":"x"},"from":{"id":6}}}`, update: 1, chat: 6, describe: "repeated chat key"},
		{in: `{"update_id":1,"message":{"chat":{"id":5,"id":6}}}`, update: 1, chat: 6},
		{in: `{"update_id":1,"message":{"chat":null,"from":[{"id":3}]}}`, update: 1, chat: 0},
		{in: `{"update_\u0069d":12,"m":{"\u0063hat":{"id":3}}}`, update: 12, chat: 3, describe: "escaped keys"},
	}
	for _, tt := range tests {
		name := tt.describe
		if name == "" {
			name = tt.in
		}
		u, err := ParseUpdate([]byte(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseUpdate(%.80q) [%s] error = %v, want %v", tt.in, name, err, tt.err)
			continue
		}
		if err == nil && (u.UpdateID != tt.update || u.ChatID != tt.chat) {
			t.Errorf("ParseUpdate(%.80q) [%s] = update %d chat %d, want %d %d", tt.in, name, u.UpdateID, u.ChatID, tt.update, tt.chat)
		}
	}
}

// FuzzDecode checks ParseUpdate against a slow reference built on encoding/json:
// the same bodies are accepted, with the same update and chat ids, and nothing panics.
func FuzzDecode(f *testing.F) {
	for _, raw := range testdata(f) {
		f.Add(raw)
	}
	for _, s := range []string{`{"update_id":1}`, `{"update_id":1.5}`, `[]`, `{"update_id":1,"x":{"from":{"id":-2}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, err := ParseUpdate(raw)
		if !json.Valid(raw) {
			if !errors.Is(err, errBadJSON) {
				t.Fatalf("ParseUpdate(%q) = %v, %v; want errBadJSON", raw, u, err)
			}
			return
		}
		wantUpdate, ok, wantChat := reference(t, raw)
		if !ok {
			if !errors.Is(err, errNoUpdateID) {
				t.Fatalf("ParseUpdate(%q) = %v, %v; want errNoUpdateID", raw, u, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseUpdate(%q) error %v, want update %d", raw, err, wantUpdate)
		}
		if u.UpdateID != wantUpdate || u.ChatID != wantChat || !bytes.Equal(u.Raw, raw) {
			t.Fatalf("ParseUpdate(%q) = update %d chat %d, want %d %d", raw, u.UpdateID, u.ChatID, wantUpdate, wantChat)
		}
	})
}

// reference decodes a valid JSON body the slow, obvious way.
func reference(t *testing.T, raw []byte) (update int64, ok bool, chat int64) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, false, 0
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reference: key of %q: %v", raw, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("reference: value of %q: %v", raw, err)
		}
		if tok.(string) == "update_id" {
			update, ok = refInt(v)
			continue
		}
		if found || v[0] != '{' {
			continue
		}
		m := refObject(v)
		for _, id := range []func() (int64, bool){
			func() (int64, bool) { return refInt(refObject(m["chat"])["id"]) },
			func() (int64, bool) { return refInt(refObject(refObject(m["message"])["chat"])["id"]) },
			func() (int64, bool) { return refInt(refObject(m["from"])["id"]) },
			func() (int64, bool) { return refInt(refObject(m["user"])["id"]) },
			func() (int64, bool) { return refInt(refObject(m["voter_chat"])["id"]) },
		} {
			if chat, found = id(); found {
				break
			}
		}
	}
	return update, ok, chat
}

func refObject(v json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil
	}
	return m
}

func refInt(v json.RawMessage) (int64, bool) {
	// Unmarshal leaves an int64 alone for null; only number tokens count.
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	var n int64
	if json.Unmarshal(v, &n) != nil {
		return 0, false
	}
	return n, true
}
