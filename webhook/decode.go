package webhook

import (
	"encoding/json"
	"errors"

	"github.com/nanta-district/bangban/queue"
)

// Reasons ParseUpdate refuses a body; the intake handler maps them to 400 and to the
// rejection metric's reasons.
var (
	errBadJSON    = errors.New("body is not valid JSON")
	errNoUpdateID = errors.New("body is not a JSON object with an integer update_id")
)

// maxDepth is encoding/json's nesting limit, kept so that ParseUpdate accepts exactly
// what json.Valid accepts.
const maxDepth = 10000

// ParseUpdate reads what intake needs from a Telegram update: its update_id and the chat
// it belongs to. It returns a queue.Update of KindTelegram whose Raw is raw itself, never
// re-encoded, so that fields this program does not know survive until a handler sees them.
//
// The chat is taken from the first top-level object (in document order, update_id
// aside) that names one, in this order of preference within the object: chat.id,
// message.chat.id (callback queries), from.id, user.id, voter_chat.id (poll answers).
// That covers every update kind of Bot API 10.1 and, by the same rule, kinds added later.
// An update naming none (a poll) gets ChatID 0.
//
// ParseUpdate returns an error when raw is not valid JSON (as json.Valid judges it) or
// is not an object with an integer update_id that fits in an int64. It validates the
// whole body in one pass and allocates nothing (unless a key is written with escapes):
// intake answers Telegram only after queuing, so this sits on the hot path.
func ParseUpdate(raw []byte) (queue.Update, error) {
	s := scanner{b: raw}
	s.ws()
	if s.i == len(s.b) {
		return queue.Update{}, errBadJSON
	}
	if s.b[s.i] != '{' {
		if s.skip() != nil || !s.end() {
			return queue.Update{}, errBadJSON
		}
		return queue.Update{}, errNoUpdateID
	}
	var (
		updateID, chatID int64
		hasUpdateID      bool
		hasChat          bool
	)
	if err := s.enter(); err != nil {
		return queue.Update{}, err
	}
	for first := true; ; first = false {
		key, more, err := s.key(first)
		if err != nil {
			return queue.Update{}, err
		}
		if !more {
			break
		}
		switch {
		case string(key) == "update_id":
			if updateID, hasUpdateID, err = s.integer(); err != nil {
				return queue.Update{}, err
			}
		case s.b[s.i] == '{' && !hasChat:
			if chatID, hasChat, err = s.kind(); err != nil {
				return queue.Update{}, err
			}
		default:
			if err := s.skip(); err != nil {
				return queue.Update{}, err
			}
		}
	}
	if !s.end() {
		return queue.Update{}, errBadJSON
	}
	if !hasUpdateID {
		return queue.Update{}, errNoUpdateID
	}
	return queue.Update{UpdateID: updateID, Kind: queue.KindTelegram, ChatID: chatID, Raw: raw}, nil
}

// scanner is a minimal JSON reader over b. Every value method starts with s.i on the
// value's first byte and leaves it just after the value; syntax errors are errBadJSON.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// kind reads an update-kind object and returns the chat id it names, by the preference
// order of ParseUpdate. A repeated key counts by its last occurrence, as in encoding/json.
func (s *scanner) kind() (id int64, ok bool, err error) {
	var ids [5]int64
	var found [5]bool
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	for first := true; ; first = false {
		key, more, err := s.key(first)
		if err != nil {
			return 0, false, err
		}
		if !more {
			break
		}
		n := -1
		switch string(key) {
		case "chat":
			n = 0
		case "message":
			n = 1
		case "from":
			n = 2
		case "user":
			n = 3
		case "voter_chat":
			n = 4
		}
		switch {
		case n == 1:
			ids[n], found[n], err = s.field("chat")
		case n >= 0:
			ids[n], found[n], err = s.field("id")
		default:
			err = s.skip()
		}
		if err != nil {
			return 0, false, err
		}
	}
	for n := range ids {
		if found[n] {
			return ids[n], true, nil
		}
	}
	return 0, false, nil
}

// field reads a value and, when it is an object, the integer at name within it; for
// name "chat" the integer is the chat object's id.
func (s *scanner) field(name string) (id int64, ok bool, err error) {
	if s.b[s.i] != '{' {
		return 0, false, s.skip()
	}
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	for first := true; ; first = false {
		key, more, err := s.key(first)
		if err != nil {
			return 0, false, err
		}
		if !more {
			return id, ok, nil
		}
		switch {
		case string(key) != name:
			err = s.skip()
		case name == "chat":
			id, ok, err = s.field("id")
		default:
			id, ok, err = s.integer()
		}
		if err != nil {
			return 0, false, err
		}
	}
}

// integer reads a value and reports whether it is an integer that fits in an int64.
func (s *scanner) integer() (n int64, ok bool, err error) {
	c := s.b[s.i]
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, s.skip()
	}
	start := s.i
	isInt, err := s.number()
	if err != nil || !isInt {
		return 0, false, err
	}
	n, ok = parseInt(s.b[start:s.i])
	return n, ok, nil
}

// parseInt parses a JSON integer token; ok is false when it overflows an int64.
// strconv.ParseInt would need a string, and so an allocation per update.
func parseInt(d []byte) (n int64, ok bool) {
	neg := d[0] == '-'
	if neg {
		d = d[1:]
	}
	const limit = 1 << 63
	var u uint64
	for _, c := range d {
		if u > limit/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
		if u > limit {
			return 0, false
		}
	}
	if neg {
		return -int64(u), true
	}
	if u == limit {
		return 0, false
	}
	return int64(u), true
}

// enter consumes the '{' or '[' at s.i.
func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errBadJSON
	}
	s.i++
	return nil
}

// key moves to the next member of the object being read and returns its key, leaving
// s.i on the member's value. At the closing brace it returns more == false.
func (s *scanner) key(first bool) (key []byte, more bool, err error) {
	s.ws()
	if s.i == len(s.b) {
		return nil, false, errBadJSON
	}
	switch c := s.b[s.i]; {
	case c == '}':
		s.i++
		s.depth--
		return nil, false, nil
	case first:
	case c == ',':
		s.i++
		s.ws()
	default:
		return nil, false, errBadJSON
	}
	if s.i == len(s.b) || s.b[s.i] != '"' {
		return nil, false, errBadJSON
	}
	start := s.i
	escaped, err := s.str()
	if err != nil {
		return nil, false, err
	}
	key = s.b[start+1 : s.i-1]
	if escaped {
		// A key spelled with escapes still names its field, as in encoding/json.
		// Telegram never does this, so the allocation does not matter.
		var k string
		if json.Unmarshal(s.b[start:s.i], &k) != nil {
			return nil, false, errBadJSON
		}
		key = []byte(k)
	}
	s.ws()
	if s.i == len(s.b) || s.b[s.i] != ':' {
		return nil, false, errBadJSON
	}
	s.i++
	s.ws()
	if s.i == len(s.b) {
		return nil, false, errBadJSON
	}
	return key, true, nil
}

// skip reads and validates any value.
func (s *scanner) skip() error {
	if s.i == len(s.b) {
		return errBadJSON
	}
	switch c := s.b[s.i]; c {
	case '{':
		if err := s.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, more, err := s.key(first)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := s.skip(); err != nil {
				return err
			}
		}
	case '[':
		return s.array()
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if err := s.skip(); err != nil {
			return err
		}
		s.ws()
		if s.i == len(s.b) {
			return errBadJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return errBadJSON
		}
	}
}

// str reads a string and reports whether it holds escapes. Like encoding/json's
// scanner it does not check UTF-8: invalid bytes are replaced when decoded.
func (s *scanner) str() (escaped bool, err error) {
	b := s.b
	for i := s.i + 1; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 == len(b) {
				return false, errBadJSON
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return false, errBadJSON
				}
				i += 6
			default:
				return false, errBadJSON
			}
		case c < 0x20:
			return false, errBadJSON
		default:
			i++
		}
	}
	return false, errBadJSON
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number reads a number and reports whether it is written as an integer
// (no fraction, no exponent).
func (s *scanner) number() (isInt bool, err error) {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return false, errBadJSON
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return false, errBadJSON
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		if i++; i == len(b) || !isDigit(b[i]) {
			return false, errBadJSON
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || !isDigit(b[i]) {
			return false, errBadJSON
		}
		i = digits(b, i)
	}
	s.i = i
	return isInt, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errBadJSON
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only white space follows.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}
