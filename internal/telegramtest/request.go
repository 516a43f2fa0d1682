package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// errTruncated marks a body that ended early or failed to arrive: the client
// went away, which is no fault of the call's shape.
var errTruncated = errors.New("request body truncated")

// maxUpload bounds a request body; Telegram accepts uploads up to 50 MB.
const maxUpload = 50 << 20

// File is an uploaded multipart file.
type File struct {
	Name string
	Data []byte
}

// parseRequest reads the parameters of a call however the client sent them:
// multipart/form-data (what go-telegram/bot always sends, nested objects as
// JSON text in form fields), a JSON object, a urlencoded form, or the query
// string. Every value is kept as the text a form would carry.
func parseRequest(r *http.Request) (*request, error) {
	req := &request{params: map[string]string{}}
	for k, v := range r.URL.Query() {
		req.params[k] = v[0]
	}
	if r.Body == nil || r.Method == http.MethodGet {
		return req, nil
	}
	body := http.MaxBytesReader(nil, r.Body, maxUpload)
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return req, drain(body)
	}
	mediaType, mparams, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("bad content type %q: %w", ct, err)
	}
	switch mediaType {
	case "multipart/form-data":
		return req, parseMultipart(req, body, mparams["boundary"])
	case "application/json":
		return req, parseJSONBody(req, body)
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("read form: %w: %w", errTruncated, err)
		}
		values, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, fmt.Errorf("parse form: %w", err)
		}
		for k, v := range values {
			req.params[k] = v[0]
		}
		return req, nil
	}
	return nil, fmt.Errorf("unsupported content type %q", mediaType)
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func parseMultipart(req *request, body io.Reader, boundary string) error {
	if boundary == "" {
		return errors.New("multipart body without boundary")
	}
	mr := multipart.NewReader(body, boundary)
	var buf bytes.Buffer
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read multipart: %w: %w", errTruncated, err)
		}
		name := part.FormName()
		buf.Reset()
		if _, err := buf.ReadFrom(part); err != nil {
			return fmt.Errorf("read part %q: %w: %w", name, errTruncated, err)
		}
		if filename := part.FileName(); filename != "" {
			if req.files == nil {
				req.files = map[string]File{}
			}
			if _, dup := req.files[name]; !dup {
				req.files[name] = File{Name: filename, Data: bytes.Clone(buf.Bytes())}
			}
			continue
		}
		if _, dup := req.params[name]; !dup {
			req.params[name] = buf.String()
		}
	}
}

func parseJSONBody(req *request, body io.Reader) error {
	var obj map[string]json.RawMessage
	if err := json.NewDecoder(body).Decode(&obj); err != nil {
		return fmt.Errorf("decode JSON body: %w", err)
	}
	for k, raw := range obj {
		switch {
		case string(raw) == "null":
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			req.params[k] = s
		default:
			req.params[k] = string(raw)
		}
	}
	return nil
}
