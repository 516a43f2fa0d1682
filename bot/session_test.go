package bot

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeSession(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Session
	}{
		{"absent", "", NewSession(now)},
		{"garbage", "{not json", NewSession(now)},
		{"wrong JSON type", `["idle"]`, NewSession(now)},
		{"older version is discarded", `{"v":0,"state":"choosing_lang","at":"2025-03-01T08:00:00Z"}`, NewSession(now)},
		{"newer version is discarded", `{"v":2,"state":"choosing_lang","at":"2025-03-01T08:00:00Z"}`, NewSession(now)},
		{
			"unknown fields are ignored",
			`{"v":1,"state":"choosing_lang","at":"2025-03-01T08:00:00Z","data":{"k":"v"},"extra":[1]}`,
			Session{Version: 1, State: StateChoosingLang, UpdatedAt: now.Add(-time.Hour), Data: map[string]string{"k": "v"}},
		},
		{"missing state is idle", `{"v":1,"at":"2025-03-01T08:00:00Z"}`, Session{Version: 1, State: StateIdle, UpdatedAt: now.Add(-time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecodeSession([]byte(tt.in), now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeSession(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSessionRoundTrip(t *testing.T) {
	s := Session{Version: SessionVersion, State: StateChoosingLang, UpdatedAt: now, Data: map[string]string{"a": "b"}}
	b, err := s.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v): %v", s, err)
	}
	if diff := cmp.Diff(s, DecodeSession(b, now.AddDate(1, 0, 0))); diff != "" {
		t.Errorf("round trip of %s mismatch (-want +got):\n%s", b, diff)
	}
}

func TestDecodeProfile(t *testing.T) {
	opt := cmp.AllowUnexported(Profile{})
	tests := []struct {
		name string
		in   string
		want Profile
	}{
		{"absent", "", Profile{Version: ProfileVersion}},
		{"garbage", "\x00\x01", Profile{Version: ProfileVersion}},
		{"wrong field type", `{"v":1,"lang":7}`, Profile{Version: ProfileVersion}},
		{"missing version", `{"lang":"en","lang_chosen":true}`, Profile{Version: ProfileVersion, Lang: "en", LangChosen: true}},
		{"current", `{"v":1,"lang":"zh-CN"}`, Profile{Version: 1, Lang: "zh-CN"}},
		{
			"newer version keeps its version and fields",
			`{"v":3,"lang":"en","consent":true}`,
			Profile{Version: 3, Lang: "en", unknown: map[string]json.RawMessage{"consent": json.RawMessage("true")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecodeProfile([]byte(tt.in))
			if diff := cmp.Diff(tt.want, got, opt); diff != "" {
				t.Errorf("DecodeProfile(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestProfileEncodeKeepsUnknownFields(t *testing.T) {
	in := `{"v":2,"lang":"zh-CN","lang_chosen":false,"consent":{"at":"2025-01-01T00:00:00Z"},"phone":"+86"}`
	p := DecodeProfile([]byte(in))
	p.Lang, p.LangChosen = LangEN, true
	b, err := p.Encode()
	if err != nil {
		t.Fatalf("Encode(%+v): %v", p, err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Encode(%+v) = %s: %v", p, b, err)
	}
	_ = json.Unmarshal([]byte(`{"v":2,"lang":"en","lang_chosen":true,"consent":{"at":"2025-01-01T00:00:00Z"},"phone":"+86"}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Encode after decoding %s mismatch (-want +got):\n%s", in, diff)
	}
}
