package handlers

import (
	"slices"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/queue"
)

// Broadcast audience segments a chat is in (store keeps them per shard; see
// store.Audience). Only users who agreed to the privacy notice are in any but the opt-out:
// the notices segment holds those who get notices at all (at least one subscribed
// category); the others say by what a broadcast can target them.
const (
	SegmentNotices = "notices"
	// SegmentOptOut holds those who turned every notice off ("stop these notices"): a
	// broadcast checks it before each batch, so they get nothing more.
	SegmentOptOut = "optout"
	segRole       = "role:"
	segHome       = "home:"
	segVisit      = "visit:"
	segSub        = "sub:"
	segLang       = "lang:"
)

// Segment names for an audience.
func SegmentRole(role string) string     { return segRole + role }
func SegmentHome(point string) string    { return segHome + point }
func SegmentVisit(point string) string   { return segVisit + point }
func SegmentCategory(cat string) string  { return segSub + cat }
func SegmentLanguage(lang string) string { return segLang + lang }

// profileSegments are the segments of a profile.
func (h *Handler) profileSegments(p bot.Profile, lib *library) []string {
	if p.SubsChosen && len(p.Subscriptions) == 0 {
		// Kept even without consent: it is what makes a broadcast skip the user.
		return append(h.consentedSegments(p, lib), SegmentOptOut)
	}
	return h.consentedSegments(p, lib)
}

// consentedSegments are the segments of a profile that agreed to the privacy notice.
func (h *Handler) consentedSegments(p bot.Profile, lib *library) []string {
	if !p.Consented() {
		return nil
	}
	out := []string{SegmentLanguage(p.Lang)}
	if m := p.Member; m != nil {
		out = append(out, SegmentRole(m.Role))
		if m.HomePoint != "" {
			out = append(out, SegmentHome(m.HomePoint))
		}
	}
	subs := bot.Subscribed(p, policies{lib.c, lib.ix})
	for _, c := range subs {
		out = append(out, SegmentCategory(c))
	}
	if len(subs) > 0 {
		out = append(out, SegmentNotices)
	}
	return out
}

// segments adds to eff how the chat's segments change with res: what the profile now
// says, the point of a check-in, and that a consented private chat was active. indexed
// says whether the store has the chat in any segment.
func (h *Handler) segments(in bot.Input, old bot.Profile, indexed bool, res bot.Result, lib *library, eff *queue.Effects) {
	if in.Chat != bot.ChatPrivate || res.Forget {
		return
	}
	// An indexed chat whose profile did not change keeps its segments; one not indexed yet
	// (a profile from before segments existed) gets all of them now, on its first update.
	var before, after []string
	if res.ProfileChanged || !indexed {
		if indexed {
			before = h.profileSegments(old, lib)
		}
		after = h.profileSegments(res.Profile, lib)
	}
	for _, s := range after {
		if !slices.Contains(before, s) {
			eff.Segments = append(eff.Segments, s)
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			eff.Unsegments = append(eff.Unsegments, s)
		}
	}
	if !res.Profile.Consented() {
		return
	}
	if c := res.CheckIn; c != nil {
		eff.Segments = append(eff.Segments, SegmentVisit(c.Point))
	}
	eff.Active = in.Kind != bot.KindEvent && in.Kind != bot.KindResult
}
