// Package mailtemplates holds the email templates, embedded into the binary:
// a shared layout (base.txt, base.html), the shared blocks (common.txt,
// common.html) and per kind the message ({kind}.txt with the subject,
// {kind}.html). Every word comes from the message catalogues
// (web/i18n/*.toml, keys mail.*) through T and N; docs/mail.md describes
// the data they get.
package mailtemplates

import "embed"

// FS holds every template at its root.
//
//go:embed *.txt *.html
var FS embed.FS
