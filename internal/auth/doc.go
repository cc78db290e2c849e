// Package auth decides who may use pasteur: users and their bcrypt
// password hashes in an htpasswd file (as `htpasswd -B` writes it), re-read
// when it changes, checked with HTTP basic authentication by a middleware
// that puts the user's name in the request's context (User).
package auth
