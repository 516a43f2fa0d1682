package bench_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nanta-district/bangban/internal/telegramtest"
	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/tgapi"
)

// BenchmarkFakeAPI sends the reply that carries the language keyboard through the real Bot
// API client to internal/telegramtest, which parses the multipart request and checks it
// against the Bot API rules, and to a lenient handler that reads the body and answers a
// fixed message, as a load test's fake API may. The client's cost is the same in both, so
// the difference is what strict validation costs per call. Calls run 16 per CPU in
// parallel, so that ns/op is CPU per call, not one round trip's latency.
func BenchmarkFakeAPI(b *testing.B) {
	b.Run("telegramtest", func(b *testing.B) {
		fake := telegramtest.New(telegramtest.WithCallLimit(100))
		defer fake.Close()
		benchSend(b, fake.URL())
	})
	b.Run("lenient", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(lenient))
		defer srv.Close()
		benchSend(b, srv.URL)
	})
}

func lenient(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true,"result":{"message_id":2,"date":1764480000,"chat":{"id":5000001,"type":"private","first_name":"User"},"text":"Choose a language"}}`)
}

func benchSend(b *testing.B, url string) {
	api, err := tgapi.New("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", url)
	if err != nil {
		b.Fatal(err)
	}
	m := queue.Message{ID: "1-0", Method: queue.MethodSendMessage, ChatID: 5000001,
		Text: "请选择语言 / Choose a language", ParseMode: "HTML",
		Inline: [][]queue.Button{{{Text: "中文", Data: "lang:zh-CN"}, {Text: "English", Data: "lang:en"}}}}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sent, err := api.Send(ctx, m)
			if sent.Outcome != tgapi.OK {
				b.Errorf("Send: outcome %v, err %v", sent.Outcome, err)
				return
			}
		}
	})
}
