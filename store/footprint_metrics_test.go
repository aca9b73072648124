package store_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// A deterministic, node_exporter-like data set for TestFootprint: what a
// Prometheus scraping a few Linux hosts every 15 s sends by remote write.
// Values evolve the way the real ones do, because that is what
// compression sees: counters of CPU ticks (1/100 s) and bytes, gauges of
// memory in whole KiB that drift, constants (sizes, build info), and a few
// noisy full-precision floats (scrape and GC durations, node_time).

const (
	scrapeInterval = 15_000 // ms
	footprintHosts = 3
	footprintCPUs  = 8
)

// nextFunc computes a series' next value from its current one.
type nextFunc func(r *rand.Rand, v float64) float64

type genSeries struct {
	ls   labels.Labels
	v    float64
	next nextFunc
}

// nodeHost is one simulated node_exporter target.
type nodeHost struct {
	r      *rand.Rand
	series []*genSeries
	offset int64 // ms: Prometheus spreads targets over the interval
	base   []string
}

func (h *nodeHost) add(name string, v float64, next nextFunc, kv ...string) {
	ls := labels.FromStrings(append(append([]string{"__name__", name}, h.base...), kv...)...)
	h.series = append(h.series, &genSeries{ls: ls, v: v, next: next})
}

// counter grows by rate per second (± jitter, a fraction), in steps of
// 1/div, as node_exporter reports ticks, bytes or packets.
func counter(rate, jitter, div float64) nextFunc {
	return func(r *rand.Rand, v float64) float64 {
		inc := rate * scrapeInterval / 1000 * (1 + jitter*r.NormFloat64())
		ticks := math.Round(v*div) + math.Max(0, math.Round(inc*div))
		return ticks / div
	}
}

// sometimes is a counter that moves only now and then (errors, drops).
func sometimes(p float64) nextFunc {
	return func(r *rand.Rand, v float64) float64 {
		if r.Float64() < p {
			return v + float64(1+r.IntN(3))
		}
		return v
	}
}

// walk is a gauge that changes with probability p by a normal step of sd,
// kept in [lo, hi] and rounded to multiples of q.
func walk(p, sd, lo, hi, q float64) nextFunc {
	return func(r *rand.Rand, v float64) float64 {
		if r.Float64() >= p {
			return v
		}
		v = math.Min(hi, math.Max(lo, v+sd*r.NormFloat64()))
		return math.Round(v/q) * q
	}
}

// noise is a fresh full-precision value around mean every scrape.
func noise(mean, sd float64) nextFunc {
	return func(r *rand.Rand, v float64) float64 {
		return math.Abs(mean + sd*r.NormFloat64())
	}
}

func constant(r *rand.Rand, v float64) float64 { return v }

func newNodeHost(i int) *nodeHost {
	h := &nodeHost{
		r:      rand.New(rand.NewPCG(uint64(i), 42)),
		offset: int64(1_000 + 4_321*i),
		base:   []string{"instance", fmt.Sprintf("node-%d.prod.example.com:9100", i+1), "job", "node"},
	}
	h.cpu()
	h.memory()
	h.filesystems()
	h.network()
	h.disks()
	h.system()
	h.exporter()
	return h
}

func (h *nodeHost) cpu() {
	uptime := 3e6 + h.r.Float64()*1e6
	modes := []struct {
		mode  string
		share float64
	}{{"idle", 0.78}, {"iowait", 0.01}, {"irq", 0}, {"nice", 0.002}, {"softirq", 0.008}, {"steal", 0}, {"system", 0.05}, {"user", 0.15}}
	for c := range footprintCPUs {
		cpu := fmt.Sprint(c)
		for _, m := range modes {
			share := m.share * (0.6 + 0.8*h.r.Float64())
			h.add("node_cpu_seconds_total", math.Round(uptime*share*100)/100, counter(share, 0.3, 100), "cpu", cpu, "mode", m.mode)
		}
		h.add("node_cpu_scaling_frequency_hertz", 2.8e9, walk(0.7, 4e8, 8e8, 3.6e9, 1000), "cpu", cpu)
	}
}

func (h *nodeHost) memory() {
	const total = 16 << 30
	for _, m := range []struct {
		name string
		v    float64
		next nextFunc
	}{
		{"MemTotal", total, constant}, {"MemFree", 2.1e9, walk(0.95, 8e6, 1e8, 8e9, 1024)},
		{"MemAvailable", 9.3e9, walk(0.95, 8e6, 1e9, 1.2e10, 1024)}, {"Buffers", 4.1e8, walk(0.6, 3e5, 1e8, 1e9, 1024)},
		{"Cached", 6.2e9, walk(0.9, 5e6, 1e9, 1e10, 1024)}, {"SwapCached", 0, constant},
		{"Active", 7.7e9, walk(0.9, 4e6, 1e9, 1.2e10, 1024)}, {"Inactive", 4.9e9, walk(0.9, 4e6, 1e9, 1e10, 1024)},
		{"Active_anon", 5.1e9, walk(0.9, 3e6, 1e9, 1e10, 1024)}, {"Inactive_anon", 2.6e8, walk(0.3, 1e5, 1e7, 1e9, 1024)},
		{"Active_file", 2.6e9, walk(0.8, 2e6, 1e8, 8e9, 1024)}, {"Inactive_file", 4.6e9, walk(0.8, 2e6, 1e8, 8e9, 1024)},
		{"Unevictable", 3.2e7, constant}, {"Mlocked", 3.2e7, constant},
		{"SwapTotal", 0, constant}, {"SwapFree", 0, constant},
		{"Dirty", 2.4e6, walk(1, 1e6, 0, 5e7, 1024)}, {"Writeback", 0, walk(0.05, 1e5, 0, 1e6, 1024)},
		{"AnonPages", 5.2e9, walk(0.9, 3e6, 1e9, 1e10, 1024)}, {"Mapped", 9.1e8, walk(0.5, 5e5, 1e8, 2e9, 1024)},
		{"Shmem", 2.1e8, walk(0.2, 1e5, 1e7, 1e9, 1024)}, {"KReclaimable", 5.5e8, walk(0.7, 2e5, 1e8, 1e9, 1024)},
		{"Slab", 8.8e8, walk(0.8, 3e5, 1e8, 2e9, 1024)}, {"SReclaimable", 5.5e8, walk(0.7, 2e5, 1e8, 1e9, 1024)},
		{"SUnreclaim", 3.3e8, walk(0.7, 1e5, 1e8, 1e9, 1024)}, {"KernelStack", 2.1e7, walk(0.4, 3e4, 1e7, 4e7, 16384)},
		{"PageTables", 4.4e7, walk(0.6, 1e5, 1e7, 1e8, 4096)}, {"NFS_Unstable", 0, constant},
		{"Bounce", 0, constant}, {"WritebackTmp", 0, constant},
		{"CommitLimit", 8.4e9, constant}, {"Committed_AS", 1.3e10, walk(0.8, 1e7, 1e9, 3e10, 1024)},
		{"VmallocTotal", 3.5e13, constant}, {"VmallocUsed", 6.1e7, walk(0.2, 1e5, 1e7, 1e8, 1024)},
		{"VmallocChunk", 0, constant}, {"Percpu", 1.1e7, constant},
		{"HardwareCorrupted", 0, constant}, {"AnonHugePages", 1.9e9, walk(0.3, 2.1e6, 0, 4e9, 2097152)},
		{"HugePages_Total", 0, constant}, {"HugePages_Free", 0, constant},
		{"Hugepagesize", 2097152, constant}, {"DirectMap4k", 4.5e8, constant}, {"DirectMap2M", 1.4e10, constant},
	} {
		name := "node_memory_" + m.name + "_bytes"
		if m.name == "HugePages_Total" || m.name == "HugePages_Free" {
			name = "node_memory_" + m.name
		}
		h.add(name, math.Round(m.v/1024)*1024, m.next)
	}
}

func (h *nodeHost) filesystems() {
	for _, fs := range []struct {
		dev, fstype, mount string
		size, used         float64
		churn              float64 // bytes per scrape
	}{
		{"/dev/nvme0n1p2", "ext4", "/", 2e11, 0.41, 2e5},
		{"/dev/nvme0n1p1", "vfat", "/boot/efi", 5.3e8, 0.01, 0},
		{"/dev/nvme1n1", "xfs", "/var/lib/docker", 1e12, 0.63, 3e6},
		{"tmpfs", "tmpfs", "/run", 1.7e9, 0.002, 1e3},
	} {
		kv := []string{"device", fs.dev, "fstype", fs.fstype, "mountpoint", fs.mount}
		size := math.Round(fs.size/4096) * 4096
		free := math.Round(size*(1-fs.used)/4096) * 4096
		next := constant
		if fs.churn > 0 {
			next = walk(0.5, fs.churn, 0, size, 4096)
		}
		h.add("node_filesystem_size_bytes", size, constant, kv...)
		h.add("node_filesystem_free_bytes", free, next, kv...)
		h.add("node_filesystem_avail_bytes", free-math.Round(size*0.05/4096)*4096, next, kv...)
		h.add("node_filesystem_files", math.Round(size/16384), constant, kv...)
		h.add("node_filesystem_files_free", math.Round(size/16384*0.9), walk(0.3, 20, 0, size/16384, 1), kv...)
		h.add("node_filesystem_readonly", 0, constant, kv...)
		h.add("node_filesystem_device_error", 0, constant, kv...)
	}
}

func (h *nodeHost) network() {
	for _, d := range []struct {
		dev       string
		rate, mtu float64
	}{{"eth0", 2.4e6, 1500}, {"lo", 3.1e5, 65536}, {"docker0", 8.2e5, 1500}} {
		kv := []string{"device", d.dev}
		for _, dir := range []string{"receive", "transmit"} {
			rate := d.rate * (0.5 + h.r.Float64())
			h.add("node_network_"+dir+"_bytes_total", math.Round(rate*3.2e6), counter(rate, 0.4, 1), kv...)
			h.add("node_network_"+dir+"_packets_total", math.Round(rate/900*3.2e6), counter(rate/900, 0.4, 1), kv...)
			h.add("node_network_"+dir+"_errs_total", 0, constant, kv...)
			h.add("node_network_"+dir+"_drop_total", float64(h.r.IntN(300)), sometimes(0.01), kv...)
		}
		h.add("node_network_up", 1, constant, kv...)
		h.add("node_network_mtu_bytes", d.mtu, constant, kv...)
	}
}

func (h *nodeHost) disks() {
	for _, dev := range []string{"nvme0n1", "nvme1n1"} {
		kv := []string{"device", dev}
		h.add("node_disk_reads_completed_total", 4.1e7, counter(30, 0.8, 1), kv...)
		h.add("node_disk_writes_completed_total", 1.9e8, counter(140, 0.5, 1), kv...)
		h.add("node_disk_read_bytes_total", 1.2e12, counter(30*16384, 0.8, 1/512.0), kv...)
		h.add("node_disk_written_bytes_total", 4.8e12, counter(140*24576, 0.5, 1/512.0), kv...)
		h.add("node_disk_io_time_seconds_total", 1.1e5, counter(0.04, 0.6, 1000), kv...)
		h.add("node_disk_read_time_seconds_total", 2.2e4, counter(0.01, 0.8, 1000), kv...)
		h.add("node_disk_write_time_seconds_total", 3.1e5, counter(0.09, 0.6, 1000), kv...)
		h.add("node_disk_io_now", 0, walk(0.3, 1, 0, 4, 1), kv...)
	}
}

func (h *nodeHost) system() {
	h.add("node_load1", 1.2, walk(0.98, 0.15, 0, 8, 0.01))
	h.add("node_load5", 1.1, walk(0.9, 0.05, 0, 8, 0.01))
	h.add("node_load15", 1.0, walk(0.7, 0.02, 0, 8, 0.01))
	h.add("node_procs_running", 2, walk(0.8, 1.5, 1, 12, 1))
	h.add("node_procs_blocked", 0, walk(0.1, 1, 0, 3, 1))
	h.add("node_context_switches_total", 2.1e10, counter(5200, 0.2, 1))
	h.add("node_intr_total", 1.4e10, counter(3100, 0.2, 1))
	h.add("node_forks_total", 3.3e7, counter(9, 0.5, 1))
	h.add("node_boot_time_seconds", 1.6966e9, constant)
	h.add("node_time_seconds", 0, nil) // set by scrape
	h.add("node_entropy_available_bits", 256, constant)
	h.add("node_filefd_allocated", 9824, walk(0.8, 40, 1000, 1e5, 32))
	h.add("node_filefd_maximum", 9.223372036854776e18, constant)
	h.add("node_uname_info", 1, constant, "machine", "x86_64", "release", "6.1.0-13-amd64", "sysname", "Linux")
	for _, m := range []struct {
		name string
		rate float64
	}{{"Tcp_ActiveOpens", 4}, {"Tcp_PassiveOpens", 11}, {"Tcp_InSegs", 2400}, {"Tcp_OutSegs", 2600},
		{"Tcp_RetransSegs", 0.4}, {"Udp_InDatagrams", 60}, {"Udp_OutDatagrams", 60}, {"Udp_InErrors", 0},
		{"Icmp_InMsgs", 0.2}, {"Icmp_OutMsgs", 0.2}, {"TcpExt_ListenDrops", 0}, {"TcpExt_TCPTimeouts", 0.05}} {
		h.add("node_netstat_"+m.name, math.Round(m.rate*3.2e6), counter(m.rate, 0.5, 1))
	}
	h.add("node_netstat_Tcp_CurrEstab", 120, walk(0.8, 4, 10, 1000, 1))
	for _, m := range []string{"TCP_alloc", "TCP_inuse", "TCP_orphan", "TCP_tw", "TCP_mem", "UDP_inuse", "UDP_mem", "sockets_used"} {
		h.add("node_sockstat_"+m, float64(50+h.r.IntN(400)), walk(0.7, 3, 0, 5000, 1))
	}
	h.add("node_sockstat_TCP_mem_bytes", 409600, walk(0.7, 12288, 0, 1e8, 4096))
	for _, m := range []struct {
		name string
		rate float64
	}{{"pgfault", 9000}, {"pgmajfault", 0.3}, {"pgpgin", 60}, {"pgpgout", 400}, {"pswpin", 0}, {"pswpout", 0}, {"oom_kill", 0}} {
		h.add("node_vmstat_"+m.name, math.Round(m.rate*3.2e6), counter(m.rate, 0.5, 1))
	}
	for _, s := range []string{"Package id 0", "Core 0", "Core 1", "Composite"} {
		h.add("node_hwmon_temp_celsius", 45, walk(0.4, 1, 30, 90, 1), "chip", "platform_coretemp_0", "sensor", s)
	}
}

func (h *nodeHost) exporter() {
	for _, c := range []string{"arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats",
		"edac", "entropy", "filefd", "filesystem", "hwmon", "loadavg", "meminfo", "netclass", "netdev",
		"netstat", "sockstat", "stat", "time", "uname", "vmstat", "xfs"} {
		h.add("node_scrape_collector_duration_seconds", 0, noise(0.0004, 0.0003), "collector", c)
		h.add("node_scrape_collector_success", 1, constant, "collector", c)
	}
	for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		h.add("go_gc_duration_seconds", 0, noise(4e-5, 2e-5), "quantile", q)
	}
	h.add("go_gc_duration_seconds_count", 48213, sometimes(0.4))
	h.add("go_goroutines", 8, walk(0.2, 1, 6, 12, 1))
	h.add("go_memstats_alloc_bytes", 3.1e6, walk(1, 4e5, 1e6, 8e6, 8))
	h.add("go_memstats_heap_inuse_bytes", 5.2e6, walk(0.8, 2e5, 2e6, 9e6, 8192))
	h.add("go_memstats_sys_bytes", 1.9e7, walk(0.02, 1e5, 1e7, 3e7, 65536))
	h.add("process_cpu_seconds_total", 4821.3, counter(0.012, 0.5, 100))
	h.add("process_resident_memory_bytes", 2.2e7, walk(0.7, 1e5, 1e7, 4e7, 4096))
	h.add("process_open_fds", 9, walk(0.1, 1, 7, 12, 1))
	h.add("process_start_time_seconds", 1.69660321e9, constant)
	h.add("up", 1, constant)
	h.add("scrape_duration_seconds", 0, noise(0.021, 0.006))
	h.add("scrape_samples_scraped", 0, nil) // set by scrape
	h.add("scrape_series_added", 0, constant)
}

// scrape returns the target's samples of scrape i, at its timestamp: the
// interval grid plus the target's offset plus, now and then, a few
// milliseconds of jitter, as Prometheus timestamps scrapes.
func (h *nodeHost) scrape(start int64, i int) (int64, []float64) {
	t := start + h.offset + int64(i)*scrapeInterval
	if h.r.IntN(10) == 0 {
		t += int64(1 + h.r.IntN(5))
	}
	vs := make([]float64, len(h.series))
	for j, s := range h.series {
		switch {
		case s.ls.Get("__name__") == "node_time_seconds":
			s.v = float64(t)/1000 + float64(h.r.IntN(1_000_000))/1e9
		case s.ls.Get("__name__") == "scrape_samples_scraped":
			s.v = float64(len(h.series) - 5)
		default:
			s.v = s.next(h.r, s.v)
		}
		vs[j] = s.v
	}
	return t, vs
}

// nodeBatches calls write with the batches that remote write would
// deliver for scrapes [0, n): every target's series, per chunk scrapes.
func nodeBatches(hosts []*nodeHost, start int64, n, chunk int, write func([]store.Series) error) error {
	for first := 0; first < n; first += chunk {
		var batch []store.Series
		for _, h := range hosts {
			ss := make([]store.Series, len(h.series))
			for j, s := range h.series {
				ss[j] = store.Series{Tenant: "acme", Labels: s.ls, Samples: make([]store.Sample, 0, chunk)}
			}
			for i := first; i < min(n, first+chunk); i++ {
				t, vs := h.scrape(start, i)
				for j, v := range vs {
					ss[j].Samples = append(ss[j].Samples, store.Sample{T: t, V: v})
				}
			}
			batch = append(batch, ss...)
		}
		if err := write(batch); err != nil {
			return err
		}
	}
	return nil
}
