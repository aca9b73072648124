package hostagent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"

	"github.com/cairn-dev/cairn/store"
)

// collector turns one reading of the host into series.
type collector struct {
	base   labels.Labels // job and instance
	series []store.Series
	now    int64
}

func (c *collector) add(name string, v float64, kv ...string) {
	b := labels.NewBuilder(c.base)
	b.Set(labels.MetricName, name)
	for i := 0; i+1 < len(kv); i += 2 {
		b.Set(kv[i], kv[i+1])
	}
	c.series = append(c.series, store.Series{Labels: b.Labels(), Samples: []store.Sample{{T: c.now, V: v}}})
}

// Collect reads the host's counters once. A source that fails is skipped
// and reported in the error; the series of the others are returned.
func Collect(ctx context.Context, job, instance string, now time.Time) ([]store.Series, error) {
	c := &collector{base: labels.FromStrings("job", job, "instance", instance), now: now.UnixMilli()}
	var errs []string
	for _, src := range []struct {
		name string
		f    func(context.Context, *collector) error
	}{
		{"cpu", collectCPU}, {"memory", collectMemory}, {"load", collectLoad},
		{"filesystem", collectFilesystems}, {"disk", collectDisks}, {"network", collectNetwork}, {"boot", collectBoot},
	} {
		if err := src.f(ctx, c); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", src.name, err))
		}
	}
	c.add("up", 1)
	if len(errs) > 0 {
		return c.series, fmt.Errorf("collect host metrics: %s", strings.Join(errs, "; "))
	}
	return c.series, nil
}

func collectCPU(ctx context.Context, c *collector) error {
	times, err := cpu.TimesWithContext(ctx, true)
	if err != nil {
		return err
	}
	for _, t := range times {
		id := strings.TrimPrefix(t.CPU, "cpu")
		for _, m := range []struct {
			mode string
			v    float64
		}{
			{"user", t.User}, {"system", t.System}, {"idle", t.Idle}, {"nice", t.Nice}, {"iowait", t.Iowait},
			{"irq", t.Irq}, {"softirq", t.Softirq}, {"steal", t.Steal},
		} {
			c.add("node_cpu_seconds_total", m.v, "cpu", id, "mode", m.mode)
		}
	}
	return nil
}

func collectMemory(ctx context.Context, c *collector) error {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return err
	}
	c.add("node_memory_MemTotal_bytes", float64(v.Total))
	c.add("node_memory_MemAvailable_bytes", float64(v.Available))
	c.add("node_memory_MemFree_bytes", float64(v.Free))
	c.add("node_memory_Buffers_bytes", float64(v.Buffers))
	c.add("node_memory_Cached_bytes", float64(v.Cached))
	c.add("node_memory_SwapTotal_bytes", float64(v.SwapTotal))
	c.add("node_memory_SwapFree_bytes", float64(v.SwapFree))
	return nil
}

func collectLoad(ctx context.Context, c *collector) error {
	l, err := load.AvgWithContext(ctx)
	if err != nil {
		return err
	}
	c.add("node_load1", l.Load1)
	c.add("node_load5", l.Load5)
	c.add("node_load15", l.Load15)
	return nil
}

func collectFilesystems(ctx context.Context, c *collector) error {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil {
		return err
	}
	for _, p := range parts {
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			continue // unreadable or pseudo filesystems
		}
		kv := []string{"device", p.Device, "fstype", p.Fstype, "mountpoint", p.Mountpoint}
		c.add("node_filesystem_size_bytes", float64(u.Total), kv...)
		c.add("node_filesystem_avail_bytes", float64(u.Free), kv...)
		c.add("node_filesystem_files", float64(u.InodesTotal), kv...)
		c.add("node_filesystem_files_free", float64(u.InodesFree), kv...)
	}
	return nil
}

func collectDisks(ctx context.Context, c *collector) error {
	io, err := disk.IOCountersWithContext(ctx)
	if err != nil {
		return err
	}
	for dev, d := range io {
		c.add("node_disk_read_bytes_total", float64(d.ReadBytes), "device", dev)
		c.add("node_disk_written_bytes_total", float64(d.WriteBytes), "device", dev)
		c.add("node_disk_reads_completed_total", float64(d.ReadCount), "device", dev)
		c.add("node_disk_writes_completed_total", float64(d.WriteCount), "device", dev)
		c.add("node_disk_io_time_seconds_total", float64(d.IoTime)/1000, "device", dev)
	}
	return nil
}

func collectNetwork(ctx context.Context, c *collector) error {
	ifs, err := net.IOCountersWithContext(ctx, true)
	if err != nil {
		return err
	}
	for _, n := range ifs {
		c.add("node_network_receive_bytes_total", float64(n.BytesRecv), "device", n.Name)
		c.add("node_network_transmit_bytes_total", float64(n.BytesSent), "device", n.Name)
		c.add("node_network_receive_errs_total", float64(n.Errin), "device", n.Name)
		c.add("node_network_transmit_errs_total", float64(n.Errout), "device", n.Name)
	}
	return nil
}

func collectBoot(ctx context.Context, c *collector) error {
	t, err := host.BootTimeWithContext(ctx)
	if err != nil {
		return err
	}
	c.add("node_boot_time_seconds", float64(t))
	return nil
}
