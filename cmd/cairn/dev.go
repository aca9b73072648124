package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/cairn-dev/cairn/store/devserver"
)

const devSummary = "Run every role in one process with an in-process Kafka and a ClickHouse server it starts itself."

func runDev(ctx context.Context, args []string, e env) error {
	var cfg serveConfig
	var dataDir string
	fs := newFlagSet("dev", devSummary+"\nWith -kafka.brokers or -clickhouse.addr it uses those servers instead.", e.stdout)
	fs.StringVar(&dataDir, "data", ".cairn", "Directory for the in-process Kafka's log and the local ClickHouse server's data.")
	cfg.RegisterFlags(fs)
	clearDefault(fs, "clickhouse.addr", "ClickHouse native protocol address. Empty: start a local clickhouse-server with its data under -data.")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	logger, err := newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return usageError{err}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}

	kafkaNote := "external"
	if cfg.Kafka.Brokers == "" {
		cluster, err := kfake.NewCluster(
			kfake.NumBrokers(1),
			kfake.DataDir(filepath.Join(dataDir, "kafka")),
			kfake.SyncWrites(),
			kfake.DefaultNumPartitions(cfg.Kafka.Partitions),
			kfake.AllowAutoTopicCreation(),
		)
		if err != nil {
			return fmt.Errorf("start in-process kafka: %w", err)
		}
		defer cluster.Close()
		cfg.Kafka.Brokers = cluster.ListenAddrs()[0]
		kafkaNote = "in-process, log in " + filepath.Join(dataDir, "kafka")
	}
	chNote := "external"
	if cfg.ClickHouse.Addr == "" {
		srv, err := devserver.Start(ctx, devserver.Config{Dir: dataDir}, logger.With("component", "clickhouse-server"))
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				logger.Warn("stop_clickhouse", "err", err)
			}
		}()
		cfg.ClickHouse.Addr = srv.Addr()
		chNote = "local clickhouse-server, data in " + filepath.Join(dataDir, "clickhouse")
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	p, err := newPipeline(ctx, cfg, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stdout, `Cairn dev is running.
  Prometheus remote write:  %[1]s/api/v1/write   (1.0 and 2.0)
  OTLP/HTTP metrics:        %[1]s/v1/metrics
  Influx line protocol:     %[1]s/write, %[1]s/api/v2/write
  Loki push:                %[1]s/loki/api/v1/push
  NDJSON logs:              %[1]s/api/v1/logs
  PromQL (Grafana "Prometheus" datasource URL):  %[1]s
  Try:  curl '%[1]s/api/v1/query?query=up'
  Self-metrics:  %[1]s/metrics
  Kafka:       %[2]s (%[3]s)
  ClickHouse:  %[4]s (%[5]s)
Press Ctrl-C to stop.
`, base, cfg.Kafka.Brokers, kafkaNote, cfg.ClickHouse.Addr, chNote)
	return p.Run(ctx, ln)
}

// clearDefault makes a flag's default empty, for commands where empty
// means "start one yourself".
func clearDefault(fs *flag.FlagSet, name, usage string) {
	f := fs.Lookup(name)
	_ = f.Value.Set("")
	f.DefValue = ""
	f.Usage = usage
}
