// Package mailtemplates holds the email templates, embedded into the binary:
// a shared layout (base.txt, base.html), per language the shared blocks
// (common.{lang}.txt/.html) and per kind and language the message
// ({kind}.{lang}.txt with the subject, {kind}.{lang}.html). docs/mail.md
// describes the data they get.
package mailtemplates

import "embed"

// FS holds every template at its root.
//
//go:embed *.txt *.html
var FS embed.FS
