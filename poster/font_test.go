package poster

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// misaligned lays the given fonts out as WenQuanYi's files are: every table at an odd
// offset. One font gives a single font file, more give a collection.
func misaligned(t *testing.T, fonts ...[]byte) []byte {
	t.Helper()
	type table struct {
		rec  []byte // the 16-byte directory record
		data []byte
	}
	var out []byte
	if len(fonts) > 1 {
		out = append([]byte("ttcf\x00\x01\x00\x00"), binary.BigEndian.AppendUint32(nil, uint32(len(fonts)))...)
		out = append(out, make([]byte, 4*len(fonts))...)
	}
	for i, f := range fonts {
		if len(fonts) > 1 {
			binary.BigEndian.PutUint32(out[12+4*i:], uint32(len(out)))
		}
		n := int(binary.BigEndian.Uint16(f[4:]))
		dir := len(out)
		out = append(out, f[:12+16*n]...)
		for j := range n {
			rec := f[12+16*j:]
			off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
			out = append(out, 0) // knocks the table off its 4-byte boundary
			if len(out)%4 == 0 {
				out = append(out, 0)
			}
			binary.BigEndian.PutUint32(out[dir+12+16*j+8:], uint32(len(out)))
			out = append(out, f[off:off+size]...)
		}
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func TestAlignTables(t *testing.T) {
	var buf sfnt.Buffer
	want, err := goRegular.GlyphIndex(&buf, 'Q')
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"single font", misaligned(t, goregular.TTF)},
		{"collection", misaligned(t, goregular.TTF, goregular.TTF)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseFont(tt.data); err == nil {
				t.Fatalf("x/image parsed a font with misaligned tables: this test no longer shows the problem")
			}
			aligned, err := alignTables(tt.data)
			if err != nil {
				t.Fatalf("alignTables: %v", err)
			}
			f, err := parseFont(aligned)
			if err != nil {
				t.Fatalf("parse the aligned copy: %v", err)
			}
			if got, err := f.GlyphIndex(&buf, 'Q'); err != nil || got != want {
				t.Errorf("aligned copy: glyph of Q = %d, %v; want %d", got, err, want)
			}
		})
	}
	if _, err := alignTables([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x09")); err == nil {
		t.Errorf("alignTables accepted a collection header that claims 9 fonts and holds none")
	}
}

func TestFindCJKFontGivenPath(t *testing.T) {
	dir := t.TempDir()
	latin := filepath.Join(dir, "goregular.ttf")
	garbage := filepath.Join(dir, "garbage.ttf")
	for name, data := range map[string][]byte{latin: misaligned(t, goregular.TTF), garbage: []byte("not a font")} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "missing.ttc"), "read font: open " + filepath.Join(dir, "missing.ttc")},
		{garbage, "parse font " + garbage},
		{latin, "font " + latin + " has no Chinese glyphs"},
	}
	for _, tt := range tests {
		f, got, err := FindCJKFont(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FindCJKFont(%q) = %v, %q, %v; want an error containing %q", tt.path, f, got, err, tt.want)
		}
	}
	if _, _, err := FindCJKFont(tests[0].path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("FindCJKFont(missing file) = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestFindCJKFontSearch(t *testing.T) {
	f, path, err := FindCJKFont("")
	if err != nil {
		if !strings.Contains(err.Error(), cjkFontPaths[0]) {
			t.Errorf("FindCJKFont(\"\") error %q does not say where it looked", err)
		}
		t.Skipf("no CJK font installed (apt-get install fonts-wqy-microhei): %v", err)
	}
	if !covers(f, "南塔商圈服务中心") {
		t.Errorf("font %s from FindCJKFont lacks common Chinese characters", path)
	}
	if _, again, err := FindCJKFont(path); err != nil || again != path {
		t.Errorf("FindCJKFont(%q) = %q, %v; want the same font back", path, again, err)
	}
}
