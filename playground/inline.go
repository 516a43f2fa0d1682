package playground

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/queue"
)

// Inline mode: in Telegram a user types "@bot words" in any chat and picks one of the
// bot's answers to send there. The playground issues the inline query for a simulated
// user (POST /playground/inline) and shows the bot's answer (GET /playground/inline?id=).

// InlineResult is one article of an inline answer, as the page shows it.
type InlineResult struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Text is what choosing it sends (HTML); URL is where its button, or its link into the
	// bot, leads, if it has one.
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// deepLinkRE finds a link into the bot (t.me/<bot>?start=…) in an answer's HTML text.
var deepLinkRE = regexp.MustCompile(`href="(https://t\.me/[^"]*\?start=[^"]*)"`)

// maxInlineKept bounds the inline answers kept for the page to fetch.
const maxInlineKept = 100

// inlineQuery issues an inline query of a simulated user.
func (p *Playground) inlineQuery(c *gin.Context) {
	var req struct {
		userFields
		Query string `json:"query"`
	}
	if err := c.ShouldBindJSON(&req); err != nil || req.User <= 0 || strings.TrimSpace(req.Query) == "" || len(req.Query) > 256 {
		c.JSON(http.StatusBadRequest, gin.H{"error": `want {"user": <positive id>, "query": "<1 to 256 bytes>"}`})
		return
	}
	p.remember(&req.userFields)
	id, raw := p.api.InlineQuery(req.User, req.Query, time.Time{})
	var upd map[string]any
	if json.Unmarshal(raw, &upd) != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": "inline query update"})
		return
	}
	q, _ := upd["inline_query"].(map[string]any)
	q["from"] = req.from()
	p.mu.Lock()
	p.inline[id] = nil
	p.inlineOrder = append(p.inlineOrder, id)
	if len(p.inlineOrder) > maxInlineKept {
		delete(p.inline, p.inlineOrder[0])
		p.inlineOrder = p.inlineOrder[1:]
	}
	p.mu.Unlock()
	updateID := p.nextID.Add(1)
	upd["update_id"] = updateID
	b, _ := json.Marshal(upd)
	if _, err := p.intake.Append(c.Request.Context(), queue.Update{UpdateID: updateID, ChatID: req.User, Kind: queue.KindTelegram, Raw: b}); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "could not queue the update: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id})
}

// inlineAnswer returns the bot's answer to an inline query: 202 until it came.
func (p *Playground) inlineAnswer(c *gin.Context) {
	p.mu.Lock()
	res, known := p.inline[c.Query("id")]
	p.mu.Unlock()
	switch {
	case !known:
		c.JSON(http.StatusNotFound, gin.H{"error": "no such inline query"})
	case res == nil:
		c.JSON(http.StatusAccepted, gin.H{"pending": true})
	default:
		c.JSON(http.StatusOK, gin.H{"results": res})
	}
}

// recordInline keeps the answer of an inline query the playground issued. p.mu is held.
func (p *Playground) recordInline(params map[string]string) {
	id := params["inline_query_id"]
	if _, ok := p.inline[id]; !ok {
		return
	}
	var results []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Content     struct {
			Text string `json:"message_text"`
		} `json:"input_message_content"`
		Markup struct {
			Rows [][]struct {
				URL string `json:"url"`
			} `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	_ = json.Unmarshal([]byte(params["results"]), &results)
	out := make([]InlineResult, 0, len(results))
	for _, r := range results {
		ir := InlineResult{Title: r.Title, Description: r.Description, Text: r.Content.Text}
		switch m := deepLinkRE.FindStringSubmatch(r.Content.Text); {
		case len(r.Markup.Rows) > 0 && len(r.Markup.Rows[0]) > 0:
			ir.URL = r.Markup.Rows[0][0].URL
		case m != nil:
			ir.URL = html.UnescapeString(m[1])
		}
		out = append(out, ir)
	}
	p.inline[id] = out
}
