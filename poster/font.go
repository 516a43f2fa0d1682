package poster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// cjkFontPaths are where common systems keep a font with Chinese glyphs, best first:
// Debian and Ubuntu (fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk,
// fonts-droid-fallback), then Fedora, Arch, macOS and Windows.
var cjkFontPaths = []string{
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
	"/System/Library/Fonts/Hiragino Sans GB.ttc",
	"/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
	`C:\Windows\Fonts\msyh.ttc`,
	`C:\Windows\Fonts\simhei.ttf`,
}

// cjkProbe are characters a font must have to count as able to draw Chinese.
const cjkProbe = "签到扫码开始"

// FindCJKFont loads a font that can draw Chinese: the file at path when path is not
// empty, else the first usable font in the well-known system locations. It returns the
// font and the file it came from. From a collection (.ttc) it takes the Simplified
// Chinese member if it has one, else the first. The error names the file that could
// not be read or parsed or has no Chinese glyphs, or, when searching, every location
// tried.
func FindCJKFont(path string) (*opentype.Font, string, error) {
	if path != "" {
		f, err := loadCJKFont(path)
		if err != nil {
			return nil, "", err
		}
		return f, path, nil
	}
	var unusable []string
	for _, p := range cjkFontPaths {
		f, err := loadCJKFont(p)
		if err == nil {
			return f, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			unusable = append(unusable, err.Error())
		}
	}
	msg := "no font with Chinese glyphs found; looked for " + strings.Join(cjkFontPaths, ", ")
	if len(unusable) > 0 {
		msg += "; unusable: " + strings.Join(unusable, "; ")
	}
	return nil, "", errors.New(msg)
}

// loadCJKFont parses the font file at path and checks that it has Chinese glyphs.
func loadCJKFont(path string) (*opentype.Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read font: %w", err)
	}
	f, err := parseFont(data)
	if err != nil {
		// x/image's parser wants every table on a 4-byte boundary, which WenQuanYi's
		// fonts, the usual Chinese fonts of Linux, do not keep (golang/go#46384).
		if aligned, aerr := alignTables(data); aerr == nil {
			f, err = parseFont(aligned)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parse font %s: %w", path, err)
	}
	if !covers(f, cjkProbe) {
		return nil, fmt.Errorf("font %s has no Chinese glyphs", path)
	}
	return f, nil
}

// parseFont parses a single font or picks one from a collection.
func parseFont(data []byte) (*opentype.Font, error) {
	if bytes.HasPrefix(data, ttcTag) {
		return collectionFont(data)
	}
	return opentype.Parse(data)
}

var ttcTag = []byte("ttcf")

// collectionFont picks from a font collection the member whose family name ends in
// " SC" (Noto Sans CJK's Simplified Chinese), else the first: a collection's first
// member may draw shared Han characters in Japanese forms.
func collectionFont(data []byte) (*opentype.Font, error) {
	c, err := opentype.ParseCollection(data)
	if err != nil {
		return nil, err
	}
	if c.NumFonts() == 0 {
		return nil, errors.New("empty font collection")
	}
	var buf sfnt.Buffer
	for i := range c.NumFonts() {
		f, err := c.Font(i)
		if err != nil {
			return nil, err
		}
		if name, err := f.Name(&buf, sfnt.NameIDFamily); err == nil && strings.HasSuffix(name, " SC") {
			return f, nil
		}
	}
	return c.Font(0)
}

// alignTables copies a font file, a single font or a collection, moving every table to
// a 4-byte boundary. Tables that the members of a collection share are copied for each.
// No table refers to another by its position in the file, so only the table
// directories change; checksums are kept, as the parser ignores them.
func alignTables(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, ttcTag) {
		return appendAligned(nil, data, 0)
	}
	if len(data) < 12 {
		return nil, errors.New("truncated collection header")
	}
	n := binary.BigEndian.Uint32(data[8:])
	if n == 0 || uint64(len(data)) < 12+4*uint64(n) {
		return nil, errors.New("bad collection header")
	}
	// A version 1 header: a version 2 one adds a signature this copy would invalidate.
	out := binary.BigEndian.AppendUint32(append([]byte(nil), ttcTag...), 0x00010000)
	out = binary.BigEndian.AppendUint32(out, n)
	out = append(out, make([]byte, 4*n)...)
	for i := range n {
		out = pad4(out)
		binary.BigEndian.PutUint32(out[12+4*i:], uint32(len(out)))
		var err error
		if out, err = appendAligned(out, data, binary.BigEndian.Uint32(data[12+4*i:])); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendAligned appends to out the font whose table directory starts at offset dir in
// data, with every table on a 4-byte boundary and offsets counted from the start of out.
func appendAligned(out, data []byte, dir uint32) ([]byte, error) {
	if uint64(len(data)) < uint64(dir)+12 {
		return nil, errors.New("truncated font header")
	}
	numTables := int(binary.BigEndian.Uint16(data[dir+4:]))
	end := uint64(dir) + 12 + 16*uint64(numTables)
	if uint64(len(data)) < end {
		return nil, errors.New("truncated table directory")
	}
	out = pad4(out)
	start := len(out)
	out = append(out, data[dir:end]...)
	for i := range numTables {
		rec := start + 12 + 16*i
		off := binary.BigEndian.Uint32(out[rec+8:])
		n := binary.BigEndian.Uint32(out[rec+12:])
		if uint64(off)+uint64(n) > uint64(len(data)) {
			return nil, errors.New("table out of bounds")
		}
		out = pad4(out)
		if len(out) > math.MaxUint32-int(n) {
			return nil, errors.New("font too large")
		}
		binary.BigEndian.PutUint32(out[rec+8:], uint32(len(out)))
		out = append(out, data[off:off+n]...)
	}
	return out, nil
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
