package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// step is one update of a chat's scenario and the number of the Bot API call for the chat
// that is the first reply to it. A new user's /start gets two messages (welcome and
// privacy notice), /lang one (the picker), the tap an answerCallbackQuery and an edit,
// /help one: six calls, one at a time per chat and in order, so the first reply to each
// step is the 1st, 3rd, 4th and 6th call.
type step struct {
	text string // the command; "" is the tap on the picker's English button
	want int
}

var scenario = [...]step{{"/start", 1}, {"/lang", 3}, {"", 4}, {"/help", 6}}

// callsPerChat is how many Bot API calls the scenario makes for one chat.
const callsPerChat = 6

// stageStats collects one stage's results.
type stageStats struct {
	mu       sync.Mutex
	lats     []time.Duration // POST start to the step's first reply
	posted   int             // updates answered 200
	postErrs int             // transport errors and non-200 answers
	noReply  int             // steps whose reply did not come within the timeout
	noButton int             // picker without the English button
	firstErr string
}

func (s *stageStats) fail(kind *int, err error) {
	s.mu.Lock()
	*kind++
	if s.firstErr == "" {
		s.firstErr = err.Error()
	}
	s.mu.Unlock()
}

func (s *stageStats) errors() int { return s.postErrs + s.noReply + s.noButton }

// gen posts the scenario's updates to the bot's webhook.
type gen struct {
	f       *fakeAPI
	client  *http.Client
	url     string
	secret  []string
	pace    time.Duration
	timeout time.Duration
	updID   atomic.Int64
	msgID   atomic.Int64
	chats   atomic.Int64 // chats started
}

var errNoChats = errors.New("out of preallocated chats")

// start runs one new chat's scenario in its own goroutine.
func (g *gen) start(st *stageStats, wg *sync.WaitGroup) error {
	i := g.chats.Add(1) - 1
	if i >= int64(len(g.f.chats)) {
		return errNoChats
	}
	wg.Go(func() { g.flow(g.f.base+i, &g.f.chats[i], st) })
	return nil
}

// flow sends /start, /lang, the tap and /help, each pace after the previous one's first
// reply, as a person reads and then acts.
func (g *gen) flow(chat int64, cs *chatState, st *stageStats) {
	body := make([]byte, 0, 512)
	for k, s := range scenario {
		if k > 0 {
			time.Sleep(g.pace)
		}
		now := time.Now()
		if s.text != "" {
			body = command(body[:0], g.updID.Add(1), g.msgID.Add(1), chat, s.text, now.Unix())
		} else {
			msg, ok, _ := cs.last()
			if !ok {
				st.fail(&st.noButton, fmt.Errorf("chat %d: the last message has no lang:en button", chat))
				return
			}
			body = tap(body[:0], g.updID.Add(1), chat, msg, k, now.Unix())
		}
		cs.expect(s.want)
		t0 := time.Now()
		if err := g.post(body); err != nil {
			st.fail(&st.postErrs, err)
			return
		}
		at, ok := cs.wait(s.want, g.timeout)
		if !ok {
			_, _, n := cs.last()
			st.fail(&st.noReply, fmt.Errorf("chat %d: no reply %d to %q within %s (%d calls)", chat, s.want, s.text, g.timeout, n))
			return
		}
		st.mu.Lock()
		st.posted++
		st.lats = append(st.lats, at.Sub(t0))
		st.mu.Unlock()
	}
}

func (g *gen) post(body []byte) error {
	req, err := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header["Content-Type"] = ctJSON
	if g.secret != nil {
		req.Header["X-Telegram-Bot-Api-Secret-Token"] = g.secret
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// user appends the private chat's user, who writes in Chinese (so /start greets in
// Chinese and the tap on English changes the language).
func user(b []byte, chat int64) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, chat, 10)
	return append(b, `,"is_bot":false,"first_name":"User","language_code":"zh-hans"}`...)
}

func privateChat(b []byte, chat int64) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, chat, 10)
	return append(b, `,"type":"private","first_name":"User"}`...)
}

// command appends a message update carrying a command (ASCII text without escapes).
func command(b []byte, upd, msg, chat int64, text string, date int64) []byte {
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, upd, 10)
	b = append(b, `,"message":{"message_id":`...)
	b = strconv.AppendInt(b, msg, 10)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, date, 10)
	b = append(b, `,"text":"`...)
	b = append(b, text...)
	b = append(b, `","from":`...)
	b = user(b, chat)
	b = append(b, `,"chat":`...)
	b = privateChat(b, chat)
	b = append(b, `,"entities":[{"type":"bot_command","offset":0,"length":`...)
	b = strconv.AppendInt(b, int64(len(text)), 10)
	return append(b, `}]}}`...)
}

// tap appends a callback query update: the user taps English on the bot's message msg.
// Its id is "<chat>-<step>", which is how the fake API tells whose answerCallbackQuery it is.
func tap(b []byte, upd, chat, msg int64, step int, date int64) []byte {
	b = append(b, `{"update_id":`...)
	b = strconv.AppendInt(b, upd, 10)
	b = append(b, `,"callback_query":{"id":"`...)
	b = strconv.AppendInt(b, chat, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(step), 10)
	b = append(b, `","from":`...)
	b = user(b, chat)
	b = append(b, `,"chat_instance":"`...)
	b = strconv.AppendInt(b, chat, 10)
	b = append(b, `","data":"lang:en","message":{"message_id":`...)
	b = strconv.AppendInt(b, msg, 10)
	b = append(b, `,"date":`...)
	b = strconv.AppendInt(b, date, 10)
	b = append(b, `,"chat":`...)
	b = privateChat(b, chat)
	b = append(b, `,"from":{"id":`...)
	b = strconv.AppendInt(b, botID, 10)
	return append(b, `,"is_bot":true,"first_name":"Bench"},"text":"…"}}}`...)
}
