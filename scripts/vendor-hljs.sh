#!/bin/sh
# Refreshes the bundled highlight.js from npm (@highlightjs/cdn-assets) into
# paste/web/static/vendor/hljs, then regenerates the language list.
#   scripts/vendor-hljs.sh [VERSION]     (default: the version in VERSION)
set -eu
cd "$(dirname "$0")/.."
dst=paste/web/static/vendor/hljs
version=${1:-$(cat "$dst/VERSION")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@highlightjs/cdn-assets@$version" >/dev/null && tar xzf ./*.tgz)
pkg=$tmp/package
rm -rf "$dst"
mkdir -p "$dst/languages" "$dst/styles"
cp "$pkg/LICENSE" "$dst/LICENSE"
cp "$pkg/es/core.min.js" "$dst/core.min.js"
cp "$pkg"/es/languages/*.min.js "$dst/languages/"
cp "$pkg/styles/github.min.css" "$pkg/styles/github-dark.min.css" "$dst/styles/"
echo "$version" >"$dst/VERSION"
go generate ./paste/web/
