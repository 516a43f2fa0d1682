// Command genrules derives the small rule file telegramtest enforces from the
// machine-readable Bot API specification, so the repository keeps only
// derived facts (names, types, limits) and never a copy of the specification.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// objectRoots are the objects telegramtest validates field by field, with
// every object they reference: the reply markups, commands, link previews,
// replies, entities and inline query results a bot sends.
var objectRoots = []string{
	"InlineKeyboardMarkup", "ReplyKeyboardMarkup", "ReplyKeyboardRemove", "ForceReply",
	"BotCommand", "BotCommandScope", "LinkPreviewOptions", "ReplyParameters",
	"MessageEntity", "InlineQueryResult", "InlineQueryResultsButton",
}

type specField struct {
	Name        string   `json:"name"`
	Types       []string `json:"types"`
	Required    bool     `json:"required"`
	Description string   `json:"description"`
}

type specEntry struct {
	Name        string      `json:"name"`
	Description []string    `json:"description"`
	Returns     []string    `json:"returns"`
	Fields      []specField `json:"fields"`
	Subtypes    []string    `json:"subtypes"`
}

type spec struct {
	Version string               `json:"version"`
	Methods map[string]specEntry `json:"methods"`
	Types   map[string]specEntry `json:"types"`
}

// Field is one derived parameter or object field; it mirrors the type the
// telegramtest package decodes.
type Field struct {
	Types    []string `json:"types"`
	Required bool     `json:"required,omitempty"`
	Min      *int     `json:"min,omitempty"`
	Max      int      `json:"max,omitempty"`
	Bytes    bool     `json:"bytes,omitempty"`
	Entities bool     `json:"entities,omitempty"`
	Const    string   `json:"const,omitempty"`
}

// Method is one derived method.
type Method struct {
	Returns []string         `json:"returns"`
	Params  map[string]Field `json:"params"`
}

// Object is one derived object type.
type Object struct {
	Fields    map[string]Field `json:"fields,omitempty"`
	Subtypes  []string         `json:"subtypes,omitempty"`
	ExactlyOf []string         `json:"exactly_one_of,omitempty"`
	AtMostOf  []string         `json:"at_most_one_of,omitempty"`
}

var (
	lengthRE = regexp.MustCompile(`(\d+)-(\d+) (characters|bytes)`)
	constRE  = regexp.MustCompile(`^(?:Type of the [a-z ]+|Scope type|Source), must be ([a-z0-9_]+)$`)
	oneOfRE  = regexp.MustCompile(`(Exactly|At most) one of the fields other than ([a-z_, ]+?) must be used`)
)

func main() {
	specPath := flag.String("spec", "../../../shared/telegram/bot-api.json", "machine-readable Bot API specification")
	out := flag.String("out", "rules.json", "rule file to write")
	flag.Parse()
	if err := run(*specPath, *out); err != nil {
		log.Fatal(err)
	}
}

func run(specPath, out string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decode spec %s: %w", specPath, err)
	}
	methods := make(map[string]Method, len(s.Methods))
	for name, m := range s.Methods {
		methods[name] = Method{Returns: m.Returns, Params: fields(m.Fields)}
	}
	objects := make(map[string]Object)
	stack := slices.Clone(objectRoots)
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		t, ok := s.Types[name]
		if _, done := objects[name]; done || !ok {
			continue
		}
		exactly, atMost, err := oneOf(t)
		if err != nil {
			return err
		}
		objects[name] = Object{Fields: fields(t.Fields), Subtypes: t.Subtypes, ExactlyOf: exactly, AtMostOf: atMost}
		stack = append(stack, t.Subtypes...)
		for _, f := range t.Fields {
			for _, ty := range f.Types {
				if base := strings.ReplaceAll(ty, "Array of ", ""); s.Types[base].Name != "" {
					stack = append(stack, base)
				}
			}
		}
	}
	return os.WriteFile(out, encode(s.Version, methods, objects), 0o644)
}

// fields derives parameters from the specification, including the length
// limits stated in prose ("1-4096 characters after entities parsing").
func fields(in []specField) map[string]Field {
	names := make(map[string]bool, len(in))
	for _, f := range in {
		names[f.Name] = true
	}
	out := make(map[string]Field, len(in))
	for _, f := range in {
		d := Field{Types: f.Types, Required: f.Required}
		if m := lengthRE.FindStringSubmatch(f.Description); m != nil {
			lo, _ := strconv.Atoi(m[1])
			hi, _ := strconv.Atoi(m[2])
			d.Min, d.Max, d.Bytes = &lo, hi, m[3] == "bytes"
		}
		// A text is parsed for entities when the specification says so or
		// when a parse mode for it sits beside it (editMessageText only
		// says "1-4096 characters").
		d.Entities = strings.Contains(f.Description, "entities parsing") ||
			names[f.Name+"_parse_mode"] ||
			((f.Name == "text" || f.Name == "caption" || f.Name == "message_text") && names["parse_mode"])
		if m := constRE.FindStringSubmatch(f.Description); m != nil && (f.Name == "type" || f.Name == "source") {
			d.Const = m[1]
		}
		out[f.Name] = d
	}
	return out
}

// oneOf derives "exactly one / at most one of the fields other than …" from
// an object's description.
func oneOf(t specEntry) (exactly, atMost []string, err error) {
	m := oneOfRE.FindStringSubmatch(strings.Join(t.Description, " "))
	if m == nil {
		return nil, nil, nil
	}
	except := map[string]bool{}
	for _, n := range strings.FieldsFunc(strings.ReplaceAll(m[2], " and ", ","), func(r rune) bool { return r == ',' || r == ' ' }) {
		except[n] = true
	}
	var group []string
	for _, f := range t.Fields {
		if !except[f.Name] && !f.Required {
			group = append(group, f.Name)
		}
	}
	if len(group) == 0 {
		return nil, nil, fmt.Errorf("%s: one-of rule names no fields", t.Name)
	}
	if m[1] == "Exactly" {
		return group, nil, nil
	}
	return nil, group, nil
}

// encode writes one method or object per line, sorted, so a regenerated file
// diffs line by line against the previous specification.
func encode(version string, methods map[string]Method, objects map[string]Object) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n\"version\": %q,\n\"methods\": {\n", version)
	writeMap(&b, methods)
	b.WriteString("},\n\"objects\": {\n")
	writeMap(&b, objects)
	b.WriteString("}\n}\n")
	return b.Bytes()
}

func writeMap[V any](b *bytes.Buffer, m map[string]V) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		v, err := json.Marshal(m[k])
		if err != nil {
			panic(err) // plain structs of strings and ints always marshal
		}
		sep := ","
		if i == len(keys)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "%q: %s%s\n", k, v, sep)
	}
}
