package cmdutil

import (
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds a zap logger on stderr: JSON by default, "console" for
// humans (colours only when stderr is a terminal and NO_COLOR is unset).
func NewLogger(format, level string) (*zap.Logger, error) {
	_, noColor := os.LookupEnv("NO_COLOR")
	return newLogger(os.Stderr, isTerminal(os.Stderr) && !noColor, format, level)
}

// newLogger builds the logger on w; colour says whether console lines may
// carry ANSI colours (never into a file or a pipe, where they are noise).
func newLogger(w io.Writer, colour bool, format, level string) (*zap.Logger, error) {
	lvl := zapcore.InfoLevel
	var enc zapcore.Encoder
	var opts []zap.Option
	switch format {
	case "", "json":
		ec := zap.NewProductionEncoderConfig()
		ec.TimeKey = "ts"
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
		opts = []zap.Option{zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel)}
	case "console":
		// For a person at a terminal: no file:line on every line and no
		// stacks (the JSON format keeps both for machines), debug by default.
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		if colour {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
		lvl = zapcore.DebugLevel
	default:
		return nil, fmt.Errorf("unknown log format %q (json or console)", format)
	}
	if level != "" {
		l, err := zapcore.ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("log level: %w", err)
		}
		lvl = l
	}
	core := zapcore.NewCore(enc, bufferedOutput(w), zap.NewAtomicLevelAt(lvl))
	return zap.New(core, append(opts, zap.ErrorOutput(zapcore.Lock(os.Stderr)))...), nil
}

// logFlushEvery bounds how long a line waits in the log buffer.
const logFlushEvery = 100 * time.Millisecond

// bufferedOutput writes log lines through a buffer flushed every
// logFlushEvery (or when 256 kB are waiting), not one write(2) per line: a
// replica draining a backlog logs about five lines per run, and a system
// call for each was a tenth of its CPU. Sync (Process.Close) and zap's
// Fatal/Panic flush at once; a process killed outright loses at most the
// last logFlushEvery of lines.
func bufferedOutput(w io.Writer) zapcore.WriteSyncer {
	return &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(w), FlushInterval: logFlushEvery}
}

// isTerminal reports whether f is a character device (a terminal), not a
// file or a pipe.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
