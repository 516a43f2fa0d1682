package playground

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/nanta-district/bangban/internal/telegramtest"
)

// web is the page: plain HTML, CSS and JavaScript, with its texts in locales.json.
//
//go:embed web
var web embed.FS

func mountWeb(e *gin.Engine) {
	files, _ := fs.Sub(web, "web") // web is a directory of the embedded files
	index, _ := fs.ReadFile(files, "index.html")
	e.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", index) })
	e.StaticFS("/playground/web", http.FS(files))
}

// info tells the page the bot, the staff group, the service points and the simulated
// users seen so far.
func (p *Playground) info(c *gin.Context) {
	p.mu.Lock()
	users := make([]userFields, 0, len(p.users))
	for _, u := range p.users {
		users = append(users, u)
	}
	p.mu.Unlock()
	sort.Slice(users, func(i, j int) bool { return users[i].User < users[j].User })
	bot := telegramtest.DefaultBot
	c.JSON(http.StatusOK, gin.H{
		"bot":    gin.H{"id": bot.ID, "name": bot.FirstName, "username": bot.Username},
		"staff":  gin.H{"id": p.staff},
		"points": p.points,
		"users":  users,
	})
}

// commands answers the bot's command menu for a chat (user= or chat=staff) in a
// language (lang=).
func (p *Playground) commands(c *gin.Context) {
	if chatID, ok := p.chatParam(c); ok {
		c.JSON(http.StatusOK, gin.H{"commands": p.menu(chatID, c.Query("lang"))})
	}
}

// menu returns the commands a Telegram app shows in a chat: those of the most specific
// scope set, in the user's language or else without one.
func (p *Playground) menu(chatID int64, lang string) json.RawMessage {
	scopes := []string{`{"type":"all_private_chats"}`}
	if chatID == p.staff {
		scopes = []string{fmt.Sprintf(`{"type":"chat","chat_id":%d}`, p.staff), `{"type":"all_group_chats"}`}
	}
	lang, _, _ = strings.Cut(strings.ToLower(lang), "-")
	for _, scope := range append(scopes, "") {
		for _, code := range []string{lang, ""} {
			if cmds := p.api.Commands(scope, code); cmds != nil {
				return cmds
			}
		}
	}
	return json.RawMessage("[]")
}
