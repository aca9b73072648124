//go:build unix && !linux

package devserver

import "syscall"

// procAttr puts the server in its own process group, so a Ctrl-C in the
// terminal reaches cairn only.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup signals the process group that pid leads.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}

// runsConfig cannot tell which program a pid runs without /proc, so a
// leftover server is never stopped here.
func runsConfig(int, string) bool { return false }
