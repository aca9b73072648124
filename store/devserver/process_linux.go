package devserver

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// procAttr puts the server in its own process group, so a Ctrl-C in the
// terminal reaches cairn only, and asks the kernel to send it SIGTERM if
// cairn dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// signalGroup signals the process group that pid leads.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

// runsConfig reports whether process pid is alive and was started with
// config (so a recycled pid is never signalled).
func runsConfig(pid int, config string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(cmdline, []byte(config))
}
