package dev.editforge.spark;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Progress of long stages: tasks done / total, rows read, rows/s and ETA for the running Spark job,
 * labelled with its job description (the stage name editforge sets). On a terminal one line is
 * redrawn every second; otherwise a plain line is logged every {@code interval}. Listener callbacks
 * run on Spark's listener thread; counters are atomic, so it is thread-safe.
 */
public final class ProgressListener extends SparkListener implements AutoCloseable {
  private final PrintStream out;
  private final boolean terminal;
  private final AtomicInteger totalTasks = new AtomicInteger();
  private final AtomicInteger doneTasks = new AtomicInteger();
  private final AtomicLong rows = new AtomicLong();
  private final AtomicInteger activeJobs = new AtomicInteger();
  private volatile String label = "";
  private volatile long startNanos;
  private volatile boolean drawn;
  private final ScheduledExecutorService ticker;

  public ProgressListener(PrintStream out, boolean terminal, Duration interval) {
    this.out = out;
    this.terminal = terminal;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "editforge-progress");
              t.setDaemon(true);
              return t;
            });
    long period = terminal ? 1000 : Math.max(1000, interval.toMillis());
    ticker.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    if (activeJobs.getAndIncrement() == 0) {
      totalTasks.set(0);
      doneTasks.set(0);
      rows.set(0);
      startNanos = System.nanoTime();
    }
    int tasks = 0;
    var it = jobStart.stageInfos().iterator();
    while (it.hasNext()) {
      tasks += it.next().numTasks();
    }
    totalTasks.addAndGet(tasks);
    String d =
        jobStart.properties() == null
            ? null
            : jobStart.properties().getProperty("spark.job.description");
    label = d == null ? "spark job " + jobStart.jobId() : d;
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    doneTasks.incrementAndGet();
    TaskMetrics m = taskEnd.taskMetrics();
    if (m != null) {
      rows.addAndGet(m.inputMetrics().recordsRead() + m.shuffleReadMetrics().recordsRead());
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd jobEnd) {
    if (activeJobs.decrementAndGet() <= 0) {
      activeJobs.set(0);
      if (terminal && drawn) {
        synchronized (out) {
          out.print("\r\033[K");
          out.flush();
        }
        drawn = false;
      }
    }
  }

  /** The current progress line, or null when no job runs. */
  public String line() {
    if (activeJobs.get() == 0) {
      return null;
    }
    int total = totalTasks.get();
    int done = doneTasks.get();
    double secs = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
    long r = rows.get();
    String eta =
        done == 0 || done >= total ? "--:--" : clock((long) (secs * (total - done) / done));
    return String.format(
        Locale.ROOT,
        "[%s] tasks %d/%d · %,d rows · %,.0f rows/s · elapsed %s · ETA %s",
        label,
        done,
        total,
        r,
        r / secs,
        clock((long) secs),
        eta);
  }

  private void tick() {
    String line = line();
    if (line == null) {
      return;
    }
    synchronized (out) {
      if (terminal) {
        out.print("\r\033[K" + line);
        drawn = true;
      } else {
        out.println(line);
      }
      out.flush();
    }
  }

  private static String clock(long seconds) {
    return seconds >= 3600
        ? String.format(
            Locale.ROOT, "%d:%02d:%02d", seconds / 3600, (seconds / 60) % 60, seconds % 60)
        : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
