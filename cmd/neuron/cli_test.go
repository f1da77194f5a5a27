// Tests of the command line as a program: exit statuses and usage hints,
// `neuron version`, llama-bench's flag names, escape codes only where they
// belong, JSON that keeps < > & as they are, and Ctrl-C (SIGINT) ending
// `neuron serve` and `neuron run` with status 130 in real processes.

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helexa/helexa/internal/reftest"
)

func TestExecuteStatusAndHints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr []string
	}{
		{"unknown command", []string{"srve"}, exitUsage, []string{`unknown command "srve"`, "serve", "Run 'neuron --help' for usage."}},
		{"unknown flag", []string{"serve", "--bogus"}, exitUsage, []string{"unknown flag: --bogus", "Run 'neuron serve --help' for usage."}},
		{"unknown shorthand", []string{"bench", "m.gguf", "-Z"}, exitUsage, []string{"unknown shorthand flag: 'Z'", "Run 'neuron bench --help'"}},
		{"bad flag value", []string{"bench", "m.gguf", "--n-prompt", "many"}, exitUsage, []string{`invalid argument "many"`, "Run 'neuron bench --help'"}},
		{"missing argument", []string{"run"}, exitUsage, []string{"arg(s)", "Run 'neuron run --help' for usage."}},
		{"failure", []string{"inspect", filepath.Join(t.TempDir(), "absent.gguf")}, exitError, []string{"neuron: ", "absent.gguf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := execute(tc.args, &stderr); got != tc.status {
				t.Errorf("status %d, want %d; stderr:\n%s", got, tc.status, stderr.String())
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var out, stderr bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	if got := execute([]string{"version"}, &stderr); got != 0 {
		t.Fatalf("status %d: %s", got, stderr.String())
	}
	line := strings.TrimSpace(out.String())
	for _, want := range []string{"neuron " + version, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH, "cpu"} {
		if !strings.Contains(line, want) {
			t.Errorf("version %q lacks %q", line, want)
		}
	}
	out.Reset()
	if got := execute([]string{"--version"}, &stderr); got != 0 || strings.TrimSpace(out.String()) != line {
		t.Errorf("--version %q (status %d), version %q", out.String(), got, line)
	}
}

func TestBenchFlagsAsLlamaBench(t *testing.T) {
	cmd, _, err := rootCmd.Find([]string{"bench"})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-p", "64", "-n", "8", "-r", "2", "-t", "3"},
		{"--n-prompt", "64", "--n-gen", "8", "--repetitions", "2", "--threads", "3"},
		{"--n-prompt=64", "--n-gen=8", "--repetitions=2", "--threads=3"},
	} {
		f := cmd.Flags()
		if err := f.Parse(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		got := map[string]int{}
		for _, name := range []string{"n-prompt", "n-gen", "repetitions", "threads"} {
			got[name], _ = f.GetInt(name)
		}
		if got["n-prompt"] != 64 || got["n-gen"] != 8 || got["repetitions"] != 2 || got["threads"] != 3 {
			t.Errorf("%v parsed as %v", args, got)
		}
	}
}

func TestStyledOutput(t *testing.T) {
	dev, err := os.Open(os.DevNull) // a character device, as a terminal is
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tc := range []struct {
		name, noColor, term string
		f                   *os.File
		want                bool
	}{
		{"terminal", "", "xterm-256color", dev, true},
		{"NO_COLOR", "1", "xterm-256color", dev, false},
		{"dumb terminal", "", "dumb", dev, false},
		{"file", "", "xterm-256color", file, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", tc.term)
			if got := styled(tc.f); got != tc.want {
				t.Errorf("styled = %v", got)
			}
		})
	}
}

func TestPrintJSONKeepsMarkup(t *testing.T) {
	var b bytes.Buffer
	in := runJSON{Text: "<think>a & b</think>\n<tool_call>", FinishReason: "stop", Tokens: []int32{}}
	if err := printJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"text":"<think>a & b</think>\n<tool_call>"`) || strings.Contains(b.String(), `\u003c`) {
		t.Errorf("JSON %s", b.String())
	}
	var back runJSON
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Text != in.Text {
		t.Errorf("round trip %q: %v", back.Text, err)
	}
}

// cliProcessEnv makes the test binary run execute with the given arguments
// (separated by \x1f) and exit with its status.
const cliProcessEnv = "HELEXA_TEST_CLI_ARGS"

func TestCLIProcessHelper(t *testing.T) {
	args := os.Getenv(cliProcessEnv)
	if args == "" {
		return
	}
	os.Exit(execute(strings.Split(args, "\x1f"), os.Stderr))
}

// startCLI starts `neuron args...` as a process and returns it with a reader
// of the stream (stdout or stderr) the test watches.
func startCLI(t *testing.T, watchStdout bool, args ...string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIProcessHelper$")
	cmd.Env = append(os.Environ(), cliProcessEnv+"="+strings.Join(args, "\x1f"), "NO_COLOR=1")
	var other bytes.Buffer
	var pipe *bufio.Reader
	if watchStdout {
		p, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		pipe = bufio.NewReader(p)
		cmd.Stderr = &other
	} else {
		p, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		pipe = bufio.NewReader(p)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, pipe, &other
}

// waitStatus waits for the process and returns its exit status.
func waitStatus(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit")
	}
	return -1
}

func TestCtrlCExits130(t *testing.T) {
	t.Run("serve", func(t *testing.T) {
		cmd, stderr, _ := startCLI(t, false, "serve", "--listen", "127.0.0.1:0", "--log-format", "json",
			"--hub-offline", "--hub-cache-dir", t.TempDir())
		for {
			line, err := stderr.ReadString('\n')
			if err != nil {
				t.Fatalf("serve ended before listening: %v", err)
			}
			if strings.Contains(line, `"msg":"neuron listening"`) {
				break
			}
		}
		go func() { // drain the log so the process never blocks on it
			for {
				if _, err := stderr.ReadString('\n'); err != nil {
					return
				}
			}
		}()
		cmd.Process.Signal(syscall.SIGINT)
		if got := waitStatus(t, cmd); got != exitInterrupted {
			t.Errorf("exit status %d after SIGINT, want %d", got, exitInterrupted)
		}
	})
	t.Run("run", func(t *testing.T) {
		model := reftest.Model(t, "mini-f32")
		// Long enough to be under way when the signal comes (the first
		// output byte is awaited), and bounded by the context anyway.
		cmd, stdout, stderr := startCLI(t, true, "run", model, "--tokens", "1,2,3", "--temp", "0", "--ignore-eos",
			"--max-tokens", "4000", "--ctx-size", "4096", "--device", "cpu", "--threads", "1")
		if _, err := stdout.ReadByte(); err != nil {
			t.Fatalf("no output: %v", err)
		}
		cmd.Process.Signal(syscall.SIGINT)
		go func() { // keep reading so the writer never blocks
			buf := make([]byte, 4096)
			for {
				if _, err := stdout.Read(buf); err != nil {
					return
				}
			}
		}()
		if got := waitStatus(t, cmd); got != exitInterrupted {
			t.Errorf("exit status %d after SIGINT, want %d; stderr:\n%s", got, exitInterrupted, stderr.String())
		}
		if !strings.Contains(stderr.String(), "neuron: interrupted") || !strings.Contains(stderr.String(), "stopped: context canceled") {
			t.Errorf("stderr:\n%s", stderr.String())
		}
	})
}
