// Command franzgo is producer_bench's franz-go peer: it sends the harness's payloads to one
// topic with the harness's settings (acks=all, idempotence, linger, batch and buffer sizes,
// compression) after a warm-up, counts every acknowledgement in the produce callback, and
// prints one RESULT line with the measured window: records, seconds, and this process's CPU
// (getrusage user+system: it is a process of its own, so that is the client's CPU).
//
// `franzgo consume ...` is consumer_bench's peer instead (consume.go).
//
// It is built only by benchmarks/run_producer_bench.sh and run_consumer_bench.sh; nothing in
// the library depends on it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func readPayloads(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	s := bufio.NewScanner(f)
	for s.Scan() {
		if len(s.Bytes()) > 0 {
			out = append(out, append([]byte(nil), s.Bytes()...))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no payloads in %s", path)
	}
	return out, s.Err()
}

func codec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("unknown compression %q", name)
}

type counter struct {
	acked, failed atomic.Int64
	firstErr      atomic.Value
	wg            sync.WaitGroup
}

// burst sends n records without waiting for each acknowledgement (Produce blocks only when
// the buffer limits are reached), then waits until every callback ran.
func burst(cl *kgo.Client, topic string, payloads [][]byte, n int64, c *counter) {
	ctx := context.Background()
	c.wg.Add(int(n))
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			c.firstErr.CompareAndSwap(nil, err.Error())
			c.failed.Add(1)
		} else {
			c.acked.Add(1)
		}
		c.wg.Done()
	}
	next := 0
	for i := int64(0); i < n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: payloads[next]}, done)
		if next++; next == len(payloads) {
			next = 0
		}
	}
	c.wg.Wait()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "consume" {
		consumeMain(os.Args[2:])
		return
	}
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "bootstrap broker host:port")
	topic := flag.String("topic", "", "topic (must exist)")
	records := flag.Int64("records", 2000000, "measured records")
	warmup := flag.Int64("warmup", 200000, "records before the clock starts")
	compression := flag.String("compression", "none", "none, gzip, snappy, lz4, zstd")
	lingerMs := flag.Int("linger-ms", 5, "linger")
	batchBytes := flag.Int("batch-bytes", 1048576, "largest batch")
	requestBytes := flag.Int("request-bytes", 1048576, "largest request (Java's max.request.size)")
	bufferBytes := flag.Int("buffer-bytes", 32<<20, "buffered bytes before Produce blocks")
	payloadFile := flag.String("payloads", "", "file of payloads, one a line")
	flag.Parse()

	payloads, err := readPayloads(*payloadFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cc, err := codec(*compression)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_ = requestBytes // franz-go bounds a request by BrokerMaxWriteBytes (100 MiB); batches by ProducerBatchMaxBytes.
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(*bootstrap),
		kgo.ClientID("producer_bench"),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent writes are franz-go's default
		// No MaxProduceRequestsInflightPerBroker: franz-go refuses it with idempotence and
		// chooses the in-flight limit itself.
		kgo.ProducerLinger(time.Duration(*lingerMs)*time.Millisecond),
		kgo.ProducerBatchMaxBytes(int32(*batchBytes)),
		kgo.ProducerBatchCompression(cc),
		kgo.MaxBufferedBytes(*bufferBytes),
		kgo.MaxBufferedRecords(1<<30), // the byte limit decides, as for the other clients
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer cl.Close()

	var warm counter
	burst(cl, *topic, payloads, *warmup, &warm)
	var c counter
	t0 := time.Now()
	cpu0 := cpuNanos()
	burst(cl, *topic, payloads, *records, &c)
	seconds := time.Since(t0).Seconds()
	cpu := cpuNanos() - cpu0
	failed := c.failed.Load() + warm.failed.Load()
	if failed > 0 {
		e := c.firstErr.Load()
		if e == nil {
			e = warm.firstErr.Load()
		}
		fmt.Fprintf(os.Stderr, "first error: %v\n", e)
	}
	fmt.Printf("RESULT records=%d failed=%d seconds=%.6f cpu_ns=%d\n", c.acked.Load(), failed, seconds, cpu)
}
