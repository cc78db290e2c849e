// Package e2e holds pasteur's end-to-end tests: they build the pasteur
// binary, the deployment's network in namespaces (package testbed), real
// peers such as git daemon, and drive it all as a user would, with curl
// and, for the website, Debian's chromium (browser_test.go).
//
// They run with PASTEUR_E2E=1 (make test sets it), and then fail, not
// skip, when root, /dev/net/tun or a peer's package is missing; without
// it they are skipped, so that go test ./... stays quick.
package e2e
