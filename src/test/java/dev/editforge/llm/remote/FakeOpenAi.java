package dev.editforge.llm.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one loopback OpenAI-compatible (vLLM-flavoured) server for tests: completions, chat
 * completions and vLLM's {@code load_lora_adapter}/{@code unload_lora_adapter}. By default it
 * echoes: a completion's text is {@code "echo:" + prompt}, a chat reply {@code "chat:" + last
 * message}. A test's {@link Script} can answer any call differently (status, headers, body, delay),
 * e.g. depending on how often that prompt was tried or on state the test keeps; the server records
 * every call and the most requests it ever had in flight.
 *
 * <p>Thread-safety: requests are handled on up to 32 threads at once, so a script must be
 * thread-safe; the recorded lists are synchronized. The test that creates the server closes it,
 * which stops the listener and interrupts handlers still sleeping in a delay.
 */
public final class FakeOpenAi implements AutoCloseable {
  public static final ObjectMapper JSON = new ObjectMapper();

  /** One received request; {@code key} is the prompt, the last chat message, or the LoRA name. */
  public record Call(String path, JsonNode body, String authorization, String key, int attempt) {
    public boolean chat() {
      return body.has("messages");
    }
  }

  /** A scripted answer; a null reply from the script means "the default echo". */
  public record Reply(int status, Map<String, String> headers, String body, long delayMillis) {
    public static Reply status(int status, String body) {
      return new Reply(status, Map.of(), body, 0);
    }

    /**
     * A 200 with one choice whose text is {@code text} (a chat message when the call was a chat
     * call) and a fixed usage of 10 prompt + 3 completion tokens.
     */
    public static Reply text(Call call, String text) {
      ObjectNode resp = JSON.createObjectNode().put("id", "x").put("object", "text_completion");
      ObjectNode c =
          resp.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
      if (call.chat()) {
        c.putObject("message").put("role", "assistant").put("content", text);
      } else {
        c.put("text", text);
      }
      resp.putObject("usage")
          .put("prompt_tokens", 10)
          .put("completion_tokens", 3)
          .put("total_tokens", 13);
      return new Reply(200, Map.of("Content-Type", "application/json"), resp.toString(), 0);
    }

    /** An OpenAI-style error body for {@code status}. */
    public static Reply error(int status) {
      return new Reply(
          status,
          Map.of("Content-Type", "application/json"),
          "{\"error\":{\"message\":\"scripted " + status + "\"}}",
          0);
    }

    public Reply delayed(long millis) {
      return new Reply(status, headers, body, millis);
    }
  }

  public interface Script {
    Reply reply(Call call);
  }

  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(32);
  public final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  public final AtomicInteger maxInFlight = new AtomicInteger();
  public volatile Script script = call -> null;
  public volatile long delayMillis;

  public FakeOpenAi() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", this::handle);
    server.setExecutor(pool);
    server.start();
  }

  public FakeOpenAi(Script script) throws IOException {
    this();
    this.script = script;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1");
  }

  /** The calls whose key is exactly {@code key}. */
  public List<Call> calls(String key) {
    synchronized (calls) {
      return calls.stream().filter(c -> c.key().equals(key)).toList();
    }
  }

  /** The calls whose key contains {@code part}. */
  public List<Call> callsContaining(String part) {
    synchronized (calls) {
      return calls.stream().filter(c -> c.key().contains(part)).toList();
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try (ex) {
      JsonNode body = JSON.readTree(ex.getRequestBody());
      String path = ex.getRequestURI().getPath();
      String key =
          body.has("prompt")
              ? body.path("prompt").asText()
              : body.has("messages")
                  ? body.path("messages")
                      .get(body.path("messages").size() - 1)
                      .path("content")
                      .asText()
                  : body.path("lora_name").asText();
      int attempt = attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      Call call =
          new Call(path, body, ex.getRequestHeaders().getFirst("Authorization"), key, attempt);
      calls.add(call);
      Reply reply = script.reply(call);
      if (reply == null) {
        reply = echo(call);
      }
      long delay = reply.delayMillis() + delayMillis;
      if (delay > 0) {
        Thread.sleep(delay);
      }
      reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        ex.getResponseBody().write(out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the client gave up (timeout tests); nobody is left to answer
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private static Reply echo(Call call) {
    if (call.path().endsWith("_lora_adapter")) {
      return Reply.status(200, "Success: LoRA adapter '" + call.key() + "' done.");
    }
    boolean chat = call.path().endsWith("/chat/completions");
    int n = call.body().path("n").asInt(1);
    ObjectNode resp =
        JSON.createObjectNode().put("id", "x").put("model", call.body().path("model").asText());
    ArrayNode choices = resp.putArray("choices");
    for (int i = n - 1; i >= 0; i--) { // out of order on purpose: the client sorts by index
      ObjectNode c = choices.addObject().put("index", i);
      String text = (chat ? "chat:" : "echo:") + call.key() + (n > 1 ? "#" + i : "");
      if (chat) {
        c.putObject("message").put("role", "assistant").put("content", text);
      } else {
        c.put("text", text);
      }
      c.put("finish_reason", call.key().contains("long") ? "length" : "stop");
    }
    resp.putObject("usage").put("prompt_tokens", 5).put("completion_tokens", 7 * n + 1);
    return Reply.status(200, resp.toString());
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
