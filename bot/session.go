// Package bot is bangban's conversation logic: sessions, profiles, inputs and the pure Step
// function that turns one input into replies. It uses only the standard library and does no I/O.
package bot

import (
	"encoding/json"
	"maps"
	"time"
)

// SessionVersion is the schema version of Session. Bump it when a State or a Data field
// changes meaning: sessions of any other version are discarded, as grammY does after a deploy.
const SessionVersion = 1

// ProfileVersion is the schema version of Profile. Profiles are never discarded (they say who
// the user is); a new version migrates them instead.
const ProfileVersion = 1

// SessionTTL is how long a conversation may sit idle before it expires. Storage keeps
// sessions longer (see handlers), so that Step can still notice the expiry and say so.
const SessionTTL = 24 * time.Hour

// State is where a chat stands in a conversation.
type State string

// The states of a conversation.
const (
	// StateIdle means no flow is in progress.
	StateIdle State = "idle"
	// StateChoosingLang means the language picker is open: a tap or a typed name answers it.
	StateChoosingLang State = "choosing_lang"
	// Registration, in order: role, name, phone. Data "intent" is a point to check in at
	// once registered; "edit" marks a single field being edited from /me.
	StateRegRole  State = "reg_role"
	StateRegName  State = "reg_name"
	StateRegPhone State = "reg_phone"
	// The optional fields, offered after the first check-in and editable from /me.
	StateOptParty    State = "opt_party"
	StateOptBranch   State = "opt_branch"
	StateOptEmployer State = "opt_employer"
	StateOptHome     State = "opt_home"
	// StateCheckIn means the check-in keyboard (share location, list) is shown.
	StateCheckIn State = "checkin"
	// A service request: picking its category, then describing it (Data "cat", "msgs",
	// "sum"); StateTicketComment waits for a rating's comment (Data "ct", "rated").
	StateReqCategory   State = "req_category"
	StateReqDescribe   State = "req_describe"
	StateTicketComment State = "ticket_comment"
)

// states lists the states this release routes.
var states = []State{
	StateIdle, StateChoosingLang, StateRegRole, StateRegName, StateRegPhone,
	StateOptParty, StateOptBranch, StateOptEmployer, StateOptHome, StateCheckIn,
	StateReqCategory, StateReqDescribe, StateTicketComment,
}

// Session is the conversation state of one chat. It expires (SessionTTL).
type Session struct {
	Version   int       `json:"v"`
	State     State     `json:"state"`
	UpdatedAt time.Time `json:"at"`
	// Data holds the fields a flow collects on its way; it is cleared when the flow ends.
	Data map[string]string `json:"data,omitempty"`
}

// NewSession returns an idle session of the current version.
func NewSession(now time.Time) Session {
	return Session{Version: SessionVersion, State: StateIdle, UpdatedAt: now}
}

// DecodeSession decodes a stored session. Unknown fields are ignored; a session that is
// absent, not JSON, or of another version is replaced by NewSession(now), never an error,
// because a lost conversation step is cheaper than a chat that can no longer be served.
func DecodeSession(b []byte, now time.Time) Session {
	var s Session
	if len(b) == 0 || json.Unmarshal(b, &s) != nil || s.Version != SessionVersion {
		return NewSession(now)
	}
	if s.State == "" {
		s.State = StateIdle
	}
	return s
}

// Encode returns the session as JSON.
func (s Session) Encode() ([]byte, error) {
	return json.Marshal(s)
}

// Profile is what the bot remembers about a chat beyond any conversation. It has no TTL.
type Profile struct {
	Version int `json:"v"`
	// Lang is "zh-CN" or "en".
	Lang string `json:"lang"`
	// LangChosen is set once the user picked Lang; until then Lang follows Telegram's
	// language_code.
	LangChosen bool `json:"lang_chosen"`
	// ConsentAt is when the user agreed to the privacy notice; nothing personal is stored
	// before it.
	ConsentAt *time.Time `json:"consent_at,omitempty"`
	// LocConsent is the answer to keeping exact locations with check-ins: "" (not asked
	// yet), "yes" or "no" (only distances are kept).
	LocConsent string `json:"loc_consent,omitempty"`
	// Member is the registration, nil until it is complete.
	Member *Member `json:"member,omitempty"`
	// Subscriptions are the policy categories the user chose to get notices about, once
	// SubsChosen; until then their role's defaults apply.
	Subscriptions []string `json:"subs,omitempty"`
	SubsChosen    bool     `json:"subs_chosen,omitempty"`
	// Tickets are the user's service requests, oldest first.
	Tickets []TicketRef `json:"tickets,omitempty"`

	// unknown keeps the fields written by a newer release during a rolling deploy, so that
	// this release re-encoding the profile does not erase them.
	unknown map[string]json.RawMessage
}

// profileKeys are the JSON keys Profile owns; every other key is kept in Profile.unknown.
var profileKeys = []string{"v", "lang", "lang_chosen", "consent_at", "loc_consent", "member", "subs", "subs_chosen", "tickets"}

// Member is a registered worker or merchant.
type Member struct {
	Role         string    `json:"role"`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	RegisteredAt time.Time `json:"registered_at"`
	// The optional fields: Party is "yes", "no" or "" (not said).
	Party     string `json:"party,omitempty"`
	Branch    string `json:"branch,omitempty"`
	Employer  string `json:"employer,omitempty"`
	HomePoint string `json:"home_point,omitempty"`
	// CheckIns counts the member's check-ins; OptionalOffered is set once the optional
	// fields were offered (after the first check-in).
	CheckIns        int  `json:"checkins"`
	OptionalOffered bool `json:"optional_offered,omitempty"`
}

// Consented reports whether the user agreed to the privacy notice.
func (p Profile) Consented() bool { return p.ConsentAt != nil }

// DecodeProfile decodes a stored profile. Unknown fields are kept for Encode; an absent or
// malformed profile gives an empty profile of the current version.
func DecodeProfile(b []byte) Profile {
	fresh := Profile{Version: ProfileVersion}
	var all map[string]json.RawMessage
	if len(b) == 0 || json.Unmarshal(b, &all) != nil {
		return fresh
	}
	var p Profile
	if json.Unmarshal(b, &p) != nil {
		return fresh
	}
	// Version 1 is the first schema: an older or missing version has nothing to migrate,
	// and a newer one is kept so that its own release does not migrate it twice.
	p.Version = max(p.Version, ProfileVersion)
	for _, k := range profileKeys {
		delete(all, k)
	}
	if len(all) > 0 {
		p.unknown = all
	}
	return p
}

// Encode returns the profile as JSON, including the unknown fields it was decoded with.
func (p Profile) Encode() ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil || len(p.unknown) == 0 {
		return b, err
	}
	var known map[string]json.RawMessage
	if err := json.Unmarshal(b, &known); err != nil {
		return nil, err
	}
	merged := make(map[string]json.RawMessage, len(known)+len(p.unknown))
	maps.Copy(merged, p.unknown)
	maps.Copy(merged, known)
	return json.Marshal(merged)
}
