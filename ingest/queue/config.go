package queue

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Config holds the Kafka settings shared by producers and consumers.
type Config struct {
	Brokers           string
	TopicPrefix       string
	Partitions        int
	ReplicationFactor int
	Compression       string
	BatchTimeout      time.Duration
	WriteTimeout      time.Duration
	MaxMessageBytes   int
	SessionTimeout    time.Duration
}

// RegisterFlags registers the Kafka flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Brokers, "kafka.brokers", "", "Comma-separated Kafka bootstrap brokers (host:port). Empty in 'cairn dev' means an in-process broker.")
	fs.StringVar(&c.TopicPrefix, "kafka.topic-prefix", "cairn.", "Prefix of the topics Cairn creates and uses: <prefix>metrics, <prefix>logs, <prefix>builds, <prefix>deadletter.")
	fs.IntVar(&c.Partitions, "kafka.partitions", 4, "Partitions of each topic Cairn creates. Existing topics keep theirs.")
	fs.IntVar(&c.ReplicationFactor, "kafka.replication-factor", 1, "Replication factor of each topic Cairn creates.")
	fs.StringVar(&c.Compression, "kafka.compression", "snappy", "Batch compression: none, gzip, snappy, lz4 or zstd. Snappy shrinks Cairn's messages about as much as lz4 and costs Cairn and the broker less CPU (docs/benchmarks.md).")
	fs.DurationVar(&c.BatchTimeout, "kafka.batch-timeout", 5*time.Millisecond, "How long the producer waits to fill a batch before sending it.")
	fs.DurationVar(&c.WriteTimeout, "kafka.write-timeout", 10*time.Second, "How long a produce may take before the receiver answers 503.")
	fs.IntVar(&c.MaxMessageBytes, "kafka.max-message-bytes", 512<<10, "Largest message the producer builds; a larger request is split. Keep below the broker's message.max.bytes.")
	fs.DurationVar(&c.SessionTimeout, "kafka.session-timeout", 10*time.Second, "Consumer group session timeout: how soon a crashed writer's partitions move to another.")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if len(c.BrokerList()) == 0 {
		errs = append(errs, errors.New("-kafka.brokers: no broker given"))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("-kafka.partitions: %d, must be at least 1", c.Partitions))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("-kafka.replication-factor: %d, must be at least 1", c.ReplicationFactor))
	}
	if _, err := c.compression(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxMessageBytes < 1024 {
		errs = append(errs, fmt.Errorf("-kafka.max-message-bytes: %d, must be at least 1024", c.MaxMessageBytes))
	}
	if c.WriteTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-kafka.write-timeout: %s, must be positive", c.WriteTimeout))
	}
	return errors.Join(errs...)
}

// BrokerList returns the brokers as a list, without empty entries.
func (c *Config) BrokerList() []string {
	var out []string
	for b := range strings.SplitSeq(c.Brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Topic returns the topic name for a kind of telemetry, e.g. "metrics".
func (c *Config) Topic(kind string) string { return c.TopicPrefix + kind }

func (c *Config) compression() (kafka.Compression, error) {
	switch c.Compression {
	case "none", "":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("-kafka.compression: unknown codec %q (want none, gzip, snappy, lz4 or zstd)", c.Compression)
}
