//go:build !race

package jmsgdtest

const raceEnabled = false
