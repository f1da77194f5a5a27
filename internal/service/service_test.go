// Tests of sd_notify, the daemon logger, the drain context and the
// seconds-to-duration hook.

package service

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNotifyWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Notify("READY=1"); err != nil {
		t.Errorf("Notify without systemd: %v", err)
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent.sock"))
	if err := Notify("READY=1"); err == nil {
		t.Errorf("Notify to a missing socket succeeded")
	}
}

func TestNotifyDeliversState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if err := Notify("READY=1\nSTATUS=serving"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "READY=1\nSTATUS=serving" {
		t.Errorf("datagram %q", got)
	}
}

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		name, level, format, want, err string
	}{
		{"json", "info", "json", `"msg":"hello"`, ""},
		{"text", "debug", "text", "msg=hello", ""},
		{"bad level", "loud", "text", "", "log_level"},
		{"bad format", "info", "xml", "", "log_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := NewLogger(&buf, tc.level, tc.format)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Info("hello")
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("log %q lacks %q", buf.String(), tc.want)
			}
		})
	}
}

func TestSecondsToDuration(t *testing.T) {
	dur := reflect.TypeOf(time.Duration(0))
	for _, tc := range []struct {
		in   any
		want any
	}{
		{110, 110 * time.Second},
		{int64(2), 2 * time.Second},
		{1.5, 1500 * time.Millisecond},
		{"30", 30 * time.Second},
		{"5s", "5s"}, // left to the string-to-duration hook
	} {
		got, err := SecondsToDuration(reflect.TypeOf(tc.in), dur, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%v: got %v (%v), want %v", tc.in, got, err, tc.want)
		}
	}
	if got, _ := SecondsToDuration(reflect.TypeOf(3), reflect.TypeOf(0), 3); got != 3 {
		t.Errorf("a non-duration target was converted: %v", got)
	}
}

func TestDrain(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	ctx, cancel := Drain(sigs, time.Hour, slog.New(slog.DiscardHandler))
	defer cancel()
	select {
	case <-ctx.Done():
		t.Fatal("drain ended before its timeout or a signal")
	case <-time.After(20 * time.Millisecond):
	}
	sigs <- syscall.SIGTERM
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not end the drain")
	}

	ctx2, cancel2 := Drain(make(chan os.Signal), 10*time.Millisecond, slog.New(slog.DiscardHandler))
	defer cancel2()
	select {
	case <-ctx2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the drain outlived its timeout")
	}
}
