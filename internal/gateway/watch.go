package gateway

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchFile re-applies the config file when it changes and whenever hup
// delivers (SIGHUP), until ctx ends. It watches the file's directory, so
// editors that replace the file and Kubernetes ConfigMap symlink swaps are
// both seen; bursts of events are coalesced. An invalid file is rejected
// (logged and counted) and the running revision keeps serving.
func (g *Gateway) WatchFile(ctx context.Context, path string, hup <-chan os.Signal) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		return err
	}
	const settle = 150 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	reload := func(why string) {
		if res, err := g.ApplyFile(ctx, path); err == nil && !res.Unchanged {
			g.log.Info("config file reloaded", "trigger", why, "revision", res.Revision.Number)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			reload("SIGHUP")
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			// Any change in the directory may be the file (renames, symlinks);
			// an unchanged document is cheap to detect by its hash.
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) {
				continue
			}
			timer.Reset(settle)
		case <-timer.C:
			reload("file change")
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			g.log.Warn("config file watch error", "error", err)
		}
	}
}
