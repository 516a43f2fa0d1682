package poster_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/nanta-district/bangban/poster"
)

const link = "https://t.me/bangban_bot?start=cp_nanta_01"

func render(t *testing.T, s poster.Spec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := poster.Render(&buf, s); err != nil {
		t.Fatalf("Render(%q, %q, %q): %v", s.Link, s.NameZH, s.NameEN, err)
	}
	return buf.Bytes()
}

// decode checks that b is a PNG of the poster's size and returns it.
func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("poster is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(poster.Width, poster.Height) {
		t.Fatalf("poster is %v pixels, want %dx%d", got, poster.Width, poster.Height)
	}
	return img
}

// readQR decodes the QR code a phone camera would find in img.
func readQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binarize poster: %v", err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no readable QR code on the poster: %v", err)
	}
	return res.GetText()
}

func dark(img image.Image, x, y int) bool {
	r, _, _, _ := img.At(x, y).RGBA()
	return r < 0x8000
}

// inkRows counts the pixel rows with anything drawn on them.
func inkRows(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img, x, y) {
				n++
				break
			}
		}
	}
	return n
}

func TestRenderWithoutCJKFont(t *testing.T) {
	got := render(t, poster.Spec{Link: link, NameZH: "南塔一号驿站", NameEN: "Nanta Station 1"})
	if text := readQR(t, decode(t, got)); text != link {
		t.Errorf("QR code reads %q, want %q", text, link)
	}
	// Chinese without a font is left out, not drawn as boxes: the poster is the one
	// without a Chinese name.
	want := render(t, poster.Spec{Link: link, NameEN: "Nanta Station 1"})
	if !bytes.Equal(got, want) {
		t.Errorf("without a CJK font, a Chinese name changed the poster: it was drawn somehow")
	}
}

func TestRenderWithCJKFont(t *testing.T) {
	f, path, err := poster.FindCJKFont("")
	if err != nil {
		t.Skipf("no CJK font installed, Chinese lines cannot be tested (apt-get install fonts-wqy-microhei): %v", err)
	}
	t.Logf("CJK font: %s", path)
	spec := poster.Spec{Link: link, NameZH: "南塔一号驿站", NameEN: "Nanta Station 1", Font: f}
	img := decode(t, render(t, spec))
	if text := readQR(t, img); text != link {
		t.Errorf("QR code reads %q, want %q", text, link)
	}
	spec.Font = nil
	without := decode(t, render(t, spec))
	// The Chinese name and instruction add lines of text.
	if got, base := inkRows(img), inkRows(without); got <= base {
		t.Errorf("with CJK font %s the poster has %d rows of ink, without it %d: Chinese was not drawn", path, got, base)
	}
}

func TestRenderShrinksWideText(t *testing.T) {
	// The longest deep link: a 32-character username and a 64-character start parameter.
	long := "https://t.me/" + strings.Repeat("b", 32) + "?start=" + strings.Repeat("p", 64)
	img := decode(t, render(t, poster.Spec{
		Link:   long,
		NameEN: "Nanta Sub-district Party-Masses Service Centre, New Employment Workers' Station No. 15",
	}))
	if text := readQR(t, img); text != long {
		t.Errorf("QR code reads %q, want %q", text, long)
	}
	const margin = 60
	for y := range poster.Height {
		for _, x := range []int{margin - 1, poster.Width - margin} {
			if dark(img, x, y) {
				t.Fatalf("ink at (%d, %d), inside the %d-pixel margin: a line was not shrunk to fit", x, y, margin)
			}
		}
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		spec poster.Spec
		want string
	}{
		{"no link", poster.Spec{NameEN: "Station"}, "no link"},
		{"link too long", poster.Spec{Link: strings.Repeat("x", 3000)}, "QR code"},
		{"name too long", poster.Spec{Link: link, NameEN: strings.Repeat("Station ", 300)}, "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := poster.Render(&buf, tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
