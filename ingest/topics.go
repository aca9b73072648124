package ingest

import "github.com/cairn-dev/cairn/ingest/queue"

// Topics names the Kafka topic of each kind of telemetry.
type Topics struct {
	Metrics    string
	Logs       string
	Builds     string
	DeadLetter string
}

// TopicsFor returns the topics for a queue configuration.
func TopicsFor(cfg queue.Config) Topics {
	return Topics{Metrics: cfg.Topic("metrics"), Logs: cfg.Topic("logs"), Builds: cfg.Topic("builds"), DeadLetter: cfg.Topic("deadletter")}
}

// All lists every topic, for creating them at start.
func (t Topics) All() []string { return []string{t.Metrics, t.Logs, t.Builds, t.DeadLetter} }

// Data lists the topics writers consume.
func (t Topics) Data() []string { return []string{t.Metrics, t.Logs, t.Builds} }
