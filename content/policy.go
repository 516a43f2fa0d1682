package content

import "time"

// Roles are the member roles policies may name in audience (the same ids as bot.Roles).
var Roles = []string{"courier", "rider", "ride_hailing", "truck", "merchant", "other"}

// Section is one "###" section of a policy's body.
type Section struct {
	Heading string
	Text    string // the section's Markdown, trimmed
}

// Body is a policy's body, from its "## zh" and "## en" parts. EN may be empty.
type Body struct{ ZH, EN []Section }

// Policy is one policy, from policies/ID.md.
type Policy struct {
	ID        string // the file name without .md
	Title     Text
	Category  string // a Category's ID
	Audience  []string
	Issuer    Text
	DocNumber string
	// Issued, Effective and Expires are dates at midnight UTC, zero when unknown
	// (or, for Expires, when the policy does not expire).
	Issued, Effective, Expires time.Time
	Source                     string // an absolute http(s) URL, or ""
	// Verified says that the issuer, document number and dates were checked in the
	// source; the card says "to be confirmed with the centre" otherwise.
	Verified bool
	Keywords []string
	Summary  Text
	Body     Body
}

// Expired reports whether p has expired at at: a policy expires at the end of its
// Expires day in at's time zone (pass the district's local time), as search decides too.
func (p Policy) Expired(at time.Time) bool {
	if p.Expires.IsZero() {
		return false
	}
	y, m, d := at.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).After(p.Expires)
}

// Category is a group of policies that users browse and subscribe to.
type Category struct {
	ID    string
	Name  Text
	Roles []string // roles whose default subscriptions include it
}
