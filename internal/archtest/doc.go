// Package archtest holds the test of the package map of
// docs/architecture.md: which package may import which.
package archtest
