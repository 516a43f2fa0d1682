package search

import (
	"strings"

	"github.com/nanta-district/bangban/content"
)

// Docs converts the content's policies for Build, in the content's order.
func Docs(c *content.Content) []Doc {
	docs := make([]Doc, len(c.Policies))
	for i, p := range c.Policies {
		docs[i] = Doc{
			ID:        p.ID,
			TitleZH:   p.Title.ZH,
			TitleEN:   p.Title.EN,
			SummaryZH: p.Summary.ZH,
			SummaryEN: p.Summary.EN,
			BodyZH:    bodyText(p.Body.ZH),
			BodyEN:    bodyText(p.Body.EN),
			Keywords:  p.Keywords,
			Category:  p.Category,
			Audience:  p.Audience,
			Expires:   p.Expires,
		}
	}
	return docs
}

// bodyText joins the headings and texts of a body's sections.
func bodyText(sections []content.Section) string {
	var b strings.Builder
	for _, s := range sections {
		b.WriteString(s.Heading)
		b.WriteString("\n")
		b.WriteString(s.Text)
		b.WriteString("\n\n")
	}
	return b.String()
}
