package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

type userJSON struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	Username  string `json:"username,omitempty"`
}

type chatJSON struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	IsForum   bool   `json:"is_forum,omitempty"`
}

type photoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size,omitempty"`
}

type documentJSON struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type locationJSON struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

type messageJSON struct {
	MessageID       int             `json:"message_id"`
	MessageThreadID int             `json:"message_thread_id,omitempty"`
	From            *userJSON       `json:"from,omitempty"`
	SenderChat      *chatJSON       `json:"sender_chat,omitempty"`
	Chat            chatJSON        `json:"chat"`
	Date            int64           `json:"date"`
	EditDate        int64           `json:"edit_date,omitempty"`
	IsTopicMessage  bool            `json:"is_topic_message,omitempty"`
	Text            string          `json:"text,omitempty"`
	Entities        any             `json:"entities,omitempty"`
	Caption         string          `json:"caption,omitempty"`
	CaptionEntities any             `json:"caption_entities,omitempty"`
	Photo           []photoSize     `json:"photo,omitempty"`
	Document        *documentJSON   `json:"document,omitempty"`
	Location        *locationJSON   `json:"location,omitempty"`
	ReplyMarkup     json.RawMessage `json:"reply_markup,omitempty"`
}

func (c Chat) json() chatJSON {
	return chatJSON{ID: c.ID, Type: c.Type, Title: c.Title, Username: c.Username, FirstName: c.FirstName, IsForum: c.IsForum}
}

func (s *Server) botJSON() *userJSON {
	return &userJSON{ID: s.bot.ID, IsBot: true, FirstName: s.bot.FirstName, Username: s.bot.Username}
}

// handle answers a valid call. A nil result with a nil error means the
// client went away while the call waited.
func (s *Server) handle(ctx context.Context, m *methodRule, req *request, call *Call) (any, *apiError) {
	p := req.params
	switch m.name {
	case "getMe":
		return map[string]any{
			"id": s.bot.ID, "is_bot": true, "first_name": s.bot.FirstName, "username": s.bot.Username,
			"can_join_groups": s.bot.CanJoinGroups, "can_read_all_group_messages": s.bot.CanReadAllGroupMessages,
			"supports_inline_queries": s.bot.SupportsInlineQueries, "can_connect_to_business": false,
			"has_main_web_app": false,
		}, nil
	case "getUpdates":
		return s.getUpdates(ctx, p)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var cs *chatState
	if raw, ok := p["chat_id"]; ok {
		var e *apiError
		if cs, e = s.resolveChat(raw); e != nil {
			return nil, e
		}
		call.ChatID = cs.chat.ID
		if s.state.blocked[cs.chat.ID] && sends(m.name) {
			return nil, &apiError{code: http.StatusForbidden, description: "Forbidden: bot was blocked by the user"}
		}
	}
	switch m.name {
	case "setWebhook":
		return s.setWebhook(p)
	case "deleteWebhook":
		s.state.webhook = Webhook{}
		if b, _ := parseBool(p["drop_pending_updates"]); b {
			s.state.updates = nil
		}
		return true, nil
	case "getWebhookInfo":
		return s.webhookInfo(), nil
	case "sendMessage":
		return s.send(cs, req, func(msg *messageJSON, st *msgState) {
			msg.Text, msg.Entities = s.formatted(p, "text", "entities")
			st.kind, st.text = "text", hash(p["text"], p["parse_mode"], p["entities"])
		})
	case "sendPhoto":
		return s.send(cs, req, func(msg *messageJSON, st *msgState) {
			f := s.storeFile(req, "photo", "photos/file.jpg")
			msg.Photo = []photoSize{
				{FileID: f.id + "_s", FileUniqueID: f.unique + "_s", Width: 90, Height: 90},
				{FileID: f.id, FileUniqueID: f.unique, Width: 800, Height: 800, FileSize: f.size},
			}
			st.kind = "photo"
			s.caption(p, msg, st)
		})
	case "sendDocument":
		return s.send(cs, req, func(msg *messageJSON, st *msgState) {
			f := s.storeFile(req, "document", "documents/file")
			msg.Document = &documentJSON{FileID: f.id, FileUniqueID: f.unique, FileName: f.name, MimeType: mimeType(f.name), FileSize: f.size}
			st.kind = "document"
			s.caption(p, msg, st)
		})
	case "sendLocation":
		return s.send(cs, req, func(msg *messageJSON, st *msgState) {
			lat, _ := strconv.ParseFloat(p["latitude"], 64)
			lon, _ := strconv.ParseFloat(p["longitude"], 64)
			msg.Location = &locationJSON{Latitude: lat, Longitude: lon}
			st.kind = "location"
		})
	case "copyMessage":
		from, e := s.resolveChat(p["from_chat_id"])
		if e != nil {
			return nil, e
		}
		id, _ := strconv.Atoi(p["message_id"])
		orig, ok := from.message(id)
		if !ok {
			return nil, stateError("message to copy not found")
		}
		msg, e := s.send(cs, req, func(_ *messageJSON, st *msgState) {
			copied(st, orig, MessageRef{ChatID: from.chat.ID, MessageID: id})
			if _, ok := p["caption"]; ok && st.kind != "text" {
				s.caption(p, &messageJSON{}, st)
			}
		})
		if e != nil {
			return nil, e
		}
		return map[string]int{"message_id": msg.MessageID}, nil
	case "copyMessages":
		return s.copyMessages(cs, req)
	case "editMessageText", "editMessageCaption", "editMessageReplyMarkup":
		return s.edit(m.name, cs, p)
	case "deleteMessage":
		id, _ := strconv.Atoi(p["message_id"])
		st, ok := cs.message(id)
		if !ok {
			return nil, stateError("message to delete not found")
		}
		if st == nil {
			st = &msgState{}
		}
		st.deleted = true
		cs.remember(id, st)
		return true, nil
	case "setMyCommands", "getMyCommands", "deleteMyCommands":
		return s.commands(m.name, p)
	case "getChat":
		return s.getChat(cs), nil
	case "getChatMember":
		return s.getChatMember(cs, p["user_id"]), nil
	case "createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic", "deleteForumTopic":
		return s.forumTopic(m.name, cs, p)
	case "getFile":
		f := s.state.files[p["file_id"]]
		if f == nil {
			return nil, stateError("invalid file_id")
		}
		return map[string]any{"file_id": f.id, "file_unique_id": f.unique, "file_size": f.size, "file_path": f.path}, nil
	case "answerInlineQuery":
		return s.answerInlineQuery(p)
	case "getMyStarBalance":
		return map[string]int{"amount": s.state.stars}, nil
	}
	return s.generic(m, cs, req)
}

// sends reports whether a method sends to a chat, which a user who blocked
// the bot refuses.
func sends(method string) bool {
	for _, prefix := range []string{"send", "copy", "forward", "edit"} {
		if strings.HasPrefix(method, prefix) {
			return true
		}
	}
	return false
}

// generic answers methods without their own handler with the shape of
// their return type, so that clients can decode the answer.
func (s *Server) generic(m *methodRule, cs *chatState, req *request) (any, *apiError) {
	ret := ""
	if len(m.Returns) > 0 {
		ret = m.Returns[0]
	}
	switch {
	case ret == "Message" && cs != nil:
		return s.send(cs, req, func(msg *messageJSON, st *msgState) {
			st.kind = sentKind(m.name)
			s.caption(req.params, msg, st)
		})
	case ret == "Boolean" || ret == "True":
		return true, nil
	case ret == "Integer":
		return 0, nil
	case ret == "String":
		return "", nil
	case strings.HasPrefix(ret, "Array of "):
		return []any{}, nil
	}
	return map[string]any{}, nil
}

// send appends a message from the bot to a chat.
func (s *Server) send(cs *chatState, req *request, fill func(*messageJSON, *msgState)) (*messageJSON, *apiError) {
	thread, e := s.thread(cs, req.params["message_thread_id"])
	if e != nil {
		return nil, e
	}
	msg := &messageJSON{
		MessageID:       cs.nextID(),
		MessageThreadID: thread,
		Chat:            cs.chat.json(),
		Date:            time.Now().Unix(),
		IsTopicMessage:  thread != 0 && cs.chat.IsForum,
		ReplyMarkup:     inlineMarkup(req.params["reply_markup"]),
	}
	if cs.chat.Type == "channel" {
		msg.SenderChat = &msg.Chat
	} else {
		msg.From = s.botJSON()
	}
	st := &msgState{fromBot: true, thread: thread, markup: hash(req.params["reply_markup"])}
	fill(msg, st)
	cs.remember(msg.MessageID, st)
	return msg, nil
}

// sentKind names what a send method without its own handler sends, as the
// field of the Message it returns: sendVideoNote sends a "video_note".
func sentKind(method string) string {
	var b strings.Builder
	for i, r := range strings.TrimPrefix(method, "send") {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// copied makes st a copy of orig, the message ref names (nil when it is too
// old to be remembered): the copy holds the same kind of content.
func copied(st *msgState, orig *msgState, ref MessageRef) {
	st.copyOf = ref
	if orig != nil {
		st.kind, st.text = orig.kind, orig.text
	}
}

// copyMessages copies messages like Telegram: message_ids holds 1-100
// strictly increasing ids, those that cannot be found are skipped, and the
// copies keep the order of the originals.
func (s *Server) copyMessages(cs *chatState, req *request) (any, *apiError) {
	p := req.params
	from, e := s.resolveChat(p["from_chat_id"])
	if e != nil {
		return nil, e
	}
	var ids []int
	if err := json.Unmarshal([]byte(p["message_ids"]), &ids); err != nil {
		return nil, badRequest("can't parse message_ids: " + err.Error())
	}
	switch {
	case len(ids) == 0 || len(ids) > 100:
		return nil, badRequest(fmt.Sprintf("message_ids must hold 1-100 identifiers, got %d", len(ids)))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return nil, badRequest("message identifiers must be specified in a strictly increasing order")
		}
	}
	if _, e := s.thread(cs, p["message_thread_id"]); e != nil {
		return nil, e
	}
	out := []map[string]int{}
	for _, id := range ids {
		orig, ok := from.message(id)
		if !ok {
			continue
		}
		msg, e := s.send(cs, req, func(_ *messageJSON, st *msgState) {
			copied(st, orig, MessageRef{ChatID: from.chat.ID, MessageID: id})
		})
		if e != nil {
			return nil, e
		}
		out = append(out, map[string]int{"message_id": msg.MessageID})
	}
	if len(out) == 0 {
		return nil, stateError("message to copy not found")
	}
	return out, nil
}

// thread checks a message_thread_id: in a forum it names an open topic.
func (s *Server) thread(cs *chatState, raw string) (int, *apiError) {
	if raw == "" {
		return 0, nil
	}
	id, _ := strconv.Atoi(raw)
	if !cs.chat.IsForum {
		return id, nil
	}
	t := cs.topics[id]
	switch {
	case t == nil:
		return 0, stateError("message thread not found")
	case t.closed:
		return 0, stateError("TOPIC_CLOSED")
	}
	return id, nil
}

// formatted returns a text as Telegram shows it, with its entities.
func (s *Server) formatted(p map[string]string, textKey, entitiesKey string) (string, any) {
	if raw := p[entitiesKey]; raw != "" {
		return p[textKey], json.RawMessage(raw)
	}
	text, entities, _ := parseText(p[textKey], p["parse_mode"])
	if len(entities) == 0 {
		return text, nil
	}
	return text, entities
}

func (s *Server) caption(p map[string]string, msg *messageJSON, st *msgState) {
	msg.Caption, msg.CaptionEntities = s.formatted(p, "caption", "caption_entities")
	st.text = hash(p["caption"], p["parse_mode"], p["caption_entities"])
}

// inlineMarkup is the reply_markup a sent message carries: Telegram returns
// inline keyboards only.
func inlineMarkup(raw string) json.RawMessage {
	if !strings.Contains(raw, `"inline_keyboard"`) {
		return nil
	}
	return json.RawMessage(raw)
}

func (s *Server) storeFile(req *request, field, defaultPath string) *storedFile {
	if f, ok := s.state.files[req.params[field]]; ok {
		return f
	}
	s.state.fileSeq++
	n := s.state.fileSeq
	f := &storedFile{
		id:     fmt.Sprintf("BQACAgIAAxkBAAI%06d", n),
		unique: fmt.Sprintf("AgAD%06d", n),
		path:   fmt.Sprintf("%s_%d", defaultPath, n),
	}
	if up, ok := req.files[field]; ok {
		f.name, f.data, f.size = up.Name, up.Data, len(up.Data)
		f.path = path.Join(path.Dir(defaultPath), fmt.Sprintf("file_%d%s", n, path.Ext(up.Name)))
	} else if u, err := url.Parse(req.params[field]); err == nil {
		f.name = path.Base(u.Path)
	}
	s.state.files[f.id] = f
	return f
}

func mimeType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		t, _, _ = strings.Cut(t, ";")
		return t
	}
	return "application/octet-stream"
}

func (s *Server) edit(method string, cs *chatState, p map[string]string) (any, *apiError) {
	if p["inline_message_id"] != "" {
		return true, nil
	}
	if cs == nil || p["message_id"] == "" {
		return nil, badRequest("message identifier is not specified")
	}
	if method == "editMessageText" && p["text"] == "" && p["rich_message"] == "" {
		return nil, badRequest("message text is empty")
	}
	id, _ := strconv.Atoi(p["message_id"])
	st, ok := cs.message(id)
	switch {
	case !ok:
		return nil, stateError("message to edit not found")
	case st != nil && !st.fromBot:
		return nil, stateError("message can't be edited")
	case st != nil && method == "editMessageText" && st.kind != "text":
		return nil, stateError("there is no text in the message to edit")
	case st != nil && method == "editMessageCaption" && st.kind == "text":
		return nil, stateError("there is no caption in the message to edit")
	}
	var next msgState
	if st != nil {
		next = *st
	}
	next.fromBot, next.markup = true, hash(p["reply_markup"])
	switch method {
	case "editMessageText":
		next.kind, next.text = "text", hash(p["text"], p["parse_mode"], p["entities"])
	case "editMessageCaption":
		next.text = hash(p["caption"], p["parse_mode"], p["caption_entities"])
	}
	if st != nil && next == *st {
		return nil, stateError("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	cs.remember(id, &next)
	msg := &messageJSON{
		MessageID:   id,
		From:        s.botJSON(),
		Chat:        cs.chat.json(),
		Date:        time.Now().Unix(),
		EditDate:    time.Now().Unix(),
		ReplyMarkup: inlineMarkup(p["reply_markup"]),
	}
	if method == "editMessageText" {
		msg.Text, msg.Entities = s.formatted(p, "text", "entities")
	} else if method == "editMessageCaption" {
		msg.Caption, msg.CaptionEntities = s.formatted(p, "caption", "caption_entities")
	}
	return msg, nil
}

var botCommandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (s *Server) commands(method string, p map[string]string) (any, *apiError) {
	key, err := commandsKey(p["scope"], p["language_code"])
	if err != nil {
		return nil, badRequest(err.Error())
	}
	switch method {
	case "getMyCommands":
		if c, ok := s.state.commands[key]; ok {
			return c, nil
		}
		return []any{}, nil
	case "deleteMyCommands":
		delete(s.state.commands, key)
		return true, nil
	}
	var cmds []struct {
		Command     string `json:"command"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands: " + err.Error())
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !botCommandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
	}
	if len(cmds) == 0 {
		delete(s.state.commands, key)
		return true, nil
	}
	canonical, _ := json.Marshal(cmds) // a slice of string pairs always marshals
	s.state.commands[key] = canonical
	return true, nil
}

func (s *Server) getChat(cs *chatState) any {
	info := map[string]any{
		"id": cs.chat.ID, "type": cs.chat.Type, "accent_color_id": 0, "max_reaction_count": 11,
		"accepted_gift_types": map[string]bool{"unlimited_gifts": true, "limited_gifts": true, "unique_gifts": true, "premium_subscription": true},
	}
	for k, v := range map[string]string{"title": cs.chat.Title, "username": cs.chat.Username, "first_name": cs.chat.FirstName} {
		if v != "" {
			info[k] = v
		}
	}
	if cs.chat.IsForum {
		info["is_forum"] = true
	}
	return info
}

func (s *Server) getChatMember(cs *chatState, userID string) any {
	id, _ := strconv.ParseInt(userID, 10, 64)
	if id != s.bot.ID {
		return map[string]any{"status": "member", "user": userJSON{ID: id, FirstName: "User " + userID}}
	}
	if cs.chat.BotStatus != "administrator" {
		return map[string]any{"status": cs.chat.BotStatus, "user": s.botJSON()}
	}
	return map[string]any{
		"status": "administrator", "user": s.botJSON(), "can_be_edited": false, "is_anonymous": false,
		"can_manage_chat": true, "can_delete_messages": cs.chat.CanDeleteMessages,
		"can_manage_video_chats": false, "can_restrict_members": false, "can_promote_members": false,
		"can_change_info": false, "can_invite_users": true, "can_post_stories": false,
		"can_edit_stories": false, "can_delete_stories": false, "can_pin_messages": true,
		"can_manage_topics": cs.chat.CanManageTopics,
	}
}

func (s *Server) forumTopic(method string, cs *chatState, p map[string]string) (any, *apiError) {
	if !cs.chat.IsForum {
		return nil, stateError("the chat is not a forum")
	}
	if method == "createForumTopic" {
		if cs.chat.BotStatus != "administrator" || !cs.chat.CanManageTopics {
			return nil, stateError("not enough rights to create a topic")
		}
		id := cs.nextID()
		cs.topics[id] = &topic{name: p["name"], icon: p["icon_custom_emoji_id"]}
		color, _ := strconv.Atoi(p["icon_color"])
		if color == 0 {
			color = 7322096
		}
		topic := map[string]any{"message_thread_id": id, "name": p["name"], "icon_color": color}
		if icon := p["icon_custom_emoji_id"]; icon != "" {
			topic["icon_custom_emoji_id"] = icon
		}
		return topic, nil
	}
	id, _ := strconv.Atoi(p["message_thread_id"])
	t := cs.topics[id]
	if t == nil {
		return nil, stateError("TOPIC_ID_INVALID")
	}
	if cs.chat.BotStatus != "administrator" || !cs.chat.CanManageTopics {
		return nil, stateError("not enough rights to manage topics")
	}
	before := *t
	switch method {
	case "editForumTopic":
		if name, ok := p["name"]; ok && name != "" {
			t.name = name
		}
		if icon, ok := p["icon_custom_emoji_id"]; ok {
			t.icon = icon
		}
	case "closeForumTopic":
		t.closed = true
	case "reopenForumTopic":
		t.closed = false
	case "deleteForumTopic":
		cs.deleteTopic(id)
		return true, nil
	}
	if *t == before {
		return nil, stateError("TOPIC_NOT_MODIFIED")
	}
	return true, nil
}

// webhookPorts are the ports Telegram delivers webhooks to.
var webhookPorts = []string{"443", "80", "88", "8443"}

var secretTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Server) setWebhook(p map[string]string) (any, *apiError) {
	raw := p["url"]
	if raw == "" {
		s.state.webhook = Webhook{}
		return true, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	if port := u.Port(); port != "" && !slices.Contains(webhookPorts, port) {
		return nil, badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
	}
	if tok, ok := p["secret_token"]; ok && !secretTokenRE.MatchString(tok) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	w := Webhook{URL: raw, SecretToken: p["secret_token"], IPAddress: p["ip_address"], MaxConnections: 40}
	if mc, ok := p["max_connections"]; ok {
		n, _ := strconv.Atoi(mc)
		if n < 1 || n > 100 {
			return nil, badRequest("bad webhook: max_connections must be 1-100")
		}
		w.MaxConnections = n
	}
	if au, ok := p["allowed_updates"]; ok {
		if err := json.Unmarshal([]byte(au), &w.AllowedUpdates); err != nil {
			return nil, badRequest("can't parse allowed_updates: " + err.Error())
		}
		s.state.allowed = w.AllowedUpdates
	} else {
		w.AllowedUpdates = s.state.webhook.AllowedUpdates
	}
	if b, _ := parseBool(p["drop_pending_updates"]); b {
		s.state.updates = nil
	}
	w.LastErrorDate, w.LastErrorMessage = s.state.webhook.LastErrorDate, s.state.webhook.LastErrorMessage
	s.state.webhook = w
	return true, nil
}

func (s *Server) webhookInfo() any {
	w := s.state.webhook
	info := map[string]any{"url": w.URL, "has_custom_certificate": false, "pending_update_count": len(s.state.updates)}
	if w.URL != "" {
		info["max_connections"] = w.MaxConnections
		if w.IPAddress != "" {
			info["ip_address"] = w.IPAddress
		}
		if w.AllowedUpdates != nil {
			info["allowed_updates"] = w.AllowedUpdates
		}
	}
	if !w.LastErrorDate.IsZero() {
		info["last_error_date"] = w.LastErrorDate.Unix()
		info["last_error_message"] = w.LastErrorMessage
	}
	return info
}

// defaultSkipped are the update kinds Telegram leaves out unless
// allowed_updates names them.
var defaultSkipped = []string{"chat_member", "message_reaction", "message_reaction_count"}

func (s *Server) allowedLocked(kind string) bool {
	if len(s.state.allowed) == 0 {
		return !slices.Contains(defaultSkipped, kind)
	}
	return slices.Contains(s.state.allowed, kind)
}

// getUpdates serves pushed updates like Telegram: an offset confirms every
// earlier update, a timeout long-polls, a newer call ends an older one with
// 409, and a set webhook refuses it with 409.
func (s *Server) getUpdates(ctx context.Context, p map[string]string) (any, *apiError) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p["timeout"])
	s.mu.Lock()
	if s.state.webhook.URL != "" {
		s.mu.Unlock()
		return nil, &apiError{code: http.StatusConflict, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if au, ok := p["allowed_updates"]; ok {
		var allowed []string
		if err := json.Unmarshal([]byte(au), &allowed); err != nil {
			s.mu.Unlock()
			return nil, badRequest("can't parse allowed_updates: " + err.Error())
		}
		s.state.allowed = allowed
	}
	s.state.pollGen++
	gen := s.state.pollGen
	close(s.state.pollStop)
	s.state.pollStop = make(chan struct{})
	stop := s.state.pollStop
	s.mu.Unlock()

	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		expired = t.C
	}
	for {
		s.mu.Lock()
		if gen != s.state.pollGen {
			s.mu.Unlock()
			return nil, &apiError{code: http.StatusConflict, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		batch := s.takeUpdatesLocked(offset, limit)
		pushed := s.state.pushed
		s.mu.Unlock()
		if len(batch) > 0 || expired == nil {
			return batch, nil
		}
		select {
		case <-pushed:
		case <-stop:
		case <-expired:
			return []json.RawMessage{}, nil
		case <-s.done:
			return []json.RawMessage{}, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}

func (s *Server) takeUpdatesLocked(offset int64, limit int) []json.RawMessage {
	q := s.state.updates
	switch {
	case offset > 0:
		i := 0
		for i < len(q) && q[i].id < offset {
			i++
		}
		q = q[i:]
	case offset < 0 && int(-offset) < len(q):
		q = q[len(q)+int(offset):]
	}
	kept := q[:0:0]
	batch := []json.RawMessage{}
	for _, u := range q {
		if !s.allowedLocked(u.kind) {
			continue // Telegram never delivers a kind the bot did not allow
		}
		kept = append(kept, u)
		if len(batch) < limit {
			batch = append(batch, u.raw)
		}
	}
	s.state.updates = kept
	return batch
}

// serveFile serves downloads of uploaded files, /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	_, filePath, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	var data []byte
	found := false
	for _, f := range s.state.files {
		if f.path == filePath && f.data != nil {
			data, found = f.data, true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", mimeType(filePath))
	_, _ = w.Write(data)
}
