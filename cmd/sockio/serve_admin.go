package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/admin"
)

// adminConfig is the Admin UI part of `sockio serve`.
type adminConfig struct {
	user     string // "" when --admin is not given: no /admin namespace
	hash     string
	readOnly bool
	// statsOnly is the reference's mode "production": no per-socket reports.
	statsOnly bool
	uiDir     string // --admin-ui: an installed @socket.io/admin-ui's ui/dist
	serverID  string
}

// adminFlags are the raw flags, checked by check after parsing.
type adminFlags struct {
	cred      *string
	readOnly  *bool
	statsOnly *bool
	uiDir     *string
}

func registerAdminFlags(fs *flag.FlagSet) *adminFlags {
	return &adminFlags{
		cred: fs.String("admin", "", `serve the Socket.IO Admin UI's namespace /admin, logging in as USER:BCRYPTHASH `+
			`(a hash from "htpasswd -nbBC 10 USER PASSWORD" or "sockio admin-hash"; quote it: it holds "$"); off when empty`),
		readOnly: fs.Bool("admin-read-only", false, "the Admin UI may look, not act: no emit, join, leave or disconnect"),
		statsOnly: fs.Bool("admin-stats-only", false, "the Admin UI gets the servers' stats only, not each socket, room change and event "+
			"(those cost a broadcast in /admin per connection and per event): the reference's mode \"production\""),
		uiDir: fs.String("admin-ui", "", `serve an installed copy of the Admin UI at /admin/ui/: the ui/dist directory of `+
			`the npm package @socket.io/admin-ui (0.5); needs --admin`),
	}
}

// check validates the flags; flagRef names a flag in an error.
func (f *adminFlags) check(flagRef func(string) string) (adminConfig, error) {
	cfg := adminConfig{readOnly: *f.readOnly, statsOnly: *f.statsOnly, uiDir: *f.uiDir}
	if *f.cred != "" {
		user, hash, ok := strings.Cut(*f.cred, ":")
		if !ok || user == "" || hash == "" {
			return cfg, fmt.Errorf("bad %s: want USER:BCRYPTHASH", flagRef("admin"))
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			// The value is not echoed: it may be a password typed by mistake.
			return cfg, fmt.Errorf("bad %s: the part after \"USER:\" must be a bcrypt hash ($2a$, $2b$ or $2y$...): %w", flagRef("admin"), err)
		}
		cfg.user, cfg.hash = user, hash
	}
	if cfg.user == "" && cfg.readOnly {
		return cfg, fmt.Errorf("%s needs %s", flagRef("admin-read-only"), flagRef("admin"))
	}
	if cfg.user == "" && cfg.statsOnly {
		return cfg, fmt.Errorf("%s needs %s", flagRef("admin-stats-only"), flagRef("admin"))
	}
	if cfg.user == "" && cfg.uiDir != "" {
		return cfg, fmt.Errorf("%s needs %s", flagRef("admin-ui"), flagRef("admin"))
	}
	if cfg.uiDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.uiDir, "index.html")); err != nil {
			return cfg, fmt.Errorf("bad %s %q: no index.html there (want node_modules/@socket.io/admin-ui/ui/dist): %w", flagRef("admin-ui"), cfg.uiDir, err)
		}
	}
	return cfg, nil
}

// startAdmin instruments io for the Admin UI and mounts the UI's files.
// It returns what stops the stats, or nil when the admin is off.
func startAdmin(cfg adminConfig, io *sockio.Server, mux *http.ServeMux) (stop func(), err error) {
	if cfg.user == "" {
		return func() {}, nil
	}
	id := cfg.serverID
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s#%d", host, os.Getpid())
	}
	a, err := admin.Instrument(io, admin.Options{
		Username:     cfg.user,
		PasswordHash: cfg.hash,
		ReadOnly:     cfg.readOnly,
		Production:   cfg.statsOnly,
		ServerID:     id,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to set up --admin: %w", err)
	}
	if cfg.uiDir != "" {
		fsrv := http.StripPrefix("/admin/ui/", http.FileServer(noListing{http.Dir(cfg.uiDir)}))
		mux.Handle("GET /admin/ui/", fsrv)
		mux.Handle("GET /admin/ui", http.RedirectHandler("/admin/ui/", http.StatusMovedPermanently))
	}
	return a.Close, nil
}

// noListing serves the UI's files but not directory listings.
type noListing struct{ fs http.FileSystem }

func (n noListing) Open(name string) (http.File, error) {
	f, err := n.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		idx, err := n.fs.Open(strings.TrimSuffix(name, "/") + "/index.html")
		if err != nil {
			_ = f.Close()
			return nil, os.ErrNotExist // a 404, not a listing
		}
		_ = idx.Close()
	}
	return f, nil
}

func init() {
	register("admin-hash", "print the bcrypt hash of a password read from stdin, for sockio serve --admin USER:HASH", runAdminHash)
}

// runAdminHash reads a password (the first line of stdin) and prints its
// bcrypt hash: --admin takes a hash, never the password.
func runAdminHash(args []string) error {
	if len(args) > 0 {
		return errors.New("admin-hash: no arguments: the password is read from stdin (echo -n PASSWORD | sockio admin-hash)")
	}
	buf := make([]byte, 128)
	n, err := os.Stdin.Read(buf)
	if err != nil && n == 0 {
		return fmt.Errorf("admin-hash: failed to read the password from stdin: %w", err)
	}
	pw, _, _ := strings.Cut(string(buf[:n]), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return errors.New("admin-hash: empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("admin-hash: failed to hash: %w", err)
	}
	fmt.Println(string(h))
	return nil
}
