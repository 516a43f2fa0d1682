package telegramtest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chat is a chat the fake knows. Private chats (positive ids) are known
// without being added; groups and channels must be added (or appear in a
// pushed update) before the bot can use them, like chats the bot is not in.
type Chat struct {
	ID int64
	// Type is "private", "group", "supergroup" or "channel"; empty means
	// private for positive ids and supergroup for negative ones.
	Type      string
	Title     string
	Username  string
	FirstName string
	IsForum   bool
	// BotStatus is the bot's status in the chat, "administrator" (the
	// default) or "member".
	BotStatus         string
	CanManageTopics   bool
	CanDeleteMessages bool
}

// Webhook is the webhook state as setWebhook left it.
type Webhook struct {
	URL              string
	SecretToken      string
	IPAddress        string
	MaxConnections   int
	AllowedUpdates   []string
	LastErrorDate    time.Time
	LastErrorMessage string
}

// keptMessages is how many recent messages per chat are remembered for
// edits; older ones are edited without the "not modified" check. A bound
// keeps memory flat in long benchmarks.
const keptMessages = 64

type msgState struct {
	fromBot bool
	// kind is what the message holds, as Message.Kind: "text" (editable with
	// editMessageText), "photo", "document"…; empty when unknown.
	kind    string
	thread  int
	deleted bool
	text    uint64 // hash of the text or caption as sent, with its parse mode
	markup  uint64 // hash of the reply_markup as sent
	copyOf  MessageRef
}

// MessageRef names a message of a chat.
type MessageRef struct {
	ChatID    int64
	MessageID int
}

// Message is what the fake remembers of a message, for a test to check what
// a chat holds.
type Message struct {
	ID int
	// Thread is the forum topic (or reply thread) the message is in; 0 for
	// none.
	Thread int
	// Kind is what the message holds, named as its field in a Message of
	// the Bot API: "text", "photo", "document", "voice", "location",
	// "video_note"…; empty when unknown (an id reserved by a test is "text").
	Kind    string
	FromBot bool
	// CopyOf is the message this one is a copy of (copyMessage,
	// copyMessages); zero for an original.
	CopyOf MessageRef
}

type topic struct {
	name   string
	icon   string
	closed bool
}

type chatState struct {
	chat   Chat
	lastID int
	msgs   map[int]*msgState
	order  []int
	topics map[int]*topic
}

type queuedUpdate struct {
	id   int64
	kind string
	raw  json.RawMessage
}

type storedFile struct {
	id, unique, path, name string
	data                   []byte
	size                   int
}

type state struct {
	chats        map[int64]*chatState
	blocked      map[int64]bool
	stars        int // getMyStarBalance's amount
	commands     map[string]json.RawMessage
	webhook      Webhook
	updates      []queuedUpdate
	nextUpdateID int64
	pushed       chan struct{} // closed and replaced when an update arrives
	allowed      []string      // allowed_updates of the last getUpdates or setWebhook
	pollGen      int64
	pollStop     chan struct{} // closed when a newer getUpdates takes over
	files        map[string]*storedFile
	fileSeq      int
	inline       inlineQueries
}

func (st *state) init() {
	st.chats = map[int64]*chatState{}
	st.blocked = map[int64]bool{}
	st.commands = map[string]json.RawMessage{}
	st.nextUpdateID = 1
	st.pushed = make(chan struct{})
	st.pollStop = make(chan struct{})
	st.files = map[string]*storedFile{}
	st.inline.byID = map[string]*inlineQuery{}
}

func (c *Chat) normalize() {
	if c.Type == "" {
		c.Type = "private"
		if c.ID < 0 {
			c.Type = "supergroup"
		}
	}
	if c.Type == "private" && c.FirstName == "" {
		c.FirstName = "User " + strconv.FormatInt(c.ID, 10)
	}
	if c.Type != "private" && c.Title == "" {
		c.Title = "Chat " + strconv.FormatInt(c.ID, 10)
	}
	if c.BotStatus == "" {
		c.BotStatus = "administrator"
		if c.Type == "private" {
			c.BotStatus = "member"
		}
	}
	c.Username = strings.TrimPrefix(c.Username, "@")
}

// AddChat makes a chat known, replacing its settings but keeping its
// messages and topics.
func (s *Server) AddChat(c Chat) {
	c.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.state.chats[c.ID]; cs != nil {
		cs.chat = c
		return
	}
	s.state.chats[c.ID] = newChatState(c)
}

func newChatState(c Chat) *chatState {
	return &chatState{chat: c, msgs: map[int]*msgState{}, topics: map[int]*topic{}}
}

// NewMessageID reserves the next message id of a chat, for a test or the
// playground to build a user's message that fits between the bot's.
func (s *Server) NewMessageID(chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.chatLocked(chatID)
	id := cs.nextID()
	cs.remember(id, &msgState{kind: "text"})
	return id
}

// Messages returns the messages of a chat the fake remembers (the latest
// 64) that were not deleted, in id order.
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.state.chats[chatID]
	if cs == nil {
		return nil
	}
	var out []Message
	for id, m := range cs.msgs {
		if !m.deleted {
			out = append(out, Message{ID: id, Thread: m.thread, Kind: m.kind, FromBot: m.fromBot, CopyOf: m.copyOf})
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return a.ID - b.ID })
	return out
}

// Topics returns the forum topics of a chat that exist, closed ones
// included, by thread id, with their names.
func (s *Server) Topics(chatID int64) map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]string{}
	if cs := s.state.chats[chatID]; cs != nil {
		for id, t := range cs.topics {
			out[id] = t.name
		}
	}
	return out
}

// DeleteTopic deletes a forum topic with its messages, as a member of staff
// would in the app: sending into it then fails with "message thread not
// found", and its messages can no longer be copied. Deleting a topic that
// does not exist does nothing.
func (s *Server) DeleteTopic(chatID int64, thread int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.state.chats[chatID]; cs != nil {
		cs.deleteTopic(thread)
	}
}

// deleteTopic removes a topic and marks the messages remembered in it
// deleted.
func (cs *chatState) deleteTopic(thread int) {
	if _, ok := cs.topics[thread]; !ok {
		return
	}
	delete(cs.topics, thread)
	for _, m := range cs.msgs {
		if m.thread == thread {
			m.deleted = true
		}
	}
}

// chatLocked returns a chat, creating it as private or supergroup by sign.
func (s *Server) chatLocked(id int64) *chatState {
	cs := s.state.chats[id]
	if cs == nil {
		c := Chat{ID: id}
		c.normalize()
		cs = newChatState(c)
		s.state.chats[id] = cs
	}
	return cs
}

// resolveChat finds the chat a chat_id names; unknown groups and channels
// are "chat not found", as for a chat the bot is not a member of.
func (s *Server) resolveChat(raw string) (*chatState, *apiError) {
	if name, ok := strings.CutPrefix(raw, "@"); ok {
		for _, cs := range s.state.chats {
			if strings.EqualFold(cs.chat.Username, name) {
				return cs, nil
			}
		}
		return nil, stateError("chat not found")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id == 0 {
		return nil, stateError("chat not found")
	}
	if cs := s.state.chats[id]; cs != nil {
		return cs, nil
	}
	if id < 0 {
		return nil, stateError("chat not found")
	}
	return s.chatLocked(id), nil
}

func (cs *chatState) nextID() int {
	cs.lastID++
	return cs.lastID
}

func (cs *chatState) remember(id int, m *msgState) {
	if id > cs.lastID {
		cs.lastID = id
	}
	if _, ok := cs.msgs[id]; !ok {
		cs.order = append(cs.order, id)
	}
	cs.msgs[id] = m
	if len(cs.order) > keptMessages {
		delete(cs.msgs, cs.order[0])
		cs.order = slices.Delete(cs.order, 0, 1)
	}
}

// message finds a message by id. exists is false for ids never used and for
// deleted messages; m is nil for messages too old to be remembered.
func (cs *chatState) message(id int) (m *msgState, exists bool) {
	if id <= 0 || id > cs.lastID {
		return nil, false
	}
	m = cs.msgs[id]
	return m, m == nil || !m.deleted
}

func hash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// PushUpdate queues an update for getUpdates. An update_id of 0 or none is
// replaced by the next one; the id used is returned. Chats and message ids
// in the update become known, so the bot's replies get the next ids.
func (s *Server) PushUpdate(raw []byte) (int64, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return 0, fmt.Errorf("decode update: %w", err)
	}
	var id int64
	if v, ok := fields["update_id"]; ok {
		if err := json.Unmarshal(v, &id); err != nil {
			return 0, fmt.Errorf("decode update_id: %w", err)
		}
	}
	var kind string
	for k := range fields {
		if k != "update_id" {
			kind = k
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		id = s.state.nextUpdateID
		fields["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
		var err error
		if raw, err = json.Marshal(fields); err != nil {
			return 0, fmt.Errorf("encode update: %w", err)
		}
	}
	s.state.nextUpdateID = max(s.state.nextUpdateID, id+1)
	s.observe(kind, fields[kind])
	s.state.updates = append(s.state.updates, queuedUpdate{id: id, kind: kind, raw: slices.Clone(raw)})
	close(s.state.pushed)
	s.state.pushed = make(chan struct{})
	return id, nil
}

// observe learns chats and message ids from a pushed message.
func (s *Server) observe(kind string, raw json.RawMessage) {
	switch kind {
	case "message", "edited_message", "channel_post", "edited_channel_post", "business_message":
	default:
		return
	}
	var m struct {
		MessageID int `json:"message_id"`
		Thread    int `json:"message_thread_id"`
		Chat      struct {
			ID        int64  `json:"id"`
			Type      string `json:"type"`
			Title     string `json:"title"`
			Username  string `json:"username"`
			FirstName string `json:"first_name"`
			IsForum   bool   `json:"is_forum"`
		} `json:"chat"`
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || json.Unmarshal(raw, &fields) != nil || m.Chat.ID == 0 {
		return
	}
	cs := s.state.chats[m.Chat.ID]
	if cs == nil {
		c := Chat{ID: m.Chat.ID, Type: m.Chat.Type, Title: m.Chat.Title, Username: m.Chat.Username, FirstName: m.Chat.FirstName, IsForum: m.Chat.IsForum}
		c.normalize()
		cs = newChatState(c)
		s.state.chats[c.ID] = cs
	}
	// A user's message replaces what the fake knew of its id (an id a test
	// reserved, an earlier version of an edited message); the bot's own
	// messages are known better from the calls that sent them.
	if old := cs.msgs[m.MessageID]; m.MessageID > 0 && (old == nil || !old.fromBot) {
		cs.remember(m.MessageID, &msgState{kind: contentKind(fields), thread: m.Thread})
	}
}

// contentKinds are the fields of a message that say what it holds, most
// specific first: an animation also has a document, a venue a location.
var contentKinds = []string{
	"text", "animation", "photo", "document", "voice", "video_note", "video", "audio", "sticker",
	"venue", "location", "contact", "poll", "dice",
}

// contentKind names what a message holds; empty for a service message or
// one of a kind not listed.
func contentKind(fields map[string]json.RawMessage) string {
	for _, k := range contentKinds {
		if _, ok := fields[k]; ok {
			return k
		}
	}
	return ""
}

// PendingUpdates returns how many pushed updates getUpdates has not confirmed.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.state.updates)
}

// Webhook returns the webhook state.
func (s *Server) Webhook() Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.state.webhook
	w.AllowedUpdates = slices.Clone(w.AllowedUpdates)
	return w
}

// SetWebhookError sets the last delivery error getWebhookInfo reports.
func (s *Server) SetWebhookError(at time.Time, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.webhook.LastErrorDate, s.state.webhook.LastErrorMessage = at, message
}

// Commands returns the commands set for a scope (its JSON, e.g.
// {"type":"default"}; empty means default) and language code, as JSON.
func (s *Server) Commands(scope, languageCode string) json.RawMessage {
	key, _ := commandsKey(scope, languageCode)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.commands[key]
}

func commandsKey(scope, lang string) (string, error) {
	if scope == "" {
		return "default|" + lang, nil
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
		UserID json.RawMessage `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(scope), &sc); err != nil {
		return "", fmt.Errorf("decode scope: %w", err)
	}
	return fmt.Sprintf("%s:%s:%s|%s", sc.Type, sc.ChatID, sc.UserID, lang), nil
}
