package dev.editforge.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.spark.HadoopConf;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the finetune task's step, train loss and eval loss to the driver's console while it
 * trains. The training task runs on an executor, whose log the person who started the run does not
 * see; the one channel both ends share on every deployment is the run directory. So the task
 * rewrites a small JSON file of the loss history, {@code
 * <run-dir>/_work/finetune-<fp>/progress.json} ({@link Sink}), and the driver polls it ({@link
 * Tail}) and prints what is new. A Spark accumulator would reach the driver only with executor
 * heartbeats (10 s by default) and at task end; the file needs no Spark setting and works the same
 * under a local master.
 *
 * <p>The file holds {@code step}, {@code total_steps} and the runner's history ({@code
 * initial_eval_loss}, {@code train_loss} and {@code eval_loss} as {@code [step, loss]} pairs: the
 * shape of {@code trainer_log.json}).
 */
public final class TrainingProgress {
  public static final String FILE = "progress.json";

  /** How often the task rewrites the file at most, except after an eval and at the last step. */
  static final Duration WRITE_INTERVAL = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(TrainingProgress.class);

  private TrainingProgress() {}

  /**
   * The task's side: a {@link FinetuneRunner.ProgressSink} that rewrites the file (temporary name,
   * then rename, so the driver never reads half of it). Travels inside the task; not thread-safe
   * (the training loop calls it from one thread).
   */
  public static final class Sink implements FinetuneRunner.ProgressSink, Serializable {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final HadoopConf conf;
    private transient long lastWrite;

    public Sink(Path file, HadoopConf conf) {
      this.file = file.toString();
      this.conf = conf;
    }

    @Override
    public void update(int step, int totalSteps, JsonNode history, boolean evalMeasured) {
      long now = System.nanoTime();
      if (!evalMeasured
          && step < totalSteps
          && lastWrite != 0
          && now - lastWrite < WRITE_INTERVAL.toNanos()) {
        return;
      }
      lastWrite = now;
      ObjectNode doc = history.deepCopy();
      doc.put("step", step);
      doc.put("total_steps", totalSteps);
      Path target = new Path(file);
      Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
      try {
        FileSystem fs = target.getFileSystem(conf.get());
        try (OutputStream out = fs.create(tmp, true)) {
          out.write(Json.COMPACT.writeValueAsBytes(doc));
        }
        fs.delete(target, false);
        fs.rename(tmp, target);
      } catch (IOException e) {
        // progress is for people watching; training must not fail because it could not be shown
        LOG.warn("cannot write finetune progress to {}: {}", target, e.toString());
      }
    }
  }

  /**
   * The driver's side: a daemon thread polling the file every second that prints a line per eval
   * measurement ({@code finetune: step 40/200 train loss 1.2345 eval loss 1.3456}) and, between
   * them, the latest step at most every {@code interval} ({@code spark.progress-interval}). {@link
   * #close} stops it and prints whatever the file holds that was not printed yet, so the last step
   * always appears. The polling thread and the closing thread share the state through {@code
   * synchronized} methods.
   */
  public static final class Tail implements AutoCloseable {
    private final Path file;
    private final FileSystem fs;
    private final Consumer<String> say;
    private final long intervalNanos;
    private final Thread thread;
    private volatile boolean running = true;
    private int evalPrinted;
    private int lastPrintedStep = -1;
    private long lastPrintNanos = System.nanoTime();

    private Tail(Path file, FileSystem fs, Consumer<String> say, Duration interval) {
      this.file = file;
      this.fs = fs;
      this.say = say;
      this.intervalNanos = interval.toNanos();
      this.thread = new Thread(this::loop, "editforge-finetune-progress");
      this.thread.setDaemon(true);
    }

    /** Deletes a file a previous attempt left and starts polling for the new one. */
    public static Tail start(
        Path file,
        org.apache.hadoop.conf.Configuration conf,
        Consumer<String> say,
        Duration interval)
        throws IOException {
      FileSystem fs = file.getFileSystem(conf);
      fs.delete(file, false);
      Tail t = new Tail(file, fs, say, interval);
      t.thread.start();
      return t;
    }

    private void loop() {
      while (running) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
        if (running) {
          poll(false);
        }
      }
    }

    /** Reads the file and prints what is new; {@code last} prints the latest step regardless. */
    synchronized void poll(boolean last) {
      JsonNode doc = read();
      if (doc == null) {
        return;
      }
      int total = doc.path("total_steps").asInt();
      JsonNode train = doc.path("train_loss");
      JsonNode eval = doc.path("eval_loss");
      for (int i = evalPrinted; i < eval.size(); i++) {
        int step = eval.get(i).get(0).asInt();
        say.accept(
            String.format(
                Locale.ROOT,
                "finetune: step %d/%d train loss %s eval loss %.4f",
                step,
                total,
                trainLossAt(train, step),
                eval.get(i).get(1).asDouble()));
        lastPrintedStep = Math.max(lastPrintedStep, step);
        lastPrintNanos = System.nanoTime();
      }
      evalPrinted = eval.size();
      if (train.isEmpty()) {
        return;
      }
      JsonNode latest = train.get(train.size() - 1);
      int step = latest.get(0).asInt();
      if (step > lastPrintedStep && (last || System.nanoTime() - lastPrintNanos >= intervalNanos)) {
        say.accept(
            String.format(
                Locale.ROOT,
                "finetune: step %d/%d train loss %.4f",
                step,
                total,
                latest.get(1).asDouble()));
        lastPrintedStep = step;
        lastPrintNanos = System.nanoTime();
      }
    }

    private static String trainLossAt(JsonNode train, int step) {
      for (int i = train.size() - 1; i >= 0; i--) {
        if (train.get(i).get(0).asInt() == step) {
          return String.format(Locale.ROOT, "%.4f", train.get(i).get(1).asDouble());
        }
      }
      return "-";
    }

    private JsonNode read() {
      try (InputStream in = fs.open(file)) {
        return Json.COMPACT.readTree(in);
      } catch (IOException e) {
        // not there yet, or replaced while read: the next poll sees it
        return null;
      }
    }

    /** Stops polling and prints the rest. */
    @Override
    public void close() {
      running = false;
      thread.interrupt();
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      poll(true);
    }
  }
}
