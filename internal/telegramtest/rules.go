package telegramtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:generate go run ./internal/genrules -spec ../../../shared/telegram/bot-api.json -out rules.json

// rulesJSON holds the facts derived from the Bot API specification by
// internal/genrules: methods, their parameters, and the objects validated
// field by field.
//
//go:embed rules.json
var rulesJSON []byte

// libraryParams are parameters go-telegram/bot v1.19.0 sends although Bot API
// 10.1 does not list them (renamed since 9.4, or misspelled in the library).
// Telegram ignores unknown parameters, so the library works against it; the
// fake accepts exactly these and rejects every other unknown parameter.
var libraryParams = map[string]map[string]string{
	"sendPoll":             {"correct_option_id": "Integer"},
	"deleteChatStickerSet": {"sticker_set_name": "String"},
	"editMessageCaption":   {"k": "Boolean", "disable_web_page_preview": "Boolean"},
	"sendMessageDraft":     {"business_connection_id": "String"},
}

type kind int

const (
	kindInteger kind = iota
	kindString
	kindBoolean
	kindFloat
	kindFile
	kindArray
	kindObject
)

// typeSpec is one accepted type of a parameter or field, parsed once from
// the specification's spelling ("Array of Array of KeyboardButton").
type typeSpec struct {
	kind   kind
	elem   *typeSpec // for kindArray
	object string    // for kindObject
}

func parseType(s string) typeSpec {
	if rest, ok := strings.CutPrefix(s, "Array of "); ok {
		e := parseType(rest)
		return typeSpec{kind: kindArray, elem: &e}
	}
	switch s {
	case "Integer":
		return typeSpec{kind: kindInteger}
	case "String":
		return typeSpec{kind: kindString}
	case "Boolean", "True":
		return typeSpec{kind: kindBoolean}
	case "Float":
		return typeSpec{kind: kindFloat}
	case "InputFile":
		return typeSpec{kind: kindFile}
	}
	return typeSpec{kind: kindObject, object: s}
}

func (t typeSpec) String() string {
	switch t.kind {
	case kindInteger:
		return "Integer"
	case kindString:
		return "String"
	case kindBoolean:
		return "Boolean"
	case kindFloat:
		return "Float"
	case kindFile:
		return "InputFile"
	case kindArray:
		return "Array of " + t.elem.String()
	}
	return t.object
}

type fieldRule struct {
	Types    []string `json:"types"`
	Required bool     `json:"required"`
	Min      *int     `json:"min"`
	Max      int      `json:"max"`
	Bytes    bool     `json:"bytes"`
	Entities bool     `json:"entities"`
	Const    string   `json:"const"`

	specs []typeSpec
}

func (f *fieldRule) accepts(k kind) bool {
	return slices.ContainsFunc(f.specs, func(t typeSpec) bool { return t.kind == k })
}

func (f *fieldRule) typeNames() string {
	return strings.Join(f.Types, " or ")
}

type methodRule struct {
	Returns []string              `json:"returns"`
	Params  map[string]*fieldRule `json:"params"`

	name     string
	required []string
}

type objectRule struct {
	Fields       map[string]*fieldRule `json:"fields"`
	Subtypes     []string              `json:"subtypes"`
	ExactlyOneOf []string              `json:"exactly_one_of"`
	AtMostOneOf  []string              `json:"at_most_one_of"`
}

type ruleSet struct {
	Version string                 `json:"version"`
	Methods map[string]*methodRule `json:"methods"`
	Objects map[string]*objectRule `json:"objects"`

	// byLower finds a method however it is spelled: Telegram matches
	// method names case-insensitively (the library calls "logout").
	byLower map[string]*methodRule
}

// rules parses the embedded rule file once per process.
var rules = sync.OnceValue(func() *ruleSet {
	var rs ruleSet
	if err := json.Unmarshal(rulesJSON, &rs); err != nil {
		panic(fmt.Sprintf("telegramtest: decode embedded rules.json: %v", err))
	}
	for method, extra := range libraryParams {
		m := rs.Methods[method]
		if m == nil {
			continue
		}
		for name, typ := range extra {
			if _, ok := m.Params[name]; !ok {
				m.Params[name] = &fieldRule{Types: []string{typ}}
			}
		}
	}
	rs.byLower = make(map[string]*methodRule, len(rs.Methods))
	for name, m := range rs.Methods {
		m.name = name
		for p, f := range m.Params {
			f.parse()
			if f.Required {
				m.required = append(m.required, p)
			}
		}
		slices.Sort(m.required)
		rs.byLower[strings.ToLower(name)] = m
	}
	for _, o := range rs.Objects {
		for _, f := range o.Fields {
			f.parse()
		}
	}
	return &rs
})

func (f *fieldRule) parse() {
	f.specs = make([]typeSpec, len(f.Types))
	for i, t := range f.Types {
		f.specs[i] = parseType(t)
	}
}

// SpecVersion reports the Bot API version the enforced rules were derived from.
func SpecVersion() string { return rules().Version }

// request is a parsed call: raw string values as a form carries them, and
// uploaded files.
type request struct {
	params map[string]string
	files  map[string]File
}

// validate checks a call against the method's rules and returns Telegram's
// answer to a call it would reject.
func validate(m *methodRule, req *request) *apiError {
	for _, name := range m.required {
		isFile := m.Params[name].accepts(kindFile)
		if v, ok := req.params[name]; ok {
			if v == "" && isFile {
				return badRequest(fmt.Sprintf("there is no %s in the request", name))
			}
			continue
		}
		if _, ok := req.files[name]; ok {
			continue
		}
		switch {
		case name == "text":
			return badRequest("message text is empty")
		case isFile:
			return badRequest(fmt.Sprintf("there is no %s in the request", name))
		}
		return badRequest(fmt.Sprintf("parameter %q is required", name))
	}
	for name, raw := range req.params {
		f, ok := m.Params[name]
		if !ok {
			return badRequest(fmt.Sprintf("unknown parameter %q for method %s", name, m.name))
		}
		if err := checkParam(name, f, raw, req.params); err != nil {
			return err
		}
	}
	for name, up := range req.files {
		f, ok := m.Params[name]
		switch {
		case ok && !f.accepts(kindFile):
			return badRequest(fmt.Sprintf("parameter %q must be %s, got a file upload", name, f.typeNames()))
		case ok:
			if _, dup := req.params[name]; dup {
				return badRequest(fmt.Sprintf("parameter %q sent both as a value and as a file", name))
			}
		case !attached(req.params, name):
			return badRequest(fmt.Sprintf("unknown parameter %q for method %s", name, m.name))
		}
		if len(up.Data) == 0 {
			return badRequest("file must be non-empty")
		}
	}
	return nil
}

// attached reports whether some parameter refers to an uploaded part as
// attach://name, as media groups and stickers do.
func attached(params map[string]string, name string) bool {
	ref := "attach://" + name
	for _, v := range params {
		if strings.Contains(v, ref) {
			return true
		}
	}
	return false
}

// checkParam checks one form value, which carries every type as text:
// numbers and booleans as literals, objects and arrays as JSON.
func checkParam(name string, f *fieldRule, raw string, params map[string]string) *apiError {
	var errs []*apiError
	for _, t := range f.specs {
		var err *apiError
		switch t.kind {
		case kindString:
			err = checkLength(name, f, raw, params[parseModeFor(name)])
		case kindFile:
			// A string in place of an upload is a file_id or a URL.
		case kindInteger:
			if _, perr := strconv.ParseInt(raw, 10, 64); perr != nil {
				err = wrongType(name, f, raw)
			}
		case kindFloat:
			if _, perr := strconv.ParseFloat(raw, 64); perr != nil {
				err = wrongType(name, f, raw)
			}
		case kindBoolean:
			if _, ok := parseBool(raw); !ok {
				err = wrongType(name, f, raw)
			}
		case kindArray, kindObject:
			var v any
			if derr := decodeJSON(raw, &v); derr != nil {
				err = wrongType(name, f, raw)
			} else {
				err = checkValue(v, t, name)
			}
		}
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return mostSpecific(errs, func() *apiError { return wrongType(name, f, raw) })
}

// mostSpecific picks the error to report when a value matched none of its
// accepted types: a reason found inside a matching shape ("message is too
// long") beats a plain type mismatch.
func mostSpecific(errs []*apiError, mismatch func() *apiError) *apiError {
	for _, e := range errs {
		if !e.generic {
			return e
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return mismatch()
}

func wrongType(name string, f *fieldRule, raw string) *apiError {
	if len(raw) > 40 {
		raw = raw[:40] + "…"
	}
	e := badRequest(fmt.Sprintf("parameter %q must be %s, got %q", name, f.typeNames(), raw))
	e.generic = true
	return e
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func decodeJSON(raw string, v any) error {
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// parseModeFor names the parameter that selects the parse mode of a text
// parameter: caption and text use parse_mode, the others their own.
func parseModeFor(name string) string {
	switch name {
	case "text", "caption", "message_text":
		return "parse_mode"
	}
	return name + "_parse_mode"
}

// checkLength enforces the limits the specification states in prose,
// counting entity-parsed texts after parsing, in UTF-16 code units.
func checkLength(name string, f *fieldRule, s, parseMode string) *apiError {
	if f.Max == 0 && !f.Entities {
		return nil
	}
	var n int
	if f.Entities {
		visible, _, err := parseText(s, parseMode)
		if err != nil {
			return err
		}
		if f.Min != nil && *f.Min > 0 && strings.TrimSpace(visible) == "" {
			if name == "text" || name == "message_text" {
				return badRequest("message text is empty")
			}
			return badRequest(fmt.Sprintf("%s is empty", name))
		}
		n = utf16Len(visible)
	} else if f.Bytes {
		n = len(s)
	} else {
		n = utf8.RuneCountInString(s)
	}
	if f.Max == 0 {
		return nil
	}
	switch {
	case n > f.Max && (name == "text" || name == "message_text"):
		return badRequest("message is too long")
	case n > f.Max && name == "caption":
		return badRequest("message caption is too long")
	case name == "callback_data" && (n > f.Max || n < *f.Min):
		return badRequest("BUTTON_DATA_INVALID")
	case n > f.Max || f.Min != nil && n < *f.Min:
		unit := "characters"
		if f.Bytes {
			unit = "bytes"
		}
		return badRequest(fmt.Sprintf("%s must be %d-%d %s, got %d", name, *f.Min, f.Max, unit, n))
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// checkValue validates a decoded JSON value against one accepted type.
func checkValue(v any, t typeSpec, path string) *apiError {
	switch t.kind {
	case kindInteger:
		if n, ok := v.(json.Number); ok {
			if _, err := n.Int64(); err == nil {
				return nil
			}
		}
	case kindFloat:
		if _, ok := v.(json.Number); ok {
			return nil
		}
	case kindBoolean:
		if _, ok := v.(bool); ok {
			return nil
		}
	case kindString, kindFile:
		if _, ok := v.(string); ok {
			return nil
		}
	case kindArray:
		a, ok := v.([]any)
		if !ok {
			break
		}
		for i, e := range a {
			if err := checkValue(e, *t.elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case kindObject:
		if m, ok := v.(map[string]any); ok {
			return checkObject(m, t.object, path)
		}
		// A reply keyboard button may be a plain string (its text).
		if _, ok := v.(string); ok && t.object == "KeyboardButton" {
			return nil
		}
	}
	e := badRequest(fmt.Sprintf("%s must be %s", path, t))
	e.generic = true
	return e
}

// checkObject validates an object the rules describe; objects outside the
// derived set are accepted as they are.
func checkObject(m map[string]any, name, path string) *apiError {
	o := rules().Objects[name]
	if o == nil {
		return nil
	}
	if len(o.Subtypes) > 0 {
		return checkUnion(m, o, name, path)
	}
	for k := range m {
		if _, ok := o.Fields[k]; !ok {
			return badRequest(fmt.Sprintf("can't parse %s: unknown field %q in %s", path, k, name))
		}
	}
	for k, f := range o.Fields {
		v, present := m[k]
		if sub, ok := v.(map[string]any); v == nil || ok && !f.Required && !isSet(sub) {
			// null and empty objects count as absent: go-telegram/bot
			// marshals its non-pointer copy_text as {"text":""} on every
			// button, and Telegram ignores it.
			present = false
		}
		if !present {
			if f.Required {
				return badRequest(fmt.Sprintf("can't parse %s: field %q of %s is required", path, k, name))
			}
			continue
		}
		if f.Const != "" && v != f.Const {
			return badRequest(fmt.Sprintf("can't parse %s: %s.%s must be %q", path, name, k, f.Const))
		}
		if err := checkField(m, k, f, v, path+"."+k); err != nil {
			return err
		}
	}
	return checkOneOf(m, o, name, path)
}

func checkField(m map[string]any, k string, f *fieldRule, v any, path string) *apiError {
	var errs []*apiError
	for _, t := range f.specs {
		err := checkValue(v, t, path)
		if err == nil {
			if s, ok := v.(string); ok {
				mode, _ := m[parseModeFor(k)].(string)
				return checkLength(k, f, s, mode)
			}
			return nil
		}
		errs = append(errs, err)
	}
	return mostSpecific(errs, func() *apiError {
		e := badRequest(fmt.Sprintf("%s must be %s", path, f.typeNames()))
		e.generic = true
		return e
	})
}

// checkUnion picks the subtype a value names by its constant fields ("type":
// "article") and validates it; subtypes without constants are tried in turn.
func checkUnion(m map[string]any, o *objectRule, name, path string) *apiError {
	var firstErr *apiError
	for _, sub := range o.Subtypes {
		so := rules().Objects[sub]
		if so == nil {
			continue
		}
		named := false
		for k, f := range so.Fields {
			if f.Const == "" {
				continue
			}
			named = true
			if m[k] == f.Const {
				return checkObject(m, sub, path)
			}
		}
		if named {
			continue
		}
		err := checkObject(m, sub, path)
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return badRequest(fmt.Sprintf("can't parse %s: not a known %s", path, name))
}

// checkOneOf enforces "exactly one / at most one of the fields other than …".
func checkOneOf(m map[string]any, o *objectRule, name, path string) *apiError {
	group, exactly := o.AtMostOneOf, false
	if len(o.ExactlyOneOf) > 0 {
		group, exactly = o.ExactlyOneOf, true
	}
	if len(group) == 0 {
		return nil
	}
	var set []string
	for _, k := range group {
		if isSet(m[k]) {
			set = append(set, k)
		}
	}
	switch {
	case exactly && len(set) == 0 && name == "InlineKeyboardButton":
		return badRequest(fmt.Sprintf("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard (%s)", path))
	case exactly && len(set) != 1 || len(set) > 1:
		return badRequest(fmt.Sprintf("can't parse %s: %s needs exactly one of %s, got %d (%s)",
			path, name, strings.Join(group, ", "), len(set), strings.Join(set, ", ")))
	}
	return nil
}

// isSet reports whether an optional field selects a button action: false
// booleans and empty objects do not.
func isSet(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case map[string]any:
		for _, e := range v {
			if isSet(e) && e != "" {
				return true
			}
		}
		return false
	}
	return true
}
