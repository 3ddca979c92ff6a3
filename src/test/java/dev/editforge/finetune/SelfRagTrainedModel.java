package dev.editforge.finetune;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.TinyModels;
import dev.editforge.selfrag.SelfRagPrompt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * A tiny Qwen2 fine-tuned once per test JVM with Self-RAG's 15 reflection tokens added, on
 * instructions in Self-RAG's prompt format: "Who founded X?" is answered with {@code
 * [Retrieval]<paragraph>…}, "Write a poem about X." with {@code [No Retrieval]…}. The added-token
 * training test checks what it learned; the Self-RAG inference tests run on it, so adaptive
 * retrieval is decided by a model that learned when to retrieve. Written into a temporary directory
 * removed when the JVM exits; thread-safe (one training, under the class lock).
 */
public final class SelfRagTrainedModel {
  static final String[] PLACES = {
    "Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi", "Quito", "Hanoi", "Accra", "Seoul", "Dakar",
    "Perth"
  };
  static final String[] TOPICS = {
    "rain", "snow", "love", "time", "the sea", "a cat", "spring", "night", "bread", "a song"
  };

  private static Path dir;
  private static FinetuneRunner.Result result;

  private SelfRagTrainedModel() {}

  public static String needsRetrievalQuestion(String place) {
    return "Who founded " + place + "?";
  }

  public static String noRetrievalInstruction(String topic) {
    return "Write a poem about " + topic + ".";
  }

  static String needsRetrieval(String place) {
    return SelfRagPrompt.prompt(needsRetrievalQuestion(place));
  }

  static String noRetrieval(String topic) {
    return SelfRagPrompt.prompt(noRetrievalInstruction(topic));
  }

  static List<SftRow> rows() {
    List<SftRow> out = new ArrayList<>();
    for (String p : PLACES) {
      out.add(
          SftRow.exchange(
              needsRetrieval(p),
              "[Retrieval]<paragraph>"
                  + p
                  + " is an old city by a river.</paragraph>[Relevant]A king.[Fully supported][Utility:5]",
              SftSource.SELF_EDIT,
              "r-" + p,
              1.0));
    }
    for (String t : TOPICS) {
      out.add(
          SftRow.exchange(
              noRetrieval(t),
              "[No Retrieval]Soft words.[Utility:4]",
              SftSource.SELF_EDIT,
              "n-" + t,
              1.0));
    }
    return out;
  }

  /** The training's result, training first if this JVM has not yet. */
  static synchronized FinetuneRunner.Result result() throws Exception {
    if (result == null) {
      Engine.getEngine("PyTorch");
      JniUtils.setNumThreads(1);
      dir = Files.createTempDirectory("selfrag-trained");
      dir.toFile().deleteOnExit();
      Path model = TinyModels.qwen2(dir.resolve("model"), TinyModels.Size.TINY, 12);
      FinetuneSettings s =
          FinetuneRunnerTest.settings(
              "added-tokens = [selfrag], chat-template = none, max-steps = 40, batch-size = 4,"
                  + " learning-rate = 0.01, eval-fraction = 0, checkpoint-every = 1000,"
                  + " warmup-steps = 2, max-length = 128,"
                  + " lora { rank = 8, alpha = 16, dropout = 0.0 }, seed = 3");
      Path work = dir.resolve("run");
      Files.createDirectories(work.resolve("out"));
      CheckpointStore store =
          new CheckpointStore(
              new org.apache.hadoop.fs.Path(work.resolve("ckpt").toUri()), new Configuration());
      result =
          new FinetuneRunner(s, m -> {})
              .run(
                  rows(),
                  model,
                  "tiny-qwen",
                  Device.cpu(),
                  store,
                  work.resolve("out"),
                  (a, b) -> {});
      Runtime.getRuntime().addShutdownHook(new Thread(SelfRagTrainedModel::delete));
    }
    return result;
  }

  /** The base model training started from (before the tokens were added). */
  static Path base() throws Exception {
    result();
    return dir.resolve("model");
  }

  /** The merged model (HF layout, tokenizer with the 15 tokens). */
  public static Path merged() throws Exception {
    result();
    return dir.resolve("run/out/merged");
  }

  static Path adapter() throws Exception {
    result();
    return dir.resolve("run/out/adapter");
  }

  private static void delete() {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
