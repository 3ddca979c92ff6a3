package dev.editforge.llm.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenAiGeneratorTest {
  static final String KEY = "sk-test-SECRET-42";

  FakeOpenAi server;
  final List<String> logs = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws IOException {
    server = new FakeOpenAi();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  RemoteSettings settings() {
    return new RemoteSettings(
        server.endpoint(),
        "tiny",
        "EDITFORGE_TEST_KEY",
        4,
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        3,
        Duration.ofMillis(5),
        Duration.ofMillis(200));
  }

  /** A client with the test key and no jitter: a wait is then exactly what Retry-After asked. */
  OpenAiClient client(RemoteSettings s) {
    return new OpenAiClient(s, Map.of("EDITFORGE_TEST_KEY", KEY), logs::add, () -> 0.0);
  }

  static SamplingParams sampling(int n, List<String> stop) {
    return new SamplingParams(33, 0.7, 0.9, 0, n, stop, List.of(), 42L);
  }

  static GenerationRequest text(String prompt) {
    return GenerationRequest.text("id-" + prompt, prompt, SamplingParams.greedy(8));
  }

  @Test
  void textGoesToCompletionsAndChatToChatCompletionsWithSamplingPassedThrough() {
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      List<GenerationResult> out =
          g.generate(
              List.of(
                  GenerationRequest.text(
                      "t", "Tell a long story", sampling(3, List.of("\n\n", "END"))),
                  GenerationRequest.chat(
                      "c",
                      List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")),
                      sampling(1, List.of()))));

      GenerationResult t = out.get(0);
      assertEquals("t", t.requestId());
      assertEquals(
          List.of(
              "echo:Tell a long story#0", "echo:Tell a long story#1", "echo:Tell a long story#2"),
          t.completions().stream().map(x -> x.text()).toList(),
          "n choices, in index order");
      assertEquals(FinishReason.LENGTH, t.completions().get(0).finishReason());
      assertEquals(5, t.promptTokens());
      assertEquals(
          22,
          t.completions().stream().mapToInt(x -> x.completionTokens()).sum(),
          "usage total kept exact");
      GenerationResult chat = out.get(1);
      assertEquals("chat:Hi", chat.completions().get(0).text());
      assertEquals(FinishReason.STOP, chat.completions().get(0).finishReason());
    }
    JsonNode completion = server.calls("Tell a long story").get(0).body();
    assertEquals("/v1/completions", server.calls("Tell a long story").get(0).path());
    assertEquals("tiny", completion.path("model").asText());
    assertEquals(3, completion.path("n").asInt());
    assertEquals(33, completion.path("max_tokens").asInt());
    assertEquals(0.7, completion.path("temperature").asDouble());
    assertEquals(0.9, completion.path("top_p").asDouble());
    assertEquals(42, completion.path("seed").asLong());
    assertEquals("[\"\\n\\n\",\"END\"]", completion.path("stop").toString());
    assertFalse(completion.has("top_k"), "vLLM-only fields are sent only when set");
    FakeOpenAi.Call chatCall = server.calls("Hi").get(0);
    assertEquals("/v1/chat/completions", chatCall.path());
    assertEquals(
        "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}]",
        chatCall.body().path("messages").toString());
    assertFalse(chatCall.body().has("prompt"));
  }

  @Test
  void a429IsRetriedAfterTheServersRetryAfterCappedByMaxBackoff() {
    server.script =
        call ->
            call.attempt() == 1
                ? new FakeOpenAi.Reply(
                    429, Map.of("Retry-After", "30"), "{\"error\":{\"message\":\"slow down\"}}", 0)
                : null;
    long t0 = System.nanoTime();
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      GenerationResult r = g.generate(List.of(text("p"))).get(0);
      assertTrue(r.ok(), r.error());
      assertEquals("echo:p", r.completions().get(0).text());
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(2, server.calls("p").size());
    // Without Retry-After the zero jitter would retry at once; 30 s is capped at max-backoff.
    assertTrue(ms >= 190 && ms < 5000, "waited " + ms + " ms");
    assertTrue(
        logs.stream().anyMatch(l -> l.contains("HTTP 429: slow down") && l.contains("in 200 ms")),
        logs.toString());
  }

  @Test
  void a503TwiceThenSuccessSucceeds() {
    server.script = call -> call.attempt() <= 2 ? FakeOpenAi.Reply.status(503, "overloaded") : null;
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      GenerationResult r = g.generate(List.of(text("q"))).get(0);
      assertTrue(r.ok(), r.error());
    }
    assertEquals(3, server.calls("q").size());
  }

  @Test
  void aRequestThatHangsPastTheTimeoutIsRetried() {
    server.script =
        call -> call.attempt() == 1 ? new FakeOpenAi.Reply(200, Map.of(), "{}", 3000) : null;
    RemoteSettings s =
        settings()
            .withRetries(2, Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(400));
    long t0 = System.nanoTime();
    try (OpenAiClient c = client(s);
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      GenerationResult r = g.generate(List.of(text("slow"))).get(0);
      assertTrue(r.ok(), r.error());
      assertEquals("echo:slow", r.completions().get(0).text());
    }
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 2500, "did not wait for the hung reply");
    assertEquals(2, server.calls("slow").size());
    assertTrue(
        logs.stream().anyMatch(l -> l.contains("no response within 400 ms")), logs.toString());
  }

  @Test
  void aRowThatKeepsHangingFailsWhenItsTimeIsSpentNotAfterEveryRetry() {
    // Issue 17.13: request-timeout x (retries + 1) let one hung request hold a task ~50 minutes.
    server.script = call -> new FakeOpenAi.Reply(200, Map.of(), "{}", 30_000);
    RemoteSettings s =
        settings()
            .withRetries(100, Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(400))
            .withMaxRowTime(Duration.ofMillis(1000));
    long t0 = System.nanoTime();
    GenerationResult r;
    try (OpenAiClient c = client(s);
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      r = g.generate(List.of(text("hung"))).get(0);
    }
    assertFalse(r.ok());
    assertTrue(r.error().contains("remote.max-row-seconds = 1.0 s"), r.error());
    int calls = server.calls("hung").size();
    assertTrue(calls >= 2 && calls <= 4, "about 1000 / 400 attempts, not 101: " + calls);
    // Generous: without the cap this takes 101 x 400 ms.
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 15_000, "gave up at the row's limit");
  }

  @Test
  void aBackoffLongerThanWhatIsLeftOfTheRowFailsAtOnce() {
    server.script = call -> new FakeOpenAi.Reply(503, Map.of("Retry-After", "30"), "busy", 0);
    RemoteSettings s =
        settings()
            .withRetries(4, Duration.ofMillis(5), Duration.ofSeconds(60), Duration.ofSeconds(5))
            .withMaxRowTime(Duration.ofSeconds(2));
    GenerationResult r;
    try (OpenAiClient c = client(s);
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      r = g.generate(List.of(text("busy"))).get(0);
    }
    assertFalse(r.ok());
    assertTrue(r.error().contains("HTTP 503"), r.error());
    assertTrue(r.error().contains("remote.max-row-seconds = 2.0 s"), r.error());
    assertEquals(1, server.calls("busy").size(), "no 30 s sleep before a retry that cannot finish");
  }

  @Test
  void aPermanentFailureIsThatRequestsErrorWhileTheBatchSucceeds() {
    server.script =
        call ->
            call.key().equals("bad")
                ? FakeOpenAi.Reply.status(
                    500, "{\"object\":\"error\",\"message\":\"CUDA out of memory\"}")
                : null;
    List<GenerationRequest> batch =
        List.of(text("a"), text("b"), text("bad"), text("c"), text("d"));
    List<GenerationResult> out;
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      out = g.generate(batch);
    }
    assertEquals(
        List.of("id-a", "id-b", "id-bad", "id-c", "id-d"),
        out.stream().map(GenerationResult::requestId).toList());
    GenerationResult bad = out.get(2);
    assertFalse(bad.ok());
    assertTrue(bad.completions().isEmpty());
    assertTrue(
        bad.error().contains("HTTP 500")
            && bad.error().contains("CUDA out of memory")
            && bad.error().contains("after 4 attempts")
            && bad.error().contains("/v1/completions"),
        bad.error());
    assertEquals(4, server.calls("bad").size(), "1 try + max-retries 3");
    for (int i : new int[] {0, 1, 3, 4}) {
      assertTrue(out.get(i).ok(), out.get(i).error());
    }
  }

  @Test
  void aClientErrorIsNotRetried() {
    server.script =
        call -> FakeOpenAi.Reply.status(400, "{\"error\":{\"message\":\"prompt is too long\"}}");
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      GenerationResult r = g.generate(List.of(text("huge"))).get(0);
      assertTrue(r.error().contains("HTTP 400: prompt is too long"), r.error());
    }
    assertEquals(1, server.calls("huge").size());
  }

  @Test
  void connectionErrorsAreRetriedThenReported() throws IOException {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    RemoteSettings s = settings().withEndpoint(URI.create("http://127.0.0.1:" + deadPort + "/v1"));
    try (OpenAiClient c = client(s);
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      GenerationResult r = g.generate(List.of(text("x"))).get(0);
      assertFalse(r.ok());
      assertTrue(
          r.error().contains("ConnectException") && r.error().contains("after 4 attempts"),
          r.error());
    }
    assertEquals(3, logs.size(), "one line per retry");
  }

  @Test
  void neverMoreRequestsInFlightThanTheLimit() {
    server.delayMillis = 60;
    List<GenerationRequest> batch = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      batch.add(text("p" + i));
    }
    try (OpenAiClient c = client(settings().withConcurrency(3));
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      assertTrue(g.generate(batch).stream().allMatch(GenerationResult::ok));
    }
    assertEquals(24, server.calls.size());
    assertTrue(server.maxInFlight.get() <= 3, "max in flight " + server.maxInFlight.get());
    assertTrue(
        server.maxInFlight.get() >= 2, "requests do run concurrently: " + server.maxInFlight.get());
  }

  @Test
  void theApiKeyIsSentButNeverLoggedOrPutInAnError() {
    // A server that echoes the credential back in its error must not make us repeat it.
    server.script =
        call ->
            FakeOpenAi.Reply.status(
                503, "{\"error\":{\"message\":\"bad auth " + call.authorization() + "\"}}");
    GenerationResult r;
    OpenAiClient leaked;
    try (OpenAiClient c = client(settings());
        OpenAiGenerator g = new OpenAiGenerator(c, null)) {
      leaked = c;
      r = g.generate(List.of(text("k"))).get(0);
      RemoteException e =
          assertThrows(RemoteException.class, () -> c.chat("judge this", SamplingParams.greedy(4)));
      assertFalse(e.getMessage().contains(KEY), e.getMessage());
      assertEquals(503, e.status());
    }
    assertTrue(
        server.calls.stream().allMatch(call -> ("Bearer " + KEY).equals(call.authorization())));
    assertFalse(r.error().contains(KEY), r.error());
    assertTrue(r.error().contains("bad auth Bearer ***"), r.error());
    assertFalse(logs.isEmpty());
    assertTrue(logs.stream().noneMatch(l -> l.contains(KEY)), logs.toString());
    assertFalse(leaked.toString().contains(KEY));
    assertFalse(settings().toString().contains(KEY), "settings hold the variable's name only");
  }

  @Test
  void noKeyVariableMeansNoAuthorizationHeader() {
    try (OpenAiClient c = new OpenAiClient(settings(), Map.of(), logs::add, () -> 0.0)) {
      assertEquals("chat:judge", c.chat("judge", SamplingParams.greedy(4)));
    }
    assertNull(server.calls.get(0).authorization());
  }

  @Test
  void loraAdaptersLoadAndUnloadAndServeUnderTheirName() {
    server.script =
        call ->
            call.path().endsWith("unload_lora_adapter") && call.key().equals("ghost")
                ? FakeOpenAi.Reply.status(
                    404, "{\"object\":\"error\",\"message\":\"adapter ghost not found\"}")
                : null;
    try (OpenAiClient c = client(settings())) {
      c.loadLoraAdapter("edit-7", "/runs/r1/adapters/edit-7");
      try (OpenAiGenerator g = new OpenAiGenerator(c, "edit-7")) {
        assertEquals("edit-7", g.modelName());
        assertTrue(g.generate(List.of(text("with lora"))).get(0).ok());
      }
      c.unloadLoraAdapter("edit-7");
      RemoteException e = assertThrows(RemoteException.class, () -> c.unloadLoraAdapter("ghost"));
      assertEquals(404, e.status());
      assertTrue(e.getMessage().contains("adapter ghost not found"), e.getMessage());
    }
    List<FakeOpenAi.Call> lora = server.calls("edit-7");
    assertEquals("/v1/load_lora_adapter", lora.get(0).path());
    assertEquals(
        "{\"lora_name\":\"edit-7\",\"lora_path\":\"/runs/r1/adapters/edit-7\"}",
        lora.get(0).body().toString());
    assertEquals("/v1/unload_lora_adapter", lora.get(1).path());
    assertEquals("{\"lora_name\":\"edit-7\"}", lora.get(1).body().toString());
    assertEquals("edit-7", server.calls("with lora").get(0).body().path("model").asText());
  }

  @Test
  void theBenchMeasuresAPositiveRate() {
    double rate = RemoteBench.promptsPerSecond(300, 4);
    assertTrue(rate > 0 && Double.isFinite(rate), "rate " + rate);
  }
}
