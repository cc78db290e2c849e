#!/bin/sh
# Makes a bare Git repository with one empty commit on master, ready to be
# pasteur's remote, as the original pasteur's README did by hand.
#
#   scripts/init-remote.sh /srv/git/pasteur
#   git daemon --base-path=/srv/git --export-all --enable=receive-pack --listen=10.0.0.1
set -eu
dir=${1:?usage: $0 DIR}
git init -q --bare "$dir"
export GIT_DIR="$dir"
git config receive.denyCurrentBranch ignore
# A new pasteur starts from the tip alone and fetches the rest by hash.
git config uploadpack.allowFilter true
git config uploadpack.allowAnySHA1InWant true
tree=$(git write-tree)
commit=$(GIT_AUTHOR_NAME=pasteur GIT_AUTHOR_EMAIL=pasteur@localhost \
	GIT_COMMITTER_NAME=pasteur GIT_COMMITTER_EMAIL=pasteur@localhost \
	git commit-tree "$tree" -m "pasteur: empty repository")
git update-ref refs/heads/master "$commit"
echo "$dir: ready, master at $commit"
