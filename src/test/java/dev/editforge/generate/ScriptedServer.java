package dev.editforge.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.editforge.text.Json;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A fake OpenAI-compatible completions server on loopback for the generate stage tests: a script
 * maps each request body to a reply (status, text, delay). Bounded: 8 handler threads, stopped on
 * close.
 */
final class ScriptedServer implements AutoCloseable {
  static final ObjectMapper JSON = Json.MAPPER;

  /** A reply: HTTP status, completion text (for 200), and a delay before answering. */
  record Reply(int status, String text, long delayMillis) {
    static Reply ok(String text) {
      return new Reply(200, text, 0);
    }
  }

  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(8);
  final List<JsonNode> requests = Collections.synchronizedList(new ArrayList<>());

  ScriptedServer(Function<JsonNode, Reply> script) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", ex -> handle(ex, script));
    server.setExecutor(pool);
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** The prompt of a request (raw prompt or the last chat message). */
  static String prompt(JsonNode body) {
    return body.has("prompt") ? body.path("prompt").asText()
        : body.path("messages").get(body.path("messages").size() - 1).path("content").asText();
  }

  List<JsonNode> requests(String promptPart) {
    synchronized (requests) {
      return requests.stream().filter(r -> prompt(r).contains(promptPart)).toList();
    }
  }

  private void handle(HttpExchange ex, Function<JsonNode, Reply> script) throws IOException {
    try (ex) {
      JsonNode body = JSON.readTree(ex.getRequestBody());
      requests.add(body);
      Reply r = script.apply(body);
      if (r.delayMillis() > 0) {
        try {
          Thread.sleep(r.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      byte[] out;
      if (r.status() == 200) {
        ObjectNode resp = JSON.createObjectNode().put("id", "x").put("object", "text_completion");
        boolean chat = body.has("messages");
        ObjectNode c = resp.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
        if (chat) {
          c.putObject("message").put("role", "assistant").put("content", r.text());
        } else {
          c.put("text", r.text());
        }
        resp.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", 3).put("total_tokens", 13);
        out = JSON.writeValueAsBytes(resp);
      } else {
        out = ("{\"error\":{\"message\":\"scripted " + r.status() + "\"}}").getBytes(StandardCharsets.UTF_8);
      }
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(r.status(), out.length);
      ex.getResponseBody().write(out);
    } catch (IOException e) {
      // the client gave up (timeout test)
    }
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }
}
