package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/queue"
	"github.com/nanta-district/bangban/webhook"
)

type nopIntake struct{}

func (nopIntake) Append(context.Context, queue.Update) (bool, error) { return false, nil }

// BenchmarkIntake and BenchmarkBareGin run the same request through the intake route
// and through a gin handler that does nothing, so that intake's own cost (secret check,
// body read, decode, metrics) shows as the difference between them.
func BenchmarkIntake(b *testing.B) {
	benchEngine(b, webhook.New(webhook.Options{Intake: nopIntake{}, Secrets: []string{secret}}))
}

func BenchmarkBareGin(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.POST(webhook.WebhookPath, func(c *gin.Context) { c.Status(http.StatusOK) })
	benchEngine(b, e)
}

func benchEngine(b *testing.B, h http.Handler) {
	body, err := os.ReadFile("testdata/updates/forum_topic.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, webhook.WebhookPath, bytes.NewReader(body))
		r.Header.Set(webhook.SecretHeader, secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkParseUpdate is the decoder alone, on the largest testdata update.
func BenchmarkParseUpdate(b *testing.B) {
	body, err := os.ReadFile("testdata/updates/forum_topic.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := webhook.ParseUpdate(body); err != nil {
			b.Fatal(err)
		}
	}
}
