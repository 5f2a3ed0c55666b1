package cmdutil

import (
	"fmt"
	"io"
	"os"

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
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zap.NewAtomicLevelAt(lvl))
	return zap.New(core, append(opts, zap.ErrorOutput(zapcore.Lock(os.Stderr)))...), nil
}

// isTerminal reports whether f is a character device (a terminal), not a
// file or a pipe.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
