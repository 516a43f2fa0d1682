package content

import (
	"math"
	"time"
)

// Text is a text in Chinese and, optionally, English.
type Text struct{ ZH, EN string }

// In returns the English text when lang is "en" and there is one, else the Chinese.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Span is an opening period of a day, in minutes since midnight: open from the
// minute Open up to, not including, the minute Close. Close is at most 1440
// (midnight at the end of the day).
type Span struct{ Open, Close int }

// Point kinds.
const (
	KindCheckin = "checkin" // a check-in point (the default)
	KindCentre  = "centre"  // the service centre
)

// Point is a place where workers can check in and get help.
type Point struct {
	ID       string
	Kind     string // KindCheckin or KindCentre
	Name     Text
	Address  Text
	Lat, Lon float64
	// Hours are the opening spans of each day, indexed by time.Weekday; no spans
	// means closed all day.
	Hours    [7][]Span
	Services []Text
	Phone    string
}

// OpenAt reports whether p is open at t, which is already in the district's time zone.
func (p Point) OpenAt(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	for _, s := range p.Hours[t.Weekday()] {
		if s.Open <= m && m < s.Close {
			return true
		}
	}
	return false
}

// Nearby is a point with its distance from somewhere and whether it is open.
type Nearby struct {
	Point  Point
	Meters int
	Open   bool
}

// earthRadius is the mean radius of the earth in metres.
const earthRadius = 6371000

// distance is the great-circle distance in metres between two WGS-84 positions
// (haversine formula on a sphere: good to about 0.5% over a district).
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(a))
}
