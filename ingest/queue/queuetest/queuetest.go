package queuetest

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EnvBrokers names the environment variable holding the real test broker.
const EnvBrokers = "CAIRN_TEST_KAFKA"

// Real returns the brokers of the real Kafka that `make test` starts. The
// test is skipped when CAIRN_TEST_KAFKA is unset and fails when the
// broker does not answer.
func Real(t testing.TB) string {
	t.Helper()
	brokers := os.Getenv(EnvBrokers)
	if brokers == "" {
		t.Skip(EnvBrokers + " not set; run `make test` to start a real Kafka broker")
	}
	conn, err := net.DialTimeout("tcp", firstBroker(brokers), 5*time.Second)
	if err != nil {
		t.Fatalf("%s=%s is set but unreachable: %v", EnvBrokers, brokers, err)
	}
	_ = conn.Close()
	return brokers
}

// Fake starts an in-process kfake cluster for the test's lifetime and
// returns its address.
func Fake(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// Each runs f against kfake and, when CAIRN_TEST_KAFKA is set, against the
// real broker too.
func Each(t *testing.T, f func(t *testing.T, brokers string)) {
	t.Run("kfake", func(t *testing.T) { f(t, Fake(t)) })
	if os.Getenv(EnvBrokers) != "" {
		t.Run("kafka", func(t *testing.T) { f(t, Real(t)) })
	}
}

// UniquePrefix returns a topic prefix no other test run uses, so tests on
// a shared broker never see each other's messages.
func UniquePrefix(t testing.TB) string {
	return fmt.Sprintf("test.%d.", time.Now().UnixNano())
}

func firstBroker(brokers string) string {
	for i := 0; i < len(brokers); i++ {
		if brokers[i] == ',' {
			return brokers[:i]
		}
	}
	return brokers
}
