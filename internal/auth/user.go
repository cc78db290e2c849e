package auth

import "context"

type userKey struct{}

// WithUser returns ctx carrying the authenticated user's name.
func WithUser(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, userKey{}, name)
}

// User returns the name of the user the request carrying ctx was
// authenticated as, and false when it was not.
func User(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(userKey{}).(string)
	return name, ok && name != ""
}
