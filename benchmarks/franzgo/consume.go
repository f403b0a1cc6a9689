package main

// The consume mode (`franzgo consume ...`), consumer_bench's franz-go peer: it reads the
// given partitions of one topic from offset 0 with the harness's fetch settings (direct
// partition assignment, no group, nothing committed), looks at every record's value, and
// prints one RESULT line with its window (from client creation to the last record): records,
// value bytes, seconds, and this process's CPU (getrusage user+system).

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func consumeMain(args []string) {
	fs := flag.NewFlagSet("consume", flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "127.0.0.1:9092", "bootstrap broker host:port")
	topic := fs.String("topic", "", "topic")
	partitions := fs.Int("partitions", 1, "partitions 0..n-1 are read")
	records := fs.Int64("records", 5000000, "records to read (the topic's content)")
	fetchMaxBytes := fs.Int("fetch-max-bytes", 52428800, "fetch.max.bytes")
	partitionFetchBytes := fs.Int("partition-fetch-bytes", 1048576, "max.partition.fetch.bytes")
	fetchWaitMs := fs.Int("fetch-wait-ms", 500, "fetch.max.wait.ms")
	fetchMinBytes := fs.Int("fetch-min-bytes", 1, "fetch.min.bytes")
	pollRecords := fs.Int("poll-records", 10000, "most records one poll returns")
	noCRC := fs.Bool("no-crc", false, "do not check the batches' CRC")
	_ = fs.Parse(args)

	offsets := map[int32]kgo.Offset{}
	for p := 0; p < *partitions; p++ {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(*bootstrap),
		kgo.ClientID("consumer_bench"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{*topic: offsets}),
		kgo.FetchMaxBytes(int32(*fetchMaxBytes)),
		kgo.FetchMaxPartitionBytes(int32(*partitionFetchBytes)),
		kgo.FetchMaxWait(time.Duration(*fetchWaitMs) * time.Millisecond),
		kgo.FetchMinBytes(int32(*fetchMinBytes)),
	}
	if *noCRC {
		opts = append(opts, kgo.DisableFetchCRCValidation())
	}
	t0 := time.Now()
	cpu0 := cpuNanos()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer cl.Close()
	var n, bytes int64
	for n < *records {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		fetches := cl.PollRecords(ctx, *pollRecords)
		cancel()
		if errs := fetches.Errors(); len(errs) > 0 {
			fmt.Fprintf(os.Stderr, "fetch error: %v\n", errs[0].Err)
			os.Exit(1)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			bytes += int64(len(r.Value))
		})
	}
	seconds := time.Since(t0).Seconds()
	cpu := cpuNanos() - cpu0
	fmt.Printf("RESULT records=%d bytes=%d seconds=%.6f cpu_ns=%d\n", n, bytes, seconds, cpu)
}
