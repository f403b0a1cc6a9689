// rebalance_bench: a member process running the Java client's KafkaConsumer with the same
// settings as the C++ members (rebalance_bench_ours.cpp, rebalance_bench_rdkafka.cpp), driven as
// its documentation shows a group consumer: subscribe(topic, listener), poll(100 ms) in a loop,
// auto commit on. It takes the member command line of MemberSpec::to_args()
// (rebalance_bench_member.cpp) and writes the same event lines to stdout (rebalance_bench.hpp):
//   A|R|L <ns> <p,p,...|->   from the ConsumerRebalanceListener
//   C <ns> <p>               a poll() returned records of partition p
//   S <ns> -                 the consumer is constructed and subscribed (the driver only traces
//                            it: it shows how much of a join figure is the JVM's start-up)
//   E <message>              a fatal error; the member exits
// <ns> is System.nanoTime(), which HotSpot on Linux reads from clock_gettime(CLOCK_MONOTONIC),
// the clock of the driver's monotonic_ns().
//
// Built by benchmarks/CMakeLists.txt (javac, classpath the Kafka libs dir) and started by the
// driver as `java -cp <classes>:<libs>/* RebalanceMember <member options>`.
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class RebalanceMember {
  // The driver's pipe. System.out is pointed at stderr before any Kafka class loads, so that a
  // logging binding's console output (log4j's default configuration writes to System.out)
  // never mixes with the event lines.
  private static final FileOutputStream EVENTS = new FileOutputStream(FileDescriptor.out);

  private static final class Spec {
    String strategy = "range";
    String protocol = "classic";
    String bootstrap = "";
    String topic = "";
    String group = "";
    int index = 0;
    int sessionTimeoutMs = 6000;
    int heartbeatMs = 1000;
    int maxPollMs = 30000;
    int commitIntervalMs = 1000;
    int fetchWaitMs = 500;
  }

  private static Spec parse(String[] args) {
    Spec s = new Spec();
    for (int i = 0; i < args.length; i += 2) {
      String a = args[i];
      if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
      String v = args[i + 1];
      switch (a) {
        case "--client": break;  // "java": this program
        case "--strategy": s.strategy = v; break;
        case "--protocol": s.protocol = v; break;
        case "--bootstrap": s.bootstrap = v; break;
        case "--topic": s.topic = v; break;
        case "--group": s.group = v; break;
        case "--index": s.index = Integer.parseInt(v); break;
        case "--session-timeout-ms": s.sessionTimeoutMs = Integer.parseInt(v); break;
        case "--heartbeat-ms": s.heartbeatMs = Integer.parseInt(v); break;
        case "--max-poll-ms": s.maxPollMs = Integer.parseInt(v); break;
        case "--commit-interval-ms": s.commitIntervalMs = Integer.parseInt(v); break;
        case "--fetch-wait-ms": s.fetchWaitMs = Integer.parseInt(v); break;
        default: throw new IllegalArgumentException("unknown member option " + a);
      }
    }
    return s;
  }

  // One line, one write(2) (short lines, below PIPE_BUF, so they never interleave).
  private static synchronized void write(String line) {
    try {
      EVENTS.write(line.getBytes(StandardCharsets.US_ASCII));
      EVENTS.flush();
    } catch (IOException e) {
      // The driver is gone: nothing to tell.
    }
  }

  private static void report(char kind, long ns, Collection<Integer> partitions) {
    StringBuilder b = new StringBuilder(32 + partitions.size() * 4);
    b.append(kind).append(' ').append(ns).append(' ');
    boolean first = true;
    for (int p : partitions) {
      if (!first) b.append(',');
      b.append(p);
      first = false;
    }
    if (first) b.append('-');
    write(b.append('\n').toString());
  }

  private static void reportError(String message) {
    write(("E " + message).replace('\n', ' ') + "\n");
  }

  private static List<Integer> numbers(Collection<TopicPartition> tps) {
    return tps.stream().map(TopicPartition::partition).toList();
  }

  private static String assignorOf(String strategy) {
    switch (strategy) {
      case "range": return "org.apache.kafka.clients.consumer.RangeAssignor";
      case "cooperative-sticky": return "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
      default: throw new IllegalArgumentException("java: unknown strategy " + strategy);
    }
  }

  private static Properties configOf(Spec spec) {
    Properties p = new Properties();
    p.put("bootstrap.servers", spec.bootstrap);
    p.put("client.id", "rebalance_bench-" + spec.index);
    p.put("group.id", spec.group);
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    if (spec.protocol.equals("consumer")) {
      // KIP-848: the broker assigns and sets the session and heartbeat times
      // (group.consumer.*); this client refuses the classic options with it.
      p.put("group.protocol", "consumer");
    } else if (spec.protocol.equals("classic")) {
      p.put("group.protocol", "classic");
      p.put("partition.assignment.strategy", assignorOf(spec.strategy));
      p.put("session.timeout.ms", Integer.toString(spec.sessionTimeoutMs));
      p.put("heartbeat.interval.ms", Integer.toString(spec.heartbeatMs));
    } else {
      throw new IllegalArgumentException("java: unknown protocol " + spec.protocol);
    }
    // The JoinGroup rebalance timeout of the classic protocol, as librdkafka's.
    p.put("max.poll.interval.ms", Integer.toString(spec.maxPollMs));
    p.put("enable.auto.commit", "true");
    p.put("auto.commit.interval.ms", Integer.toString(spec.commitIntervalMs));
    p.put("auto.offset.reset", "latest");
    p.put("fetch.min.bytes", "1");
    p.put("fetch.max.wait.ms", Integer.toString(spec.fetchWaitMs));
    return p;
  }

  // Reports each change and keeps the partitions this member holds, to report consumption of
  // those only (as the driver counts them). Called on the polling thread, inside poll().
  private static final class Listener implements ConsumerRebalanceListener {
    final Set<Integer> held = new HashSet<>();

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
      report('R', System.nanoTime(), numbers(revoked));
      held.removeAll(numbers(revoked));
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
      report('A', System.nanoTime(), numbers(assigned));
      held.addAll(numbers(assigned));
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
      report('L', System.nanoTime(), numbers(lost));
      held.removeAll(numbers(lost));
    }
  }

  // SIGTERM (the shutdown hook) sets `stop` and wakes the consumer under `LOCK`, so once the
  // polling thread sees `stop` the wakeup has been asked for: it is taken by a poll before close.
  private static final Object LOCK = new Object();
  private static boolean stop = false;

  private static boolean stopped() {
    synchronized (LOCK) {
      return stop;
    }
  }

  private static void member(Spec spec) {
    Listener listener = new Listener();
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(configOf(spec));
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      synchronized (LOCK) {
        stop = true;
        consumer.wakeup();
      }
      try {
        main.join(15_000);  // the JVM exits when the hooks return: wait for close()
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    consumer.subscribe(List.of(spec.topic), listener);
    report('S', System.nanoTime(), List.of());
    boolean woken = false;
    try {
      while (!stopped()) {
        // 100 ms: how soon a stop is noticed without the wakeup, as the C++ members.
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        if (records.isEmpty()) continue;
        long now = System.nanoTime();  // handed to the application now
        for (TopicPartition tp : records.partitions()) {
          if (listener.held.contains(tp.partition())) report('C', now, List.of(tp.partition()));
        }
      }
    } catch (WakeupException e) {
      woken = true;
    }
    if (!woken) {
      // The loop saw `stop`, so wakeup() was called; a poll takes it if it is still pending,
      // which would otherwise interrupt close()'s commit.
      try {
        consumer.poll(Duration.ZERO);
      } catch (WakeupException e) {
        // taken
      }
    }
    // Commits and leaves the group (the listener reports the revoke).
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(8)));
  }

  public static void main(String[] args) {
    System.setOut(System.err);
    try {
      member(parse(args));
    } catch (Throwable t) {
      reportError("java: " + t);
      // Not System.exit: it would run the shutdown hook, which waits for this thread.
      Runtime.getRuntime().halt(1);
    }
  }
}
