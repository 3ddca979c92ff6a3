package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalGeneratorTest {
  @TempDir static Path dir;
  static LoadedDecoder llama;
  static LoadedDecoder qwen;
  static LoadedDecoder mistral;
  static final LlmSettings SETTINGS = LlmSettings.defaults();

  @BeforeAll
  static void load() {
    LlmTestSupport.oneEngineThread();
    llama =
        DecoderLoader.load(
            TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 21),
            Device.cpu(),
            DataType.FLOAT32);
    qwen =
        DecoderLoader.load(
            TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 22),
            Device.cpu(),
            DataType.FLOAT32);
    // A short sliding window so that decoding crosses it.
    Path m =
        TinyModels.write(
            dir.resolve("mistral"),
            TinyModels.Family.MISTRAL,
            TinyModels.config(TinyModels.Family.MISTRAL, TinyModels.Size.TINY).withSlidingWindow(8),
            23);
    mistral = DecoderLoader.load(m, Device.cpu(), DataType.FLOAT32);
  }

  @AfterAll
  static void close() {
    llama.close();
    qwen.close();
    mistral.close();
  }

  private static List<GenerationResult> run(
      LoadedDecoder d, LlmSettings s, GenerationRequest... requests) {
    LocalGenerator g = new LocalGenerator(d, s, false);
    return g.generate(List.of(requests));
  }

  private static Completion only(GenerationResult r) {
    assertTrue(r.ok(), r.error());
    assertEquals(1, r.completions().size());
    return r.completions().get(0);
  }

  private static SamplingParams sampled(int maxNew, long seed, int n) {
    return new SamplingParams(maxNew, 2.0, 0.95, 50, n, List.of(), List.of(), seed);
  }

  @Test
  void stories260KGreedyGenerationReproducesTheGoldenRun() throws IOException {
    Path model = SharedData.require("models/stories260K-hf");
    JsonNode golden = SharedData.json("golden/stories260K.json");
    String[][] cases = {
      {"", "'' n=200"}, {"Once upon a time", "'Once upon a time' n=64"}, {"Lily", "'Lily' n=30"}
    };
    try (LoadedDecoder stories = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (String[] c : cases) {
        JsonNode g = golden.get(c[1]);
        int newTokens = g.get("ids").size() - g.get("prompt_tokens").size();
        // llama2.c stops early only on BOS or EOS; EOS is the model's own stop id already.
        requests.add(
            GenerationRequest.text(
                c[1], c[0], new SamplingParams(newTokens, 0, 1, 0, 1, List.of(), List.of(1), 0)));
      }
      List<GenerationResult> batched =
          run(stories, SETTINGS, requests.toArray(new GenerationRequest[0]));
      for (int i = 0; i < cases.length; i++) {
        JsonNode g = golden.get(cases[i][1]);
        List<Integer> prompt = new ArrayList<>();
        g.get("prompt_tokens").forEach(n -> prompt.add(n.asInt()));
        List<Integer> expected = new ArrayList<>();
        g.get("ids").forEach(n -> expected.add(n.asInt()));
        List<Integer> expectedNew = expected.subList(prompt.size(), expected.size());
        assertEquals(
            prompt,
            java.util.Arrays.stream(stories.tokenizer().encode(cases[i][0])).boxed().toList(),
            "prompt encoding (BOS + dummy-prefix space) of " + cases[i][1]);
        GenerationResult one = run(stories, SETTINGS, requests.get(i)).get(0);
        for (GenerationResult r : List.of(batched.get(i), one)) {
          Completion c = only(r);
          assertEquals(prompt.size(), r.promptTokens());
          assertEquals(expectedNew, c.tokenIds(), cases[i][1]);
          assertEquals(g.get("text").asText(), cases[i][0] + c.text(), cases[i][1]);
          assertEquals(FinishReason.LENGTH, c.finishReason());
        }
      }
    }
  }

  @Test
  void generateTextPrintsTheGoldenContinuation() throws IOException {
    Path model = SharedData.require("models/stories260K-hf");
    JsonNode golden = SharedData.json("golden/stories260K.json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean ok =
        GenerateText.run(
            model,
            "Once upon a time",
            40,
            0.0,
            0,
            SETTINGS,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err);
    assertTrue(ok, "the request succeeded");
    String printed = out.toString(StandardCharsets.UTF_8).strip();
    String full = golden.get("'Once upon a time' n=64").get("text").asText();
    assertTrue(printed.length() > "Once upon a time".length() + 100, printed);
    assertTrue(
        full.startsWith(printed), "golden text starts with the printed 40-token run: " + printed);
  }

  /** Greedy decoding by recomputing the whole sequence each step: no cache, no padding. */
  private static List<Integer> recomputeGreedy(LoadedDecoder d, int[] prompt, int steps) {
    List<Integer> seq = new ArrayList<>();
    for (int id : prompt) {
      seq.add(id);
    }
    List<Integer> out = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      for (int s = 0; s < steps; s++) {
        try (NDManager step = m.newSubManager()) {
          NDArray ids =
              step.create(
                  seq.stream().mapToLong(Integer::longValue).toArray(), new Shape(1, seq.size()));
          float[] logits =
              d.model()
                  .forward(DecoderInput.training(ids, null).lastPositionOnly(true))
                  .toFloatArray();
          int next = Sampler.argMax(logits, 0, logits.length);
          out.add(next);
          seq.add(next);
          if (d.eosTokenIds().contains(next)) {
            break;
          }
        }
      }
    }
    return out;
  }

  @Test
  void kvCachedGenerationEqualsFullRecomputationTokenForToken() {
    for (LoadedDecoder d : List.of(llama, qwen, mistral)) {
      String prompt = "the rain in the north is a thing";
      Completion c =
          only(
              run(d, SETTINGS, GenerationRequest.text("a", prompt, SamplingParams.greedy(24)))
                  .get(0));
      assertTrue(c.tokenIds().size() >= 12, d.name() + " generated only " + c.tokenIds());
      assertEquals(recomputeGreedy(d, d.tokenizer().encode(prompt), 24), c.tokenIds(), d.name());
    }
  }

  @Test
  void batchedLeftPaddedGreedyEqualsOneAtATime() {
    String[] prompts = {
      "hi", "a longer prompt with several more words in it", "the end", "once more, with feeling"
    };
    for (LoadedDecoder d : List.of(llama, qwen, mistral)) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i = 0; i < prompts.length; i++) {
        requests.add(GenerationRequest.text("r" + i, prompts[i], SamplingParams.greedy(12 + i)));
      }
      List<GenerationResult> batched = run(d, SETTINGS, requests.toArray(new GenerationRequest[0]));
      for (int i = 0; i < prompts.length; i++) {
        Completion alone = only(run(d, SETTINGS, requests.get(i)).get(0));
        assertEquals("r" + i, batched.get(i).requestId());
        assertEquals(alone, only(batched.get(i)), d.name() + " prompt " + i);
      }
    }
  }

  @Test
  void sameSeedGivesSameTextWhateverElseIsInTheBatch() {
    GenerationRequest target = GenerationRequest.text("x", "the thing is", sampled(20, 42, 3));
    List<Completion> alone = run(qwen, SETTINGS, target).get(0).completions();
    List<GenerationResult> crowded =
        run(
            qwen,
            SETTINGS.withMaxBatchSize(3),
            GenerationRequest.text(
                "a",
                "a much longer prompt that changes the padding of the batch",
                sampled(9, 1, 2)),
            target,
            GenerationRequest.text("b", "on", sampled(30, 2, 1)));
    assertEquals(alone, crowded.get(1).completions());
    assertEquals(3, alone.size());
    assertTrue(
        alone.stream().map(Completion::text).distinct().count() > 1,
        "samples of one request differ");
    List<Completion> otherSeed =
        run(qwen, SETTINGS, GenerationRequest.text("x", "the thing is", sampled(20, 43, 3)))
            .get(0)
            .completions();
    assertNotEquals(alone, otherSeed);
  }

  @Test
  void stopStringCutsTheTextBeforeIt() {
    GenerationRequest plain = GenerationRequest.text("p", "in the", SamplingParams.greedy(40));
    Completion base = only(run(llama, SETTINGS, plain).get(0));
    String text = base.text();
    assertTrue(text.length() > 20, text);
    String stop = text.substring(12, 15);
    int at = text.indexOf(stop);
    SamplingParams withStop =
        new SamplingParams(40, 0, 1, 0, 1, List.of("@@never@@", stop), List.of(), 0);
    Completion c =
        only(run(llama, SETTINGS, GenerationRequest.text("p", "in the", withStop)).get(0));
    assertEquals(text.substring(0, at), c.text());
    assertEquals(FinishReason.STOP, c.finishReason());
    assertTrue(c.tokenIds().size() < base.tokenIds().size());
    assertEquals(base.tokenIds().subList(0, c.tokenIds().size()), c.tokenIds());
  }

  @Test
  void stopTokenIdEndsTheCompletionAndIsKeptInIdsButNotText() {
    GenerationRequest plain = GenerationRequest.text("p", "is it", SamplingParams.greedy(30));
    Completion base = only(run(mistral, SETTINGS, plain).get(0));
    int cut = 3;
    while (base.tokenIds().subList(0, cut).contains(base.tokenIds().get(cut))) {
      cut++;
    }
    int stopId = base.tokenIds().get(cut);
    SamplingParams p = new SamplingParams(30, 0, 1, 0, 1, List.of(), List.of(stopId), 0);
    Completion c = only(run(mistral, SETTINGS, GenerationRequest.text("p", "is it", p)).get(0));
    assertEquals(base.tokenIds().subList(0, cut + 1), c.tokenIds());
    assertEquals(FinishReason.STOP, c.finishReason());
    assertEquals(cut + 1, c.completionTokens());
    Completion prefix =
        only(
            run(mistral, SETTINGS, GenerationRequest.text("p", "is it", SamplingParams.greedy(cut)))
                .get(0));
    assertEquals(prefix.text(), c.text());
  }

  @Test
  void generationConfigEosStopsGeneration() throws IOException {
    Path model = TinyModels.qwen2(dir.resolve("qwen-eos"), TinyModels.Size.TINY, 22);
    Completion base;
    try (LoadedDecoder d = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      base =
          only(
              run(d, SETTINGS, GenerationRequest.text("p", "why", SamplingParams.greedy(20)))
                  .get(0));
    }
    int eos = base.tokenIds().get(4);
    int first = base.tokenIds().indexOf(eos);
    Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [" + eos + "]}");
    try (LoadedDecoder d = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      Completion c =
          only(
              run(d, SETTINGS, GenerationRequest.text("p", "why", SamplingParams.greedy(20)))
                  .get(0));
      assertEquals(base.tokenIds().subList(0, first + 1), c.tokenIds());
      assertEquals(FinishReason.STOP, c.finishReason());
    }
  }

  @Test
  void overLongPromptFailsAloneWhileTheBatchGoesOn() {
    LlmSettings small = SETTINGS.withContextWindow(24);
    String longPrompt = "x ".repeat(40);
    List<GenerationResult> results =
        run(
            qwen,
            small,
            GenerationRequest.text("ok1", "the", SamplingParams.greedy(5)),
            GenerationRequest.text("long", longPrompt, SamplingParams.greedy(5)),
            GenerationRequest.text("ok2", "in the rain", SamplingParams.greedy(50)));
    assertEquals(5, only(results.get(0)).tokenIds().size());
    assertFalse(results.get(1).ok());
    assertTrue(results.get(1).error().contains("context window is 24"), results.get(1).error());
    assertTrue(results.get(1).completions().isEmpty());
    GenerationResult capped = results.get(2);
    assertEquals(
        24 - capped.promptTokens(),
        only(capped).tokenIds().size(),
        "completion capped by the window");
    assertEquals(FinishReason.LENGTH, only(capped).finishReason());

    GenerationResult truncated =
        run(
                qwen,
                small.withTruncatePrompt(true),
                GenerationRequest.text("long", longPrompt, SamplingParams.greedy(5)))
            .get(0);
    assertEquals(
        19, truncated.promptTokens(), "the last window - max_new_tokens prompt tokens are kept");
    assertEquals(5, only(truncated).tokenIds().size());
  }

  @Test
  void chatRequestsAreRenderedWithTheModelTemplateOrAChosenBuiltIn() {
    List<ChatMessage> chat = List.of(ChatMessage.user("Say hi"));
    GenerationRequest r = GenerationRequest.chat("c", chat, SamplingParams.greedy(4));
    String qwenPrompt =
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
            + "<|im_end|>\n<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n";
    assertEquals(
        qwen.tokenizer().encode(qwenPrompt, false).length,
        run(qwen, SETTINGS, r).get(0).promptTokens());
    String chatml = "<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n";
    assertEquals(
        qwen.tokenizer().encode(chatml, false).length,
        run(qwen, SETTINGS.withChatTemplate("chatml"), r).get(0).promptTokens());
    // Llama 3's template starts with bos_token itself; no second BOS is added on encoding.
    int[] llamaIds =
        llama.tokenizer().encode(llama.chatTemplate("model").render(chat, true), false);
    assertEquals(
        1,
        java.util.Arrays.stream(llamaIds).filter(i -> i == llama.tokenizer().bosTokenId()).count());
    assertEquals(llamaIds.length, run(llama, SETTINGS, r).get(0).promptTokens());

    GenerationResult refused =
        run(
                mistral,
                SETTINGS,
                GenerationRequest.chat(
                    "s",
                    List.of(ChatMessage.system("be terse"), ChatMessage.user("hi")),
                    SamplingParams.greedy(4)),
                r)
            .get(0);
    assertFalse(refused.ok());
    assertTrue(refused.error().contains("refused the conversation"), refused.error());
  }

  @Test
  void chatRequestToAModelWithoutTemplateNamesTheSetting() throws IOException {
    Path model = TinyModels.llama(dir.resolve("base"), TinyModels.Size.TINY, 5);
    String cfg = Files.readString(model.resolve("tokenizer_config.json"));
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode node =
        (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(cfg);
    node.remove("chat_template");
    Files.writeString(model.resolve("tokenizer_config.json"), json.writeValueAsString(node));
    try (LoadedDecoder d = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      GenerationRequest r =
          GenerationRequest.chat("c", List.of(ChatMessage.user("hi")), SamplingParams.greedy(3));
      GenerationResult failed = run(d, SETTINGS, r).get(0);
      assertTrue(failed.error().contains("editforge.llm.chat-template"), failed.error());
      assertTrue(run(d, SETTINGS.withChatTemplate("plain"), r).get(0).ok());
    }
  }

  @Test
  void aTemplateOverItsLimitsFailsOnlyThatRequestWithTheReason() throws IOException {
    Path model = TinyModels.llama(dir.resolve("hostile"), TinyModels.Size.TINY, 5);
    ObjectMapper json = new ObjectMapper();
    com.fasterxml.jackson.databind.node.ObjectNode node =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            json.readTree(Files.readString(model.resolve("tokenizer_config.json")));
    // Harmless for short messages, so only the long one reaches the include.
    node.put(
        "chat_template",
        "{% if messages[0]['content']|length > 20 %}{% include 'core-default.xml' %}{% endif %}"
            + "{{ messages[0]['content'] }}");
    Files.writeString(model.resolve("tokenizer_config.json"), json.writeValueAsString(node));
    try (LoadedDecoder d = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      List<GenerationResult> out =
          run(
              d,
              SETTINGS,
              GenerationRequest.chat(
                  "long",
                  List.of(ChatMessage.user("a message longer than twenty characters")),
                  SamplingParams.greedy(2)),
              GenerationRequest.chat(
                  "short", List.of(ChatMessage.user("hi")), SamplingParams.greedy(2)));
      assertFalse(out.get(0).ok());
      assertTrue(
          out.get(0).error().contains("'core-default.xml' was not loaded"), out.get(0).error());
      assertTrue(out.get(1).ok(), "the other request goes on: " + out.get(1).error());
    }
  }

  @Test
  void zeroNewTokensAndEmptyPrompts() {
    Completion none =
        only(
            run(llama, SETTINGS, GenerationRequest.text("z", "hello", SamplingParams.greedy(0)))
                .get(0));
    assertEquals("", none.text());
    assertEquals(0, none.completionTokens());
    assertEquals(FinishReason.LENGTH, none.finishReason());
    GenerationResult empty =
        run(qwen, SETTINGS, GenerationRequest.text("e", "", SamplingParams.greedy(3))).get(0);
    assertFalse(empty.ok(), "qwen adds no BOS: nothing to start from");
    assertEquals(
        3,
        only(run(llama, SETTINGS, GenerationRequest.text("e", "", SamplingParams.greedy(3))).get(0))
            .tokenIds()
            .size(),
        "llama starts from its BOS");
  }

  @Test
  void perRequestAdaptersChangeOnlyTheirRequests() {
    ModelConfig c = llama.model().config();
    GenerationRequest[] requests = {
      GenerationRequest.text("base", "the rain", SamplingParams.greedy(12)),
      GenerationRequest.text("tuned", "the rain", SamplingParams.greedy(12)),
      GenerationRequest.text("base2", "in the north", SamplingParams.greedy(12))
    };
    List<GenerationResult> plain = run(llama, SETTINGS, requests);
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Projection p = Projection.V_PROJ;
      NDArray a = m.randomNormal(0, 1f, new Shape(4, p.inFeatures(c)), DataType.FLOAT32);
      NDArray b = m.randomNormal(0, 1f, new Shape(p.outFeatures(c), 4), DataType.FLOAT32);
      BatchDelta adapters =
          rows ->
              (layer, module, x) -> {
                if (!module.equals(p.moduleName())) {
                  return null;
                }
                float[] on = new float[rows.length];
                for (int i = 0; i < rows.length; i++) {
                  on[i] = rows[i] == 1 ? 1f : 0f;
                }
                NDArray rowWeights = x.getManager().create(on, new Shape(rows.length, 1, 1));
                return x.matMul(a.transpose()).matMul(b.transpose()).mul(rowWeights);
              };
      List<GenerationResult> tuned =
          new LocalGenerator(llama, SETTINGS, false).generate(List.of(requests), adapters);
      assertEquals(only(plain.get(0)), only(tuned.get(0)));
      assertEquals(only(plain.get(2)), only(tuned.get(2)));
      assertNotEquals(only(plain.get(1)).tokenIds(), only(tuned.get(1)).tokenIds());
    }
  }

  @Test
  void resultsComeBackInRequestOrderWithCounts() {
    List<GenerationResult> results =
        run(
            llama,
            SETTINGS.withMaxBatchSize(2),
            GenerationRequest.text("first", "a b c d e f g", sampled(6, 1, 2)),
            GenerationRequest.text("second", "a", sampled(3, 2, 1)),
            GenerationRequest.text("third", "a b c", sampled(4, 3, 3)));
    assertEquals(
        List.of("first", "second", "third"),
        results.stream().map(GenerationResult::requestId).toList());
    assertEquals(List.of(2, 1, 3), results.stream().map(r -> r.completions().size()).toList());
    assertEquals(llama.tokenizer().encode("a b c d e f g").length, results.get(0).promptTokens());
    for (GenerationResult r : results) {
      assertNull(r.error());
      for (Completion c : r.completions()) {
        assertEquals(c.tokenIds().size(), c.completionTokens());
      }
    }
  }
}
