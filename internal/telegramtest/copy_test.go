package telegramtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/google/go-cmp/cmp"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// pushUserMessages pushes one message of each kind from a user, in a private chat, and
// returns their ids by kind.
func pushUserMessages(t *testing.T, s *telegramtest.Server, user int64) map[string]int {
	t.Helper()
	contents := []struct{ kind, json string }{
		{"text", `"text":"my bike was stolen"`},
		{"photo", `"photo":[{"file_id":"p","file_unique_id":"pu","width":90,"height":90}],"caption":"the lock"`},
		{"document", `"document":{"file_id":"d","file_unique_id":"du","file_name":"report.pdf"}`},
		{"voice", `"voice":{"file_id":"v","file_unique_id":"vu","duration":3}`},
		{"location", `"location":{"latitude":13.75,"longitude":100.5}`},
	}
	ids := map[string]int{}
	for _, c := range contents {
		id := s.NewMessageID(user)
		raw := fmt.Sprintf(`{"message":{"message_id":%d,"date":1,"from":{"id":%d,"is_bot":false,"first_name":"U"},"chat":{"id":%d,"type":"private"},%s}}`,
			id, user, user, c.json)
		if _, err := s.PushUpdate([]byte(raw)); err != nil {
			t.Fatalf("PushUpdate(%s): %v", c.kind, err)
		}
		ids[c.kind] = id
	}
	return ids
}

func forum(t *testing.T, s *telegramtest.Server, b *tgbot.Bot, chat int64, name string) int {
	t.Helper()
	s.AddChat(telegramtest.Chat{ID: chat, Title: "Staff", IsForum: true, CanManageTopics: true})
	topic, err := b.CreateForumTopic(context.Background(), &tgbot.CreateForumTopicParams{ChatID: chat, Name: name})
	if err != nil {
		t.Fatalf("CreateForumTopic: %v", err)
	}
	return topic.MessageThreadID
}

func TestCopyMessagesKeepKindsAndOrder(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const user, staff = 42, -1001234567890
	ids := pushUserMessages(t, s, user)
	thread := forum(t, s, b, staff, "Ticket 1")

	kinds := []string{"text", "photo", "document", "voice", "location"}
	var from []int
	for _, k := range kinds {
		from = append(from, ids[k])
	}
	// A message that does not exist is skipped, as Telegram skips what it cannot copy.
	copied, err := b.CopyMessages(ctx, &tgbot.CopyMessagesParams{ChatID: staff, MessageThreadID: thread, FromChatID: user,
		MessageIDs: append(from, from[len(from)-1]+50)})
	if err != nil || len(copied) != len(kinds) {
		t.Fatalf("CopyMessages() = %+v, %v; want %d copies", copied, err, len(kinds))
	}
	var want []telegramtest.Message
	for i, k := range kinds {
		want = append(want, telegramtest.Message{ID: copied[i].ID, Thread: thread, Kind: k, FromBot: true,
			CopyOf: telegramtest.MessageRef{ChatID: user, MessageID: ids[k]}})
	}
	if diff := cmp.Diff(want, s.Messages(staff)); diff != "" {
		t.Errorf("Messages(staff) after CopyMessages (-want +got):\n%s", diff)
	}

	one, err := b.CopyMessage(ctx, &tgbot.CopyMessageParams{ChatID: staff, MessageThreadID: thread, FromChatID: user,
		MessageID: ids["photo"], Caption: "<b>Ticket 1</b>", ParseMode: models.ParseModeHTML})
	if err != nil {
		t.Fatalf("CopyMessage(photo): %v", err)
	}
	msgs := s.Messages(staff)
	if last := msgs[len(msgs)-1]; last.ID != one.ID || last.Kind != "photo" || last.Thread != thread {
		t.Errorf("copy of a photo = %+v, want message %d, a photo in thread %d", last, one.ID, thread)
	}
	if got := s.Messages(user); len(got) != len(kinds) || got[1].Kind != "photo" || got[1].FromBot {
		t.Errorf("Messages(user) = %+v, want the %d pushed messages with their kinds", got, len(kinds))
	}
}

func TestCopyMessagesRejections(t *testing.T) {
	ctx := context.Background()
	const user = 42
	tests := []struct {
		name string
		ids  []int
		want string
	}{
		{"not increasing", []int{2, 1}, "strictly increasing"},
		{"repeated", []int{1, 1}, "strictly increasing"},
		{"none", []int{}, "1-100"},
		{"over 100", make([]int, 101), "1-100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{}
			s := telegramtest.New(telegramtest.WithTB(tb))
			defer s.Close()
			pushUserMessages(t, s, user)
			_, err := newClient(t, s).CopyMessages(ctx, &tgbot.CopyMessagesParams{ChatID: 7, FromChatID: user, MessageIDs: tt.ids})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CopyMessages(%v) error = %v, want %q", tt.ids, err, tt.want)
			}
			if errs := tb.take(); len(errs) != 1 {
				t.Errorf("TB failures = %q, want exactly one", errs)
			}
		})
	}

	// Copying nothing that exists is an answer a bot must handle, not a malformed call.
	s, b := setup(t)
	if _, err := b.CopyMessages(ctx, &tgbot.CopyMessagesParams{ChatID: 7, FromChatID: user, MessageIDs: []int{5, 6}}); err == nil ||
		!strings.Contains(err.Error(), "message to copy not found") {
		t.Errorf("CopyMessages(unknown ids) error = %v, want message to copy not found", err)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("Violations() = %+v, want none", v)
	}
}

func TestDeletedTopic(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const user, staff = 42, -1001234567890
	ids := pushUserMessages(t, s, user)
	first := forum(t, s, b, staff, "Ticket 1")
	second := forum(t, s, b, staff, "Ticket 2")
	if got, want := s.Topics(staff), map[int]string{first: "Ticket 1", second: "Ticket 2"}; !cmp.Equal(got, want) {
		t.Errorf("Topics() = %v, want %v", got, want)
	}
	inTopic, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: first, Text: "ticket opened"})
	if err != nil {
		t.Fatal(err)
	}

	s.DeleteTopic(staff, first)
	if got, want := s.Topics(staff), map[int]string{second: "Ticket 2"}; !cmp.Equal(got, want) {
		t.Errorf("Topics() after DeleteTopic = %v, want %v", got, want)
	}
	sends := map[string]func() error{
		"sendMessage": func() error {
			_, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: first, Text: "reply"})
			return err
		},
		"copyMessage": func() error {
			_, err := b.CopyMessage(ctx, &tgbot.CopyMessageParams{ChatID: staff, MessageThreadID: first, FromChatID: user, MessageID: ids["text"]})
			return err
		},
		"copyMessages": func() error {
			_, err := b.CopyMessages(ctx, &tgbot.CopyMessagesParams{ChatID: staff, MessageThreadID: first, FromChatID: user, MessageIDs: []int{ids["text"]}})
			return err
		},
	}
	for name, send := range sends {
		if err := send(); !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "Bad Request: message thread not found") {
			t.Errorf("%s into a deleted topic: error = %v, want Bad Request: message thread not found", name, err)
		}
	}
	// The topic's messages went with it.
	if _, err := b.CopyMessage(ctx, &tgbot.CopyMessageParams{ChatID: user, FromChatID: staff, MessageID: inTopic.ID}); err == nil ||
		!strings.Contains(err.Error(), "message to copy not found") {
		t.Errorf("CopyMessage from a deleted topic: error = %v, want message to copy not found", err)
	}

	// deleteForumTopic does the same.
	if ok, err := b.DeleteForumTopic(ctx, &tgbot.DeleteForumTopicParams{ChatID: staff, MessageThreadID: second}); !ok || err != nil {
		t.Errorf("DeleteForumTopic() = %v, %v; want true", ok, err)
	}
	if got := s.Topics(staff); len(got) != 0 {
		t.Errorf("Topics() after deleteForumTopic = %v, want none", got)
	}
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: staff, MessageThreadID: second, Text: "x"}); err == nil {
		t.Error("SendMessage into a topic deleted by deleteForumTopic succeeded")
	}
}
