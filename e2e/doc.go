// Package e2e holds pasteur's end-to-end tests: they build the pasteur
// binary, the deployment's network in namespaces (package testbed), real
// peers such as git daemon, and drive it all as a user would, with curl
// and, for the website, Debian's chromium (browser_test.go).
package e2e
