package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nanta-district/bangban/content"
)

const contentUsage = "usage: bangban content [--content-dir DIR] check | bangban content export DIR"

// contentCommand is "bangban content check|export DIR": it validates CONTENT_DIR (or
// the embedded demo content), or writes the demo content out as a starting point.
func contentCommand(cfg config, out io.Writer) error {
	if len(cfg.args) == 0 {
		return errors.New(contentUsage)
	}
	verb, args := cfg.args[0], cfg.args[1:]
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("flags go before the verb (bangban content --content-dir DIR check), not after: %s\n%s", a, contentUsage)
		}
	}
	switch verb {
	case "check":
		if len(args) != 0 {
			return fmt.Errorf("content check takes no arguments; give the folder as CONTENT_DIR or --content-dir\n%s", contentUsage)
		}
		return contentCheck(cfg.contentDir, out)
	case "export":
		if len(args) != 1 {
			return fmt.Errorf("content export needs one folder to write to\n%s", contentUsage)
		}
		return contentExport(args[0], out)
	}
	return fmt.Errorf("unknown content command %q\n%s", verb, contentUsage)
}

func contentCheck(dir string, out io.Writer) error {
	c, err := content.Load(dir)
	var probs content.Problems
	if errors.As(err, &probs) {
		where := "the embedded demo content"
		if dir != "" {
			where = "content in " + dir
		}
		noun := "problems"
		if len(probs) == 1 {
			noun = "problem"
		}
		return fmt.Errorf("%s has %d %s:\n%w", where, len(probs), noun, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "content ok: %d points, %d policies in %d categories, %d synonym groups (hash %s)\n",
		len(c.Points), len(c.Policies), len(c.Categories), len(c.Synonyms), c.Hash)
	return nil
}

func contentExport(dir string, out io.Writer) error {
	if err := content.Export(dir); err != nil {
		return err
	}
	for _, name := range content.DemoFiles() {
		fmt.Fprintf(out, "wrote %s\n", filepath.Join(dir, filepath.FromSlash(name)))
	}
	fmt.Fprintf(out, "demo content written: edit it, then check it with CONTENT_DIR=%s bangban content check\n", dir)
	return nil
}
