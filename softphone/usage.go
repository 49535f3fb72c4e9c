package softphone

import (
	"syscall"
	"time"
)

// usage is this process's CPU time and peak memory (getrusage(2)).
type usage struct {
	user, sys time.Duration
	maxRSSKiB int64
}

func readUsage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	return usage{
		user:      time.Duration(ru.Utime.Nano()),
		sys:       time.Duration(ru.Stime.Nano()),
		maxRSSKiB: int64(ru.Maxrss), // KiB on Linux
	}
}

// sub gives the CPU time used since u0; the peak memory is the process's.
func (u usage) sub(u0 usage) usage {
	return usage{user: u.user - u0.user, sys: u.sys - u0.sys, maxRSSKiB: u.maxRSSKiB}
}
