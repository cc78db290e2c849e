package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pasteur-dev/pasteur/internal/ratelimit"
)

// limitsConfig is the part of the command line that decides who may do
// how much, and what the operator sees: connection caps, the rate limit,
// trusted proxies, users, and the metrics address.
type limitsConfig struct {
	maxConns      int // 0: derived from the descriptor limit
	maxConnsPerIP int // 0: no cap
	rate          ratelimit.Rate
	trusted       prefixList
	authFile      string
	authRead      bool
	metricsAddr   string
	rawRate       string
	maxRepoSize   int64 // 0: no bound
	rawRepoSize   string
}

// addFlags declares the flags on fs.
func (l *limitsConfig) addFlags(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConns, "max-conns", 0, "most connections (`N`) open at once; idle ones are closed first to make room (default: from the open-file limit, leaving room for the repository's files, at most 4096)")
	fs.IntVar(&l.maxConnsPerIP, "max-conns-per-ip", 0, "most connections (`N`) open at once from one client address (an IPv6 /64 counts as one), trusted proxies excepted (default: no cap)")
	fs.StringVar(&l.rawRate, "rate-limit", "", "pastes each client address may create, as `N/DURATION` (e.g. 30/1m: bursts of 30, then one every 2 s); more get 429 (default: no limit)")
	fs.Var(&l.trusted, "trusted-proxy", "`CIDR` of a reverse proxy whose X-Forwarded-For names the client (repeatable)")
	fs.StringVar(&l.authFile, "auth", "", "htpasswd `file` of bcrypt entries (htpasswd -B); creating a paste then needs one of its users (HTTP basic auth), who becomes the commit's author; re-read when it changes")
	fs.BoolVar(&l.authRead, "auth-read", false, "with --auth, reading pastes needs a user too")
	fs.StringVar(&l.rawRepoSize, "max-repo-size", "", "refuse new pastes (507, nothing written) once --data holds this `size` (bytes, or with K, M, G, T: 10G); reading goes on (default: no bound)")
	fs.StringVar(&l.metricsAddr, "metrics-addr", "", "serve /metrics (Prometheus) and a detailed /healthz on this `address` (e.g. 127.0.0.1:9100; in TAP mode an address of the stack, like 10.0.0.3:9100); off by default")
}

// check validates the flags after parsing; data is --data.
func (l *limitsConfig) check(data string) error {
	switch {
	case l.maxConns < 0:
		return fmt.Errorf("--max-conns %d: want a positive number (or 0 for the default)", l.maxConns)
	case l.maxConnsPerIP < 0:
		return fmt.Errorf("--max-conns-per-ip %d: want a positive number (or 0 for no cap)", l.maxConnsPerIP)
	case l.authRead && l.authFile == "":
		return fmt.Errorf("--auth-read needs --auth FILE")
	}
	if l.rawRate != "" {
		r, err := ratelimit.ParseRate(l.rawRate)
		if err != nil {
			return fmt.Errorf("--rate-limit %q: want N/DURATION, like 30/1m", l.rawRate)
		}
		l.rate = r
	}
	if l.rawRepoSize != "" {
		n, err := parseSize(l.rawRepoSize)
		if err != nil || n < 1 {
			return fmt.Errorf("--max-repo-size %q: want a size in bytes, like 10G or 500M", l.rawRepoSize)
		}
		l.maxRepoSize = n
		if data == "" {
			return fmt.Errorf("--max-repo-size bounds the repository under --data: give one")
		}
	}
	if l.metricsAddr != "" {
		host, port, err := net.SplitHostPort(l.metricsAddr)
		if _, perr := netip.ParseAddr(host); err != nil || perr != nil || port == "" {
			return fmt.Errorf("--metrics-addr %q: want an IP address and port, like 127.0.0.1:9100", l.metricsAddr)
		}
	}
	return nil
}

// parseSize reads a size in bytes: a number, optionally followed by K, M,
// G or T (powers of 1024; KiB, MB and the like are read the same way).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	num := strings.TrimRight(s, "KMGTBkmgtib")
	unit := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "b"))
	unit = strings.TrimSuffix(unit, "I")
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<62)>>sh {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n << sh, nil
}

// prefixList is a repeatable flag of CIDR prefixes (an address alone is
// its own /32 or /128).
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var s []string
	for _, x := range *p {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if a, err := netip.ParseAddr(f); err == nil {
			*p = append(*p, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		x, err := netip.ParsePrefix(f)
		if err != nil {
			return fmt.Errorf("want an address or CIDR, like 10.0.0.0/24")
		}
		*p = append(*p, x.Masked())
	}
	return nil
}
