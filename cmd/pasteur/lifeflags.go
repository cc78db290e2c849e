package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/pasteur-dev/pasteur/paste"
)

// lifeConfig is the part of the command line about a paste's life.
type lifeConfig struct {
	defaultExpiryText, maxExpiryText string
	defaultExpiry, maxExpiry         time.Duration // parsed by check
	syncInterval, purgeInterval      time.Duration
}

// addFlags declares the flags on fs.
func (l *lifeConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&l.defaultExpiryText, "default-expiry", "never", "how long a paste lives when it asks for nothing: never, or a `duration` such as 10m, 1d, 1w, 1y")
	fs.DurationVar(&l.syncInterval, "sync-interval", 30*time.Second, "fetch the --remote this often, for the pastes and removals of other servers sharing it (0 turns it off)")
	fs.DurationVar(&l.purgeInterval, "purge-interval", time.Hour, "rewrite the branch this often so that no commit holds a removed paste, and push it with a lease (0 turns it off; see README, \"A paste's life\")")
	fs.StringVar(&l.maxExpiryText, "max-expiry", "", "the longest a paste may ask to live (10m, 1d, 1w, 1y); none by default, and with one, no paste lives forever")
}

// check parses the flags.
func (l *lifeConfig) check() error {
	var err error
	if l.defaultExpiry, err = paste.ParseExpiry(l.defaultExpiryText); err != nil {
		return fmt.Errorf("--default-expiry %q: want never, or a number and one of s, m, h, d, w, y", l.defaultExpiryText)
	}
	if l.maxExpiry, err = paste.ParseExpiry(l.maxExpiryText); err != nil || l.maxExpiryText == "never" {
		return fmt.Errorf("--max-expiry %q: want a number and one of s, m, h, d, w, y", l.maxExpiryText)
	}
	if l.syncInterval < 0 {
		return fmt.Errorf("--sync-interval %s: want 0 or more", l.syncInterval)
	}
	if l.purgeInterval < 0 {
		return fmt.Errorf("--purge-interval %s: want 0 or more", l.purgeInterval)
	}
	if l.maxExpiry > 0 && (l.defaultExpiry == 0 || l.defaultExpiry > l.maxExpiry) {
		return fmt.Errorf("--default-expiry %s is over --max-expiry %s: give a --default-expiry within it", paste.FormatExpiry(l.defaultExpiry), paste.FormatExpiry(l.maxExpiry))
	}
	return nil
}
