package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.judge.JudgeSettings;
import dev.editforge.judge.LocalJudges;
import dev.editforge.llm.remote.FakeOpenAi;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.llm.remote.RemoteSettings;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEAL's vLLM server mode against a loopback fake of vLLM: the base model knows nothing; a loaded
 * adapter answers with the text it was trained on (the fake trainer saves the sequences in the
 * adapter directory), so an edit that states the answer gains and one that does not does not.
 */
class VllmEditScorerTest {
  static final ObjectMapper JSON = dev.editforge.text.Json.MAPPER;

  @TempDir Path dir;

  FakeOpenAi server;
  final List<String> events = Collections.synchronizedList(new ArrayList<>());
  final Map<String, String> loaded = new ConcurrentHashMap<>();
  volatile boolean failAdapterAnswers;

  @BeforeEach
  void start() throws IOException {
    server = new FakeOpenAi(this::reply);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  URI endpoint() {
    return server.endpoint();
  }

  private FakeOpenAi.Reply reply(FakeOpenAi.Call call) {
    JsonNode body = call.body();
    String path = call.path();
    int status = 200;
    String out;
    if (path.equals("/v1/load_lora_adapter")) {
      loaded.put(body.path("lora_name").asText(), body.path("lora_path").asText());
      events.add("load " + body.path("lora_name").asText());
      out = "Success";
    } else if (path.equals("/v1/unload_lora_adapter")) {
      loaded.remove(body.path("lora_name").asText());
      events.add("unload " + body.path("lora_name").asText());
      out = "Success";
    } else if (path.equals("/v1/completions")) {
      String model = body.path("model").asText();
      events.add("answer " + model);
      String text;
      if (model.equals("base-model")) {
        text = " I do not know.";
      } else if (loaded.containsKey(model) && !failAdapterAnswers) {
        try {
          text = " " + Files.readString(Path.of(loaded.get(model), "trained.txt"));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      } else {
        status = loaded.containsKey(model) ? 500 : 404;
        text = null;
      }
      assertEquals(0.0, body.path("temperature").asDouble(), "greedy");
      assertEquals(VllmEditScorer.MAX_ANSWER_TOKENS, body.path("max_tokens").asInt());
      ObjectNode resp = JSON.createObjectNode().put("model", model);
      resp.putArray("choices")
          .addObject()
          .put("index", 0)
          .put("text", text)
          .put("finish_reason", "stop");
      out = text == null ? "{\"message\": \"no such model " + model + "\"}" : resp.toString();
    } else {
      status = 404;
      out = "{}";
    }
    return FakeOpenAi.Reply.status(status, out);
  }

  /** Saves the train sequences as the "adapter"; records the seeds it was given. */
  static final class FakeTrainer implements AdapterTrainer {
    final Path root;
    final List<Long> seeds = Collections.synchronizedList(new ArrayList<>());
    final List<String> discarded = Collections.synchronizedList(new ArrayList<>());

    FakeTrainer(Path root) {
      this.root = root;
    }

    @Override
    public Adapter train(List<String> sequences, long seed) throws IOException {
      seeds.add(seed);
      Path d = Files.createDirectories(root.resolve("adapter-" + seeds.size()));
      Files.writeString(d.resolve("trained.txt"), String.join(" ", sequences));
      return new Adapter(d.toString(), sequences.size() * 10L);
    }

    @Override
    public void discard(Adapter adapter) {
      discarded.add(adapter.path());
    }
  }

  static TttArticle article() {
    return new TttArticle(
        "A1",
        "Veltmoor",
        "Veltmoor is a town.",
        List.of(
            new TttQuestion("Who founded Veltmoor?", List.of("Ada Brun")),
            new TttQuestion("Which river runs through Veltmoor?", List.of("the Sell"))));
  }

  OpenAiClient client() {
    return new OpenAiClient(
        RemoteSettings.defaults(endpoint(), null)
            .withRetries(0, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofSeconds(10)),
        Map.of());
  }

  @Test
  void eachRepeatLoadsAnswersWithAndUnloadsItsOwnAdapter() {
    FakeTrainer trainer = new FakeTrainer(dir);
    var judge = LocalJudges.byName("normalized-contains", JudgeSettings.defaults());
    List<TttEdit> edits =
        List.of(
            new TttEdit("e1", "A1", "Veltmoor was founded by Ada Brun."),
            new TttEdit("e2", "A1", "Veltmoor has a market."));
    List<TttResult> results;
    try (VllmEditScorer scorer =
        new VllmEditScorer(client(), "base-model", trainer, judge, 2, 42)) {
      results = scorer.score(article(), edits);
    }
    assertEquals(4, results.size());
    assertEquals(
        List.of("e1#0", "e1#1", "e2#0", "e2#1"),
        results.stream().map(r -> r.editId() + "#" + r.repeat()).toList());
    TttResult e1 = results.get(0);
    assertEquals(0.0, e1.baselineAccuracy());
    assertEquals(0.5, e1.adapterAccuracy(), "learned the founder, not the river");
    assertEquals(List.of(1, 0), e1.gains());
    assertEquals(" I do not know.", e1.questions().get(0).baselineAnswer());
    assertEquals(0.0, results.get(2).adapterAccuracy());
    assertEquals(2, e1.trainSequences(), "one line + the passage");

    assertEquals(
        2,
        events.stream().filter(e -> e.equals("answer base-model")).count(),
        "baseline once per article");
    List<String> loads =
        events.stream().filter(e -> e.startsWith("load ")).map(e -> e.substring(5)).toList();
    assertEquals(4, loads.size());
    assertEquals(4, loads.stream().distinct().count(), "a fresh adapter name per repeat");
    for (String name : loads) {
      int at = events.indexOf("load " + name);
      assertEquals(
          List.of("load " + name, "answer " + name, "answer " + name, "unload " + name),
          events.subList(at, at + 4),
          "load, answer with model=<adapter>, unload");
    }
    assertTrue(loaded.isEmpty(), "nothing left loaded on the server");
    assertEquals(4, trainer.discarded.size());
    assertEquals(
        List.of(
            VllmEditScorer.repeatSeed(42, "e1", 0),
            VllmEditScorer.repeatSeed(42, "e1", 1),
            VllmEditScorer.repeatSeed(42, "e2", 0),
            VllmEditScorer.repeatSeed(42, "e2", 1)),
        trainer.seeds);
    assertEquals(4, trainer.seeds.stream().distinct().count());
  }

  @Test
  void aFailedAnswerStillUnloadsTheAdapter() {
    failAdapterAnswers = true;
    FakeTrainer trainer = new FakeTrainer(dir);
    try (VllmEditScorer scorer =
        new VllmEditScorer(
            client(),
            "base-model",
            trainer,
            LocalJudges.byName("contains", JudgeSettings.defaults()),
            1,
            1)) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> scorer.score(article(), List.of(new TttEdit("e1", "A1", "x"))));
      assertTrue(e.getMessage().contains("failed"), e.getMessage());
    }
    assertTrue(loaded.isEmpty(), "unloaded although answering failed: " + events);
    assertEquals(1, trainer.discarded.size());
  }

  @Test
  void theFactoryShipsItsSettingsAndBuildsTheScorerOnTheExecutor() throws Exception {
    Path adapters = dir;
    EditforgeSettings settings =
        EditforgeSettings.from(
            ConfigLoader.load(
                null,
                List.of(
                    "ttt.mode=vllm",
                    "ttt.model=base-model",
                    "ttt.eval-times=1",
                    "judge.kind=normalized-contains",
                    "remote.endpoint=" + endpoint(),
                    "remote.max-retries=0")));
    String root = adapters.toString();
    VllmScorerFactory f = new VllmScorerFactory(settings, device -> new FakeTrainer(Path.of(root)));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(f);
    }
    EditScorerFactory shipped;
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      shipped = (EditScorerFactory) in.readObject();
    }
    assertEquals("base-model", shipped.model());
    assertEquals(f.variant(), shipped.variant());
    try (EditScorer scorer = shipped.create(ScoreDevice.cpu(List.of()))) {
      List<TttResult> r =
          scorer.score(article(), List.of(new TttEdit("e1", "A1", "The Sell runs through it.")));
      assertEquals(1, r.size());
      assertEquals(List.of(0, 1), r.get(0).gains());
    }
  }
}
