package ctl

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes, as etcdctl uses them.
const (
	ExitSuccess       = 0
	ExitError         = 1
	ExitBadConnection = 2
	ExitInvalidInput  = 3 // e.g. a malformed txn
	ExitBadFeature    = 4 // e.g. an output format a command does not support
	ExitInterrupted   = 5
	ExitIO            = 6
	ExitBadArgs       = 128
)

// exitError ends a command with an exit code. Main prints it as
// "Error: <message>" on stderr unless Silent is set (the command has already
// reported the failure its own way).
type exitError struct {
	Code   int
	Err    error
	Silent bool
	// trailer is printed after the message line (flag errors end with a
	// blank line).
	trailer string
}

func (e *exitError) Error() string { return e.Err.Error() }
func (e *exitError) Unwrap() error { return e.Err }

// exitErr wraps err with an exit code.
func exitErr(code int, err error) *exitError { return &exitError{Code: code, Err: err} }

// exitErrf formats an error with an exit code.
func exitErrf(code int, format string, args ...any) *exitError {
	return &exitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// silentExit ends the command with code after it printed its own report.
func silentExit(code int) *exitError {
	return &exitError{Code: code, Err: errors.New("silent exit"), Silent: true}
}

// report prints err the way etcdctl does and returns the process exit code.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return ExitSuccess
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{Code: ExitError, Err: err}
	}
	if !ee.Silent {
		fmt.Fprintf(stderr, "Error: %v\n%s", ee.Err, ee.trailer)
	}
	return ee.Code
}
