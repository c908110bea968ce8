package logging

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"go.etcd.io/raft/v3"
	"google.golang.org/grpc/grpclog"
)

// adapter turns printf-style calls from other libraries' logger interfaces
// into slog records that carry the library's call site, not the adapter's.
type adapter struct {
	lg *slog.Logger
	// exit ends the process after a fatal record; a seam for tests.
	exit func(code int)
}

// emit writes msg at level, with the call site skip frames above emit:
// 1 is the function calling emit, 2 its caller, and so on.
func (a *adapter) emit(level slog.Level, skip int, msg string) {
	ctx := context.Background()
	if !a.lg.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(skip+1, pcs[:]) // frame 0 is runtime.Callers itself
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	_ = a.lg.Handler().Handle(ctx, r)
}

// enabled reports whether a record at level would be written, so callers
// can skip formatting.
func (a *adapter) enabled(level slog.Level) bool {
	return a.lg.Enabled(context.Background(), level)
}

// sprintln formats like fmt.Sprintln without the trailing newline.
func sprintln(args ...any) string {
	return strings.TrimSuffix(fmt.Sprintln(args...), "\n")
}

// RaftLogger adapts lg to go.etcd.io/raft's Logger. Levels map one to one
// (Warning is warn); Panic logs at LevelPanic and then panics with the
// message; Fatal logs at LevelFatal and exits with status 1.
func RaftLogger(lg *slog.Logger) raft.Logger {
	return &raftLogger{adapter{lg: lg, exit: os.Exit}}
}

type raftLogger struct{ a adapter }

var _ raft.Logger = (*raftLogger)(nil)

func (l *raftLogger) print(level slog.Level, args []any) {
	if l.a.enabled(level) {
		l.a.emit(level, 3, fmt.Sprint(args...))
	}
}

func (l *raftLogger) printf(level slog.Level, format string, args []any) {
	if l.a.enabled(level) {
		l.a.emit(level, 3, fmt.Sprintf(format, args...))
	}
}

// Debug logs at debug level.
func (l *raftLogger) Debug(v ...any) { l.print(slog.LevelDebug, v) }

// Debugf logs at debug level.
func (l *raftLogger) Debugf(format string, v ...any) { l.printf(slog.LevelDebug, format, v) }

// Info logs at info level.
func (l *raftLogger) Info(v ...any) { l.print(slog.LevelInfo, v) }

// Infof logs at info level.
func (l *raftLogger) Infof(format string, v ...any) { l.printf(slog.LevelInfo, format, v) }

// Warning logs at warn level.
func (l *raftLogger) Warning(v ...any) { l.print(slog.LevelWarn, v) }

// Warningf logs at warn level.
func (l *raftLogger) Warningf(format string, v ...any) { l.printf(slog.LevelWarn, format, v) }

// Error logs at error level.
func (l *raftLogger) Error(v ...any) { l.print(slog.LevelError, v) }

// Errorf logs at error level.
func (l *raftLogger) Errorf(format string, v ...any) { l.printf(slog.LevelError, format, v) }

// Fatal logs at fatal level and exits with status 1.
func (l *raftLogger) Fatal(v ...any) {
	l.a.emit(LevelFatal, 2, fmt.Sprint(v...))
	l.a.exit(1)
}

// Fatalf logs at fatal level and exits with status 1.
func (l *raftLogger) Fatalf(format string, v ...any) {
	l.a.emit(LevelFatal, 2, fmt.Sprintf(format, v...))
	l.a.exit(1)
}

// Panic logs at panic level and panics with the message.
func (l *raftLogger) Panic(v ...any) {
	msg := fmt.Sprint(v...)
	l.a.emit(LevelPanic, 2, msg)
	panic(msg)
}

// Panicf logs at panic level and panics with the message.
func (l *raftLogger) Panicf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.a.emit(LevelPanic, 2, msg)
	panic(msg)
}

// GRPCLogger adapts lg to gRPC's grpclog.LoggerV2 (install it with
// grpclog.SetLoggerV2 before any other gRPC call). gRPC's info messages —
// connection and resolver chatter — are logged at debug; warnings, errors
// and fatal messages keep their level, and Fatal exits with status 1. V(l)
// reports whether debug records are written, since that is where gRPC's
// verbose messages land. The logger also implements grpclog.DepthLoggerV2,
// so records carry gRPC's call site.
func GRPCLogger(lg *slog.Logger) grpclog.LoggerV2 {
	return &grpcLogger{adapter{lg: lg, exit: os.Exit}}
}

type grpcLogger struct{ a adapter }

var _ grpclog.DepthLoggerV2 = (*grpcLogger)(nil)

// gRPC's severities as slog levels.
const (
	grpcInfo    = slog.LevelDebug // demoted: gRPC's info is chatter for a server log
	grpcWarning = slog.LevelWarn
	grpcError   = slog.LevelError
)

func (l *grpcLogger) print(level slog.Level, args []any) {
	if l.a.enabled(level) {
		l.a.emit(level, 3, fmt.Sprint(args...))
	}
}

func (l *grpcLogger) println(level slog.Level, args []any) {
	if l.a.enabled(level) {
		l.a.emit(level, 3, sprintln(args...))
	}
}

func (l *grpcLogger) printf(level slog.Level, format string, args []any) {
	if l.a.enabled(level) {
		l.a.emit(level, 3, fmt.Sprintf(format, args...))
	}
}

// depth logs with the call site depth frames above the caller of the
// grpclog function that called a ...Depth method. gRPC documents the
// arguments of the ...Depth methods as fmt.Println's.
func (l *grpcLogger) depth(level slog.Level, depth int, args []any) {
	if l.a.enabled(level) {
		// Above emit: this function, the ...Depth method, grpclog's
		// ...Depth function, and then gRPC's depth 0.
		l.a.emit(level, depth+4, sprintln(args...))
	}
}

// Info logs at debug level.
func (l *grpcLogger) Info(args ...any) { l.print(grpcInfo, args) }

// Infoln logs at debug level.
func (l *grpcLogger) Infoln(args ...any) { l.println(grpcInfo, args) }

// Infof logs at debug level.
func (l *grpcLogger) Infof(format string, args ...any) { l.printf(grpcInfo, format, args) }

// InfoDepth logs at debug level.
func (l *grpcLogger) InfoDepth(depth int, args ...any) { l.depth(grpcInfo, depth, args) }

// Warning logs at warn level.
func (l *grpcLogger) Warning(args ...any) { l.print(grpcWarning, args) }

// Warningln logs at warn level.
func (l *grpcLogger) Warningln(args ...any) { l.println(grpcWarning, args) }

// Warningf logs at warn level.
func (l *grpcLogger) Warningf(format string, args ...any) { l.printf(grpcWarning, format, args) }

// WarningDepth logs at warn level.
func (l *grpcLogger) WarningDepth(depth int, args ...any) { l.depth(grpcWarning, depth, args) }

// Error logs at error level.
func (l *grpcLogger) Error(args ...any) { l.print(grpcError, args) }

// Errorln logs at error level.
func (l *grpcLogger) Errorln(args ...any) { l.println(grpcError, args) }

// Errorf logs at error level.
func (l *grpcLogger) Errorf(format string, args ...any) { l.printf(grpcError, format, args) }

// ErrorDepth logs at error level.
func (l *grpcLogger) ErrorDepth(depth int, args ...any) { l.depth(grpcError, depth, args) }

// Fatal logs at fatal level and exits with status 1.
func (l *grpcLogger) Fatal(args ...any) { l.print(LevelFatal, args); l.a.exit(1) }

// Fatalln logs at fatal level and exits with status 1.
func (l *grpcLogger) Fatalln(args ...any) { l.println(LevelFatal, args); l.a.exit(1) }

// Fatalf logs at fatal level and exits with status 1.
func (l *grpcLogger) Fatalf(format string, args ...any) {
	l.printf(LevelFatal, format, args)
	l.a.exit(1)
}

// FatalDepth logs at fatal level and exits with status 1.
func (l *grpcLogger) FatalDepth(depth int, args ...any) {
	l.depth(LevelFatal, depth, args)
	l.a.exit(1)
}

// V reports whether gRPC's verbose messages would be written: they are
// logged at debug level.
func (l *grpcLogger) V(int) bool { return l.a.enabled(slog.LevelDebug) }
