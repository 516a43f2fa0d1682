package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestLoadWithBotFasterThanDeliver runs the reference phase of load against a bot that sends
// its reply before it acknowledges the update, as a fast bot under a slow test does: load
// must not count that reply as the previous one's and then wait for a reply to an update
// it has not sent.
func TestLoadWithBotFasterThanDeliver(t *testing.T) {
	w := newWorld(t)
	send := w.api.URL() + "/bot" + testToken + "/sendMessage"
	bot := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var u struct {
			Message struct {
				Text string
				Chat struct{ ID int64 }
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := http.PostForm(send, url.Values{"chat_id": {fmt.Sprint(u.Message.Chat.ID)}, "text": {"re: " + u.Message.Text}})
		if err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		resp.Body.Close()
	}))
	defer bot.Close()
	tg := &targets{}
	tg.set(strings.TrimPrefix(bot.URL, "http://"))
	if want := w.load(tg, 0, 1, func() {}); len(want) != len(script) {
		t.Errorf("load learned %d replies, want %d", len(want), len(script))
	}
}
