package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nanta-district/bangban/bot"
	"github.com/nanta-district/bangban/content"
	"github.com/nanta-district/bangban/poster"
	"github.com/nanta-district/bangban/tgapi"
)

const qrUsage = `usage: bangban qr --point ID [-o FILE] [--font PATH]
       bangban qr --all DIR [--font PATH]

Writes printable check-in posters (PNG, A4 at 150 dpi): the point's name and a QR code
that opens the bot at it, https://t.me/BOT_USERNAME?start=cp_ID. The bot's username is
BOT_USERNAME, else getMe's answer when BOT_TOKEN is set. The points are CONTENT_DIR's,
else the embedded demo content's.`

// placeholderUsername stands in for the bot's username when nothing tells it: the
// posters print, but their QR codes lead nowhere.
const placeholderUsername = "YOUR_BOT_USERNAME"

// qrSettings are the settings "bangban qr" reads, with what they mean to it. It needs
// no Redis or staff chat, so it parses these alone instead of the whole configuration.
var qrSettings = map[string]string{
	"BOT_TOKEN":    "the bot `TOKEN`, to ask getMe for the username when BOT_USERNAME is unset",
	"BOT_API_URL":  "Bot API server base `URL`, for getMe",
	"BOT_USERNAME": "`NAME` of the bot in the QR codes' links (default: from getMe)",
	"CONTENT_DIR":  "content `DIR` with the points (default: embedded demo content)",
}

// qrOptions are "bangban qr"'s flags and settings, checked.
type qrOptions struct {
	point, output, all, font string

	botToken, botAPIURL, botUsername, contentDir string
}

// qrCommand is "bangban qr": it writes the poster of one point (--point) or of every
// point (--all). Usage mistakes, an unknown point, content that does not load, a
// failed getMe, a --font that is not a usable Chinese font and write errors are
// errors; a missing Chinese font or bot username only warns, on stderr.
func qrCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseQRArgs(args, getenv)
	if err != nil {
		return err
	}
	c, err := content.Load(o.contentDir)
	if err != nil {
		return fmt.Errorf("content from %s:\n%w", contentSource(o.contentDir), err)
	}
	points := c.Points
	if o.point != "" {
		p, ok := c.Point(o.point)
		if !ok {
			ids := make([]string, len(c.Points))
			for i, p := range c.Points {
				ids[i] = p.ID
			}
			return fmt.Errorf("unknown point %q in %s; its points are: %s", o.point, contentSource(o.contentDir), strings.Join(ids, ", "))
		}
		points = []content.Point{p}
	}

	font, fontPath, err := poster.FindCJKFont(o.font)
	switch {
	case err != nil && o.font != "":
		return fmt.Errorf("--font: %w", err)
	case err != nil:
		fmt.Fprintf(stderr, "warning: no Chinese font, so the posters show English only. Install one "+
			"(Debian, Ubuntu: apt-get install fonts-wqy-microhei) or pass --font PATH.\n(%v)\n", err)
	default:
		fmt.Fprintf(stdout, "Chinese font: %s\n", fontPath)
	}

	username, err := qrBotUsername(ctx, o)
	if err != nil {
		return err
	}
	if username == placeholderUsername {
		fmt.Fprintf(stderr, "warning: neither BOT_USERNAME nor BOT_TOKEN is set, so the QR codes link to "+
			"https://t.me/%s, which does not exist. These posters will not work: generate them again "+
			"with BOT_USERNAME set.\n", placeholderUsername)
	}

	if o.all != "" {
		if err := os.MkdirAll(o.all, 0o755); err != nil {
			return err
		}
	}
	for _, p := range points {
		path := o.output
		if o.all != "" {
			path = filepath.Join(o.all, p.ID+".png")
		}
		if font == nil && p.Name.EN == "" {
			fmt.Fprintf(stderr, "warning: the poster of %s shows no name: the point has only a Chinese one\n", p.ID)
		}
		spec := poster.Spec{Link: checkInLink(username, p.ID), NameZH: p.Name.ZH, NameEN: p.Name.EN, Font: font}
		if err := writePoster(path, spec); err != nil {
			return fmt.Errorf("poster of point %s: %w", p.ID, err)
		}
		fmt.Fprintf(stdout, "%s\t%s\n", path, spec.Link)
	}
	return nil
}

// parseQRArgs reads the flags of "bangban qr" and the settings it uses, a flag winning
// over its environment variable, and checks them.
func parseQRArgs(args []string, getenv func(string) string) (qrOptions, error) {
	fs := flag.NewFlagSet("bangban qr", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o qrOptions
	fs.StringVar(&o.point, "point", "", "write the poster of the point with this `ID`")
	fs.StringVar(&o.output, "o", "", "with --point: the PNG `FILE` to write (default ID.png)")
	fs.StringVar(&o.all, "all", "", "write the poster of every point to `DIR`/ID.png")
	fs.StringVar(&o.font, "font", "", "`PATH` of a font with Chinese glyphs (.ttf, .otf, .ttc; default: a system one)")
	vals := make(map[string]string, len(qrSettings))
	for i := range settings {
		s := &settings[i]
		usage, ok := qrSettings[s.env]
		if !ok {
			continue
		}
		vals[s.env] = s.def
		if v := getenv(s.env); v != "" {
			vals[s.env] = v
		}
		fs.Var(settingFlag{s: s, vals: vals}, flagName(s.env), usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		var flags strings.Builder
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		return qrOptions{}, fmt.Errorf("%w\n%s\n\nflags:\n%s", err, qrUsage, flags.String())
	}

	var problems []error
	bad := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	switch {
	case fs.NArg() > 0:
		bad("unexpected arguments %q", fs.Args())
	case o.point == "" && o.all == "":
		bad("give --point ID or --all DIR")
	case o.point != "" && o.all != "":
		bad("give --point or --all, not both")
	case o.all != "" && o.output != "":
		bad("-o is for --point; --all names each file DIR/ID.png")
	case o.point != "" && o.output == "":
		o.output = o.point + ".png"
	}
	o.botToken, o.botAPIURL, o.botUsername = checkBot(vals, bad)
	o.contentDir = checkContentDir(vals, bad)
	if len(problems) > 0 {
		return qrOptions{}, fmt.Errorf("%w\n\n%s", errors.Join(problems...), qrUsage)
	}
	return o, nil
}

// qrBotUsername is BOT_USERNAME, else the username getMe answers when a token is set,
// else placeholderUsername.
func qrBotUsername(ctx context.Context, o qrOptions) (string, error) {
	if o.botUsername != "" {
		return o.botUsername, nil
	}
	if o.botToken == "" {
		return placeholderUsername, nil
	}
	api, err := tgapi.New(o.botToken, o.botAPIURL)
	if err != nil {
		return "", err
	}
	me, err := api.GetMe(ctx)
	if err != nil {
		return "", fmt.Errorf("ask Telegram for the bot's username (or set BOT_USERNAME): %w", err)
	}
	return me.Username, nil
}

// checkInLink is the deep link that opens the bot with a check-in at the point.
func checkInLink(username, pointID string) string {
	return "https://t.me/" + username + "?start=" + bot.CheckInPayload + pointID
}

// contentSource names where the content comes from, for messages.
func contentSource(dir string) string {
	if dir == "" {
		return "the embedded demo content"
	}
	return "CONTENT_DIR " + dir
}

// writePoster renders spec to the file at path, leaving no partial file behind.
func writePoster(path string, spec poster.Spec) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".poster-*.png")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	// CreateTemp makes the file private; a poster is for everyone to print.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := poster.Render(f, spec); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
