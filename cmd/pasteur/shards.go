package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pasteur-dev/pasteur/gitsync"
	"github.com/pasteur-dev/pasteur/netx"
	"github.com/pasteur-dev/pasteur/paste"
	"github.com/pasteur-dev/pasteur/paste/shard"
)

// shardMark is the part of --remote that names the shard.
const shardMark = "{shard}"

// checkShards checks --shards against --remote and --prefer-shard:
// several shards need a --remote template with {shard}, and a template
// needs --shards.
func checkShards(remote string, shards, prefer int) error {
	templated := strings.Contains(remote, shardMark)
	switch {
	case prefer < -1 || prefer >= shards:
		return fmt.Errorf("--prefer-shard %d: want -1 (none) or a shard, 0..%d", prefer, shards-1)
	case shards < 1 || shards > shard.MaxShards:
		return fmt.Errorf("--shards %d: want 1..%d", shards, shard.MaxShards)
	case shards > 1 && !templated:
		return fmt.Errorf("--shards %d needs a --remote that names the shard with %s (e.g. git@host:org/pastes-%s.git)", shards, shardMark, shardMark)
	case templated && shards == 1:
		return fmt.Errorf("--remote has %s: give the number of shards with --shards", shardMark)
	}
	return nil
}

// shardRemote is the remote of shard i: --remote with {shard} replaced by
// i.
func shardRemote(template string, i int) string {
	return strings.ReplaceAll(template, shardMark, strconv.Itoa(i))
}

// shardDir is the local repository of shard i: --data for shard 0 (the
// repository from before sharding, when there was one), DATA/shard-I for
// the others; "" (in memory) for all with --data "".
func shardDir(data string, i int) string {
	if data == "" || i == 0 {
		return data
	}
	return filepath.Join(data, "shard-"+strconv.Itoa(i))
}

// checkShardDirs checks that data holds the shards of a server that ran
// with n of them: the repositories DATA/shard-1 to DATA/shard-(n-1), and
// none beyond, so that ids are looked for where such a server put them.
// data "" (in memory) passes.
func checkShardDirs(data string, n int) error {
	if err := checkNoShardsBeyond(data, n); err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		if _, err := os.Stat(shardDir(data, i)); err != nil {
			return fmt.Errorf("%s has no shard %d (%s): give the server's --shards (fewer than %d)", data, i, shardDir(data, i), n)
		}
	}
	return nil
}

// checkNoShardsBeyond checks that data holds no shard that a server with
// n shards would not look in: a DATA/shard-K directory with K >= n, left
// by a server that ran with more (its pastes would answer 404, and new
// ones could take their ids). Shards below n that are missing pass: they
// are made when the server opens them, as when the shards grow. data ""
// (in memory) passes.
func checkNoShardsBeyond(data string, n int) error {
	if data == "" {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(data, "shard-*"))
	if err != nil {
		return err
	}
	highest := -1
	for _, name := range names {
		suffix := strings.TrimPrefix(filepath.Base(name), "shard-")
		k, err := strconv.Atoi(suffix)
		if err != nil || strconv.Itoa(k) != suffix || k < n || k <= highest {
			continue // not a shard's name (shardDir's), or one that n covers
		}
		if fi, err := os.Stat(name); err == nil && fi.IsDir() {
			highest = k
		}
	}
	if highest >= 0 {
		return fmt.Errorf("%s holds shard %d (%s), where --shards %d would not look: give --shards %d or more (the shards its pastes were made with)",
			data, highest, shardDir(data, highest), n, highest+1)
	}
	return nil
}

// stores is the store of every shard, and the store the handler uses.
type stores struct {
	shards []*gitsync.Store
	pastes paste.Store               // the only shard, or a router over them
	newID  func(int) (string, error) // nil: paste.NewID
}

// Close closes every shard.
func (s *stores) Close() error {
	var errs []error
	for _, st := range s.shards {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// openStores opens one gitsync.Store per shard, all at once (each
// reconciles with its remote), and with several, a router over them.
// onRemove is told the pastes that any shard's fetches find removed.
func openStores(ctx context.Context, cfg *serveConfig, network netx.Network, log *slog.Logger, onRemove func(ids []string)) (*stores, error) {
	n := cfg.shards
	s := &stores{shards: make([]*gitsync.Store, n)}
	errs := make([]error, n)
	done := make(chan int, n)
	for i := range n {
		go func() {
			defer func() { done <- i }()
			remote, slog := cfg.remote, log.With("component", "gitsync")
			if n > 1 {
				remote = shardRemote(cfg.remote, i)
				slog = slog.With("shard", i)
			}
			s.shards[i], errs[i] = gitsync.Open(ctx, gitsync.Config{
				Dir:     shardDir(cfg.data, i),
				Remote:  remote,
				Ack:     cfg.ack,
				Dial:    network.Dial,
				Auth:    cfg.git.auth,
				MaxSize: cfg.maxSize,
				Logger:  slog,

				SyncInterval:  syncInterval(cfg.life.syncInterval),
				PurgeInterval: cfg.life.purgeInterval,
				OnRemove:      onRemove,
			})
		}()
	}
	for range n {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		for _, st := range s.shards {
			if st != nil {
				st.Close()
			}
		}
		return nil, inUseHint(err)
	}
	if n == 1 {
		s.pastes = s.shards[0]
		return s, nil
	}
	shards := make([]paste.Store, n)
	for i, st := range s.shards {
		shards[i] = st
	}
	r, err := shard.New(shard.Config{
		Shards:   shards,
		Ready:    func(i int) bool { return s.shards[i].Reachable() },
		Fallback: 0,
		Prefer:   cfg.preferShard,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.pastes, s.newID = r, r.NewID
	return s, nil
}

// statuses are the shards' remote states, for /healthz.
func (s *stores) statuses() []remoteStatus {
	out := make([]remoteStatus, len(s.shards))
	for i, st := range s.shards {
		out[i] = st
	}
	return out
}

// combined is the state of every shard's remote as one, for the metrics:
// reachable when all are, unpushed when any is, with a filter of ids
// when all have one, the pastes queued in all,
// the oldest of their last pushes.
func (s *stores) combined() remoteStatus { return combined(s.shards) }

type combined []*gitsync.Store

func (c combined) Status() gitsync.Status {
	var all gitsync.Status
	for i, st := range c {
		s := st.Status()
		if i == 0 {
			all = s
			continue
		}
		all.Reachable = all.Reachable && s.Reachable
		all.Queueing = all.Queueing && s.Queueing
		all.Unpushed = all.Unpushed || s.Unpushed
		all.IDFilter = all.IDFilter && s.IDFilter
		all.Queued += s.Queued
		all.Logged += s.Logged
		if s.LastPush.Before(all.LastPush) {
			all.LastPush = s.LastPush
		}
		if all.LastError == "" {
			all.LastError = s.LastError
		}
	}
	return all
}

// counters are the git writers' totals over every shard, for the metrics.
func (s *stores) counters() gitsync.Counters {
	var all gitsync.Counters
	for _, st := range s.shards {
		c := st.Counters()
		all.Commits += c.Commits
		all.Pastes += c.Pastes
		all.CommitSeconds += c.CommitSeconds
		all.Pushes += c.Pushes
		all.PushSeconds += c.PushSeconds
		all.Syncs += c.Syncs
	}
	return all
}
