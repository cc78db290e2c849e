// Package testlog gives tests a logger that writes to the test's own
// output: shown with -v or when the test fails, next to the test's name,
// instead of on standard error for every run.
package testlog

import (
	"log/slog"
	"testing"
)

// New returns a logger at debug level that writes to t.Output(). Stop
// logging to it when the test ends: shut down what holds it in t.Cleanup.
func New(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
