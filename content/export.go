package content

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DemoFiles returns the names of the embedded demo content's files, slash-separated
// and relative to the content folder, in lexical order.
func DemoFiles() []string {
	var names []string
	// Walking an embedded file system cannot fail.
	_ = fs.WalkDir(demo, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, name)
		}
		return err
	})
	return names
}

// Export writes the embedded demo content into dir, creating dir if needed, as a
// starting point for a district's own CONTENT_DIR. It refuses to overwrite: when one
// of the files already exists it writes nothing and says which.
func Export(dir string) error {
	names := DemoFiles()
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		_, err := os.Lstat(path)
		if err == nil {
			return fmt.Errorf("export demo content: %s already exists; not overwriting it", path)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export demo content: %w", err)
		}
	}
	for _, name := range names {
		data, err := fs.ReadFile(demo, name)
		if err != nil {
			return fmt.Errorf("export demo content: %w", err)
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("export demo content: %w", err)
		}
		if err := writeNew(path, data); err != nil {
			return fmt.Errorf("export demo content: %w", err)
		}
	}
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
