// Package poster draws the printable check-in poster of a service point as a PNG: the
// point's name, a QR code of the bot's deep link, and one line on how to use it.
package poster

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"unicode"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Size of a poster in pixels, portrait: A4 at 150 dpi, or A5 at 212 dpi.
const (
	Width  = 1240
	Height = 1754
)

const (
	// margin is the white band on the left and right that no text enters.
	margin = 80
	// qrMaxSide bounds the QR code's side, quiet zone included (it is white, so it
	// may reach into the margins).
	qrMaxSide = 960
	// minTextSize is the smallest pixel size a line is shrunk to before Render gives up.
	minTextSize = 12
)

// Spec is what one poster shows.
type Spec struct {
	// Link is the deep link the QR code encodes, e.g. https://t.me/bot?start=cp_01.
	Link   string
	NameZH string
	NameEN string
	// Font draws what the embedded Go fonts cannot, Chinese above all (see FindCJKFont).
	// With a nil Font, lines the Go fonts cannot draw are left out.
	Font *opentype.Font
}

// The Go fonts set every line they have all the glyphs for.
var (
	goRegular = mustParse(goregular.TTF)
	goBold    = mustParse(gobold.TTF)
)

func mustParse(ttf []byte) *opentype.Font {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(fmt.Sprintf("parse an embedded Go font: %v", err))
	}
	return f
}

// Render writes s as a Width×Height PNG to w: the Chinese name large, the English name
// under it, the QR code of s.Link in the middle, then the link and the instruction in
// Chinese and English. A line is set in the Go font when it has every glyph, else in
// s.Font; a line neither can draw is left out rather than drawn as empty boxes, and
// without the Chinese name the English one takes its place and size. A line too wide
// for the page is shrunk to fit. Render fails on an empty link, a link too long for a
// QR code, text that does not fit even when shrunk, or a write error.
func Render(w io.Writer, s Spec) error {
	if s.Link == "" {
		return errors.New("poster: no link to encode")
	}
	qr, err := qrcode.New(s.Link, qrcode.High)
	if err != nil {
		return fmt.Errorf("poster: encode %q as a QR code: %w", s.Link, err)
	}
	tx, err := loadTexts()
	if err != nil {
		return err
	}

	var p page
	defer p.close()
	bold := []*opentype.Font{goBold, s.Font}
	regular := []*opentype.Font{goRegular, s.Font}
	title := p.line(s.NameZH, 96, black, bold)
	subtitleSize, subtitleFonts := 56.0, regular
	if title == nil {
		// Without the Chinese name, the English one is the title.
		subtitleSize, subtitleFonts = 96, bold
	}
	subtitle := p.line(s.NameEN, subtitleSize, black, subtitleFonts)
	link := p.line(s.Link, 30, grey, regular)
	instructionZH := p.line(tx.zh.Instruction, 44, black, regular)
	instructionEN := p.line(tx.en.Instruction, 36, black, regular)
	if p.err != nil {
		return p.err
	}

	// Each block with the space above it; the QR code's quiet zone adds its own. A line
	// left out hands its space on to the next one.
	type placed struct {
		gap int
		b   block
	}
	var stack []placed
	owed := 0
	push := func(gap int, l *textLine) {
		if l == nil {
			owed = max(owed, gap)
			return
		}
		stack = append(stack, placed{max(gap, owed), l})
		owed = 0
	}
	push(0, title)
	push(20, subtitle)
	stack = append(stack, placed{24, qrBlock(qr.Bitmap())})
	owed = 0
	push(4, link)
	push(56, instructionZH)
	push(16, instructionEN)
	total := 0
	for _, pl := range stack {
		total += pl.gap + pl.b.height()
	}
	img := image.NewGray(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y := (Height - total) / 2
	for _, pl := range stack {
		y += pl.gap
		pl.b.draw(img, y)
		y += pl.b.height()
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("poster: write png: %w", err)
	}
	return nil
}

var (
	black = image.NewUniform(color.Gray{})
	grey  = image.NewUniform(color.Gray{Y: 0x50})
)

// block is one horizontally centred part of the poster.
type block interface {
	height() int
	// draw draws the block with its top edge at y.
	draw(img draw.Image, y int)
}

// page holds the font faces a poster uses, to close them when it is done, and the first
// error met while setting its lines.
type page struct {
	faces []font.Face
	err   error
}

func (p *page) close() {
	for _, f := range p.faces {
		f.Close()
	}
}

// line returns text as a line set in the first of fonts that has all its glyphs, at size
// pixels or smaller so that it fits between the margins. It returns nil when text is
// empty, when no font can draw it, or after an error, which it keeps in p.err.
func (p *page) line(text string, size float64, ink image.Image, fonts []*opentype.Font) *textLine {
	if text == "" || p.err != nil {
		return nil
	}
	var f *opentype.Font
	for _, c := range fonts {
		if c != nil && covers(c, text) {
			f = c
			break
		}
	}
	if f == nil {
		return nil
	}
	const maxWidth = Width - 2*margin
	for {
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			p.err = fmt.Errorf("poster: font face of size %g: %w", size, err)
			return nil
		}
		p.faces = append(p.faces, face)
		width := font.MeasureString(face, text).Ceil()
		if width <= maxWidth {
			return &textLine{face: face, text: text, width: width, ink: ink}
		}
		if size <= minTextSize {
			p.err = fmt.Errorf("poster: %q does not fit on one line", text)
			return nil
		}
		size = max(minTextSize, min(size-1, math.Floor(size*maxWidth/float64(width))))
	}
}

// covers reports whether f has a glyph for every rune of s but spaces.
func covers(f *opentype.Font, s string) bool {
	var buf sfnt.Buffer
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			return false
		}
	}
	return true
}

// textLine is one centred line of text.
type textLine struct {
	face  font.Face
	text  string
	width int
	ink   image.Image
}

func (l *textLine) height() int {
	m := l.face.Metrics()
	return (m.Ascent + m.Descent).Ceil()
}

func (l *textLine) draw(img draw.Image, y int) {
	d := font.Drawer{
		Dst:  img,
		Src:  l.ink,
		Face: l.face,
		Dot:  fixed.Point26_6{X: fixed.I((Width - l.width) / 2), Y: fixed.I(y) + l.face.Metrics().Ascent},
	}
	d.DrawString(l.text)
}

// qrBlock is a QR code's modules, quiet zone included, drawn in whole pixels per module
// so that every module edge stays sharp.
type qrBlock [][]bool

func (q qrBlock) module() int { return qrMaxSide / len(q) }

func (q qrBlock) height() int { return q.module() * len(q) }

func (q qrBlock) draw(img draw.Image, y int) {
	m := q.module()
	x := (Width - m*len(q)) / 2
	for row, modules := range q {
		for col, dark := range modules {
			if dark {
				r := image.Rect(x+col*m, y+row*m, x+(col+1)*m, y+(row+1)*m)
				draw.Draw(img, r, black, image.Point{}, draw.Src)
			}
		}
	}
}
