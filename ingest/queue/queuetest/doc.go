// Package queuetest gives tests Kafka brokers to talk to: the real broker
// that `make test` starts (CAIRN_TEST_KAFKA) or an in-process kfake
// cluster. Only _test.go files import it.
package queuetest
