package ctl

import (
	"io"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger returns the JSON logger etcdctl's messages and the client
// library's warnings go through, one object per line on w:
//
//	{"level":"warn","ts":"2026-01-02T15:04:05.123456Z","caller":"ctl/env.go:70","msg":"..."}
//
// Fatal entries are written like any other; the caller decides how to exit,
// so a command tree run in-process never ends the process.
func newLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "ts",
		LevelKey:       "level",
		NameKey:        "logger",
		CallerKey:      "caller",
		MessageKey:     "msg",
		StacktraceKey:  "stacktrace",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeTime:     utcMicros,
		EncodeDuration: zapcore.StringDurationEncoder,
		EncodeCaller:   zapcore.ShortCallerEncoder,
	})
	core := zapcore.NewCore(enc, zapcore.AddSync(w), zap.NewAtomicLevelAt(level))
	return zap.New(core, zap.AddCaller(), zap.WithFatalHook(keepRunning{}))
}

func utcMicros(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}

// keepRunning is a fatal hook that does nothing after the entry is written.
type keepRunning struct{}

func (keepRunning) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {}
