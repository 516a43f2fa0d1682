package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/internal/telegramtest"
)

// runQR runs "bangban qr ..." in process, as main does.
func runQR(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"qr"}, args...), env(environ), &out, &errOut)
	return out.String(), errOut.String(), err
}

// posterLink decodes the poster PNG at path and returns what its QR code says.
func posterLink(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("poster: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("poster %s is not a PNG: %v", path, err)
	}
	if got := img.Bounds().Size(); got.X >= got.Y || got.X < 1000 {
		t.Errorf("poster %s is %v pixels, want a printable portrait page", path, got)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binarize %s: %v", path, err)
	}
	res, err := zxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no readable QR code on %s: %v", path, err)
	}
	return res.GetText()
}

// demoPoint is the embedded demo content's first point.
func demoPoint(t *testing.T) content.Point {
	t.Helper()
	c, err := content.Load("")
	if err != nil {
		t.Fatalf("load the demo content: %v", err)
	}
	return c.Points[0]
}

func TestQRPointWithUsername(t *testing.T) {
	id := demoPoint(t).ID
	file := filepath.Join(t.TempDir(), "poster.png")
	out, stderr, err := runQR(t, map[string]string{"BOT_USERNAME": "@nanta_helper_bot"}, "--point", id, "-o", file)
	if err != nil {
		t.Fatalf("qr --point %s -o FILE: %v", id, err)
	}
	want := "https://t.me/nanta_helper_bot?start=cp_" + id
	if got := posterLink(t, file); got != want {
		t.Errorf("poster QR code = %q, want %q", got, want)
	}
	if !strings.Contains(out, file) || strings.Contains(stderr, "YOUR_BOT_USERNAME") {
		t.Errorf("qr --point: stdout %q, stderr %q; want the file named and no placeholder warning", out, stderr)
	}
}

func TestQRPointUsernameFromGetMe(t *testing.T) {
	api := telegramtest.New(telegramtest.WithTB(t))
	t.Cleanup(api.Close)
	id := demoPoint(t).ID
	file := filepath.Join(t.TempDir(), "poster.png")
	environ := map[string]string{"BOT_TOKEN": testToken, "BOT_API_URL": api.URL()}
	if _, _, err := runQR(t, environ, "--point", id, "-o", file); err != nil {
		t.Fatalf("qr --point %s with BOT_TOKEN: %v", id, err)
	}
	want := "https://t.me/" + telegramtest.DefaultBot.Username + "?start=cp_" + id
	if got := posterLink(t, file); got != want {
		t.Errorf("poster QR code = %q, want %q (the username from getMe)", got, want)
	}
}

func TestQRPlaceholderWarns(t *testing.T) {
	id := demoPoint(t).ID
	dir := t.TempDir()
	t.Chdir(dir)
	_, stderr, err := runQR(t, nil, "--point", id)
	if err != nil {
		t.Fatalf("qr --point %s without username or token: %v", id, err)
	}
	if got, want := posterLink(t, filepath.Join(dir, id+".png")), "https://t.me/YOUR_BOT_USERNAME?start=cp_"+id; got != want {
		t.Errorf("poster QR code = %q, want the placeholder %q", got, want)
	}
	if !strings.Contains(stderr, "will not work") || !strings.Contains(stderr, "BOT_USERNAME") {
		t.Errorf("stderr = %q, want a warning that the posters will not work without BOT_USERNAME", stderr)
	}
}

func TestQRAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "posters")
	c, err := content.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := runQR(t, map[string]string{"BOT_USERNAME": "nanta_helper_bot"}, "--all", dir); err != nil {
		t.Fatalf("qr --all: %v", err)
	}
	var want []string
	for _, p := range c.Points {
		want = append(want, p.ID+".png")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("qr --all wrote %v, want one poster per point: %v", got, want)
	}
	last := c.Points[len(c.Points)-1].ID
	if got, want := posterLink(t, filepath.Join(dir, last+".png")), "https://t.me/nanta_helper_bot?start=cp_"+last; got != want {
		t.Errorf("poster of %s: QR code = %q, want %q", last, got, want)
	}
}

func TestQRContentDir(t *testing.T) {
	dir := t.TempDir()
	points := "points:\n  - id: test-01\n    name: {zh: 测试点, en: Test Point}\n    location: [41.77, 123.45]\n"
	if err := os.WriteFile(filepath.Join(dir, "points.yaml"), []byte(points), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "posters")
	if _, _, err := runQR(t, map[string]string{"BOT_USERNAME": "nanta_helper_bot", "CONTENT_DIR": dir}, "--all", out); err != nil {
		t.Fatalf("qr --all with CONTENT_DIR: %v", err)
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != 1 || entries[0].Name() != "test-01.png" {
		t.Errorf("qr --all with a one-point CONTENT_DIR wrote %v (%v), want test-01.png", entries, err)
	}
}

func TestQRErrors(t *testing.T) {
	id := demoPoint(t).ID
	user := map[string]string{"BOT_USERNAME": "nanta_helper_bot"}
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		want    []string
	}{
		{"nothing to do", user, nil, []string{"give --point ID or --all DIR", "usage: bangban qr"}},
		{"both", user, []string{"--point", id, "--all", "x"}, []string{"give --point or --all, not both"}},
		{"-o with --all", user, []string{"--all", "x", "-o", "a.png"}, []string{"-o is for --point"}},
		{"extra argument", user, []string{"--point", id, "extra"}, []string{`unexpected arguments ["extra"]`}},
		{"unknown point", user, []string{"--point", "nope"}, []string{`unknown point "nope" in the embedded demo content; its points are: ` + id + ", "}},
		{"bad username", map[string]string{"BOT_USERNAME": "a-b"}, []string{"--point", id}, []string{"BOT_USERNAME must be 5-32 characters"}},
		{"bad username flag", nil, []string{"--bot-username", "x", "--point", id}, []string{"BOT_USERNAME must be 5-32 characters"}},
		{"content dir", map[string]string{"CONTENT_DIR": "/nonexistent/content"}, []string{"--point", id}, []string{`CONTENT_DIR "/nonexistent/content" is not a directory`}},
		{"font", user, []string{"--point", id, "--font", "/nonexistent/font.ttc", "-o", filepath.Join(t.TempDir(), "p.png")}, []string{"--font: read font: open /nonexistent/font.ttc"}},
		{"getMe fails", map[string]string{"BOT_TOKEN": testToken, "BOT_API_URL": "http://127.0.0.1:1"}, []string{"--point", id, "-o", filepath.Join(t.TempDir(), "p.png")}, []string{"ask Telegram for the bot's username (or set BOT_USERNAME): get me: getMe:"}},
		{"unknown flag", user, []string{"--points", id}, []string{"flag provided but not defined: -points", "usage: bangban qr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runQR(t, tt.environ, tt.args...)
			if err == nil {
				t.Fatalf("qr %v succeeded, want an error", tt.args)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("qr %v error shows the bot token: %v", tt.args, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("qr %v error:\n%v\nwant it to contain %q", tt.args, err, w)
				}
			}
		})
	}
}

func TestQRHelp(t *testing.T) {
	_, _, err := runQR(t, nil, "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(err.Error(), "-font") || !strings.Contains(err.Error(), "$BOT_USERNAME") {
		t.Errorf("qr -h = %v, want flag.ErrHelp with the usage and every flag", err)
	}
}
