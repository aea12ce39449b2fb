package web

import (
	"treffpunkt/internal/apperr"
	"treffpunkt/internal/qr"
)

// qrSVG draws the QR code of text for pages; package qr does the drawing,
// shared with the emails' PNG codes.
func qrSVG(text string) ([]byte, error) {
	b, err := qr.SVG(text)
	return b, apperr.Wrap(err, "QR code")
}
