package main

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bot API methods the fake counts by name; any other method is answered true and counted
// as "other".
var methods = [...]string{"sendMessage", "editMessageText", "answerCallbackQuery", "deleteMessage",
	"sendChatAction", "getMe", "getChat", "getChatMember", "setMyCommands", "setWebhook",
	"getWebhookInfo", "deleteWebhook"}

// maxReplies is how many Bot API calls per chat the fake timestamps (the scenario makes 6).
const maxReplies = 8

// botID is the fake bot's own user id.
const botID = 777

// chatState is what the fake knows of one simulated chat: how many calls the bot made for
// it, when each arrived, and the id of the last message sent to it.
type chatState struct {
	mu      sync.Mutex
	n       int                   // calls so far
	at      [maxReplies]time.Time // arrival of call 1..maxReplies
	want    int                   // call number a step waits for (0: none)
	ch      chan struct{}         // signalled once n reaches want
	lastMsg int64                 // message_id the fake gave the last sendMessage
	langEN  bool                  // that message carried the "lang:en" button
}

// fakeAPI is a minimal Bot API: it answers the calls bangban makes with the smallest JSON
// its client accepts and timestamps every call for a simulated chat. It reads only
// chat_id, message_id and callback_query_id from the multipart (or JSON) body; chat ids
// from base to base+len(chats)-1 are the load generator's.
type fakeAPI struct {
	base     int64
	chats    []chatState
	msgID    atomic.Int64
	calls    [len(methods)]atomic.Int64
	other    atomic.Int64
	foreign  atomic.Int64 // calls naming a chat outside the load generator's range
	hookOnce sync.Once
	hooked   chan struct{} // closed at the first setWebhook
	bufs     sync.Pool
}

func newFakeAPI(base int64, nchats int) *fakeAPI {
	f := &fakeAPI{base: base, chats: make([]chatState, nchats), hooked: make(chan struct{})}
	for i := range f.chats {
		f.chats[i].ch = make(chan struct{}, 1)
	}
	f.msgID.Store(1000)
	f.bufs.New = func() any { return new(bytes.Buffer) }
	return f
}

// chat returns the state of a simulated chat, or nil for any other chat.
func (f *fakeAPI) chat(id int64) *chatState {
	if i := id - f.base; i >= 0 && i < int64(len(f.chats)) {
		return &f.chats[i]
	}
	return nil
}

var (
	ctJSON = []string{"application/json"}

	keyChatID     = []byte(`name="chat_id"`)
	keyMessageID  = []byte(`name="message_id"`)
	keyCallbackID = []byte(`name="callback_query_id"`)
	jsonChatID    = []byte(`"chat_id":`)
	jsonMessageID = []byte(`"message_id":`)
	jsonCallback  = []byte(`"callback_query_id":`)
	langENButton  = []byte(`"callback_data":"lang:en"`)
)

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := f.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer f.bufs.Put(buf)
	_, _ = buf.ReadFrom(r.Body)
	now := time.Now()
	body := buf.Bytes()
	path := r.URL.Path
	method := path[strings.LastIndexByte(path, '/')+1:]
	counted := false
	for i, m := range methods {
		if m == method {
			f.calls[i].Add(1)
			counted = true
			break
		}
	}
	if !counted {
		f.other.Add(1)
	}

	out := make([]byte, 0, 256)
	out = append(out, `{"ok":true,"result":`...)
	var chat, sent int64
	switch method {
	case "sendMessage", "sendDocument", "editMessageText":
		chat = parseInt(field(body, keyChatID, jsonChatID))
		sent = parseInt(field(body, keyMessageID, jsonMessageID))
		if method != "editMessageText" || sent == 0 {
			sent = f.msgID.Add(1)
		}
		out = message(out, sent, chat, now)
	case "deleteMessage", "sendChatAction":
		chat = parseInt(field(body, keyChatID, jsonChatID))
		out = append(out, "true"...)
	case "answerCallbackQuery":
		// The load generator's callback query ids are "<chat>-<step>".
		id := field(body, keyCallbackID, jsonCallback)
		if i := bytes.IndexByte(id, '-'); i > 0 {
			chat = parseInt(id[:i])
		}
		out = append(out, "true"...)
	case "getMe":
		out = append(out, `{"id":777,"is_bot":true,"first_name":"Bench","username":"bench_bot","supports_inline_queries":false}`...)
	case "getChat":
		id := parseInt(field(body, keyChatID, jsonChatID))
		out = append(out, `{"id":`...)
		out = strconv.AppendInt(out, id, 10)
		if id < 0 {
			out = append(out, `,"type":"supergroup","title":"Staff","is_forum":true,"accent_color_id":0,"max_reaction_count":11}`...)
		} else {
			out = append(out, `,"type":"private","accent_color_id":0,"max_reaction_count":11}`...)
		}
	case "getChatMember":
		out = append(out, `{"status":"administrator","user":{"id":777,"is_bot":true,"first_name":"Bench"},`+
			`"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,`+
			`"can_manage_video_chats":false,"can_restrict_members":true,"can_promote_members":false,`+
			`"can_change_info":false,"can_invite_users":true,"can_pin_messages":true,"can_manage_topics":true}`...)
	case "getWebhookInfo":
		out = append(out, `{"url":"","has_custom_certificate":false,"pending_update_count":0}`...)
	case "getUpdates":
		out = append(out, "[]"...)
	case "setWebhook":
		f.hookOnce.Do(func() { close(f.hooked) })
		out = append(out, "true"...)
	default: // setMyCommands, deleteWebhook, …
		out = append(out, "true"...)
	}
	out = append(out, '}')
	h := w.Header()
	h["Content-Type"] = ctJSON
	h["Content-Length"] = []string{strconv.Itoa(len(out))}
	_, _ = w.Write(out)

	if chat == 0 {
		return
	}
	cs := f.chat(chat)
	if cs == nil {
		f.foreign.Add(1)
		return
	}
	cs.mu.Lock()
	cs.n++
	if cs.n <= maxReplies {
		cs.at[cs.n-1] = now
	}
	if method == "sendMessage" {
		cs.lastMsg = sent
		cs.langEN = bytes.Contains(body, langENButton)
	}
	if cs.want != 0 && cs.n >= cs.want {
		cs.want = 0
		select {
		case cs.ch <- struct{}{}:
		default:
		}
	}
	cs.mu.Unlock()
}

// message appends a sent message's JSON.
func message(out []byte, id, chat int64, now time.Time) []byte {
	out = append(out, `{"message_id":`...)
	out = strconv.AppendInt(out, id, 10)
	out = append(out, `,"date":`...)
	out = strconv.AppendInt(out, now.Unix(), 10)
	out = append(out, `,"chat":{"id":`...)
	out = strconv.AppendInt(out, chat, 10)
	if chat < 0 {
		out = append(out, `,"type":"supergroup"}}`...)
	} else {
		out = append(out, `,"type":"private"}}`...)
	}
	return out
}

// field returns the value of a multipart form field (name="…", a blank line, the value up
// to CRLF) or, in a JSON body, of the first member named so (a number or a string without
// escapes).
func field(body, formKey, jsonKey []byte) []byte {
	if len(body) > 0 && body[0] != '{' {
		i := bytes.Index(body, formKey)
		if i < 0 {
			return nil
		}
		rest := body[i+len(formKey):]
		j := bytes.Index(rest, []byte("\r\n\r\n"))
		if j < 0 {
			return nil
		}
		rest = rest[j+4:]
		if k := bytes.Index(rest, []byte("\r\n")); k >= 0 {
			return rest[:k]
		}
		return nil
	}
	i := bytes.Index(body, jsonKey)
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(body[i+len(jsonKey):], " ")
	if len(rest) > 0 && rest[0] == '"' {
		if k := bytes.IndexByte(rest[1:], '"'); k >= 0 {
			return rest[1 : 1+k]
		}
		return nil
	}
	k := 0
	for k < len(rest) && (rest[k] == '-' || rest[k] >= '0' && rest[k] <= '9') {
		k++
	}
	return rest[:k]
}

// parseInt reads a decimal integer, 0 when b is not one.
func parseInt(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// expect tells the chat which call number the step just posted waits for. It must be
// called before the update is posted.
func (cs *chatState) expect(want int) {
	cs.mu.Lock()
	cs.want = want
	select { // drop a signal left by a step that was answered before it waited
	case <-cs.ch:
	default:
	}
	cs.mu.Unlock()
}

// wait returns when call number want arrived, or false after timeout.
func (cs *chatState) wait(want int, timeout time.Duration) (time.Time, bool) {
	cs.mu.Lock()
	if cs.n >= want {
		at := cs.at[want-1]
		cs.want = 0
		cs.mu.Unlock()
		return at, true
	}
	cs.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-cs.ch:
		cs.mu.Lock()
		defer cs.mu.Unlock()
		return cs.at[want-1], true
	case <-t.C:
		return time.Time{}, false
	}
}

// last returns the id of the last message sent to the chat and whether it carried the
// English button, and how many calls the chat has seen.
func (cs *chatState) last() (msg int64, langEN bool, n int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.lastMsg, cs.langEN, cs.n
}

// counts returns the calls per method so far, "other" included.
func (f *fakeAPI) counts() map[string]int64 {
	m := make(map[string]int64, len(methods)+1)
	for i, name := range methods {
		if n := f.calls[i].Load(); n > 0 {
			m[name] = n
		}
	}
	if n := f.other.Load(); n > 0 {
		m["other"] = n
	}
	return m
}

// total returns all calls so far.
func (f *fakeAPI) total() int64 {
	n := f.other.Load()
	for i := range f.calls {
		n += f.calls[i].Load()
	}
	return n
}
