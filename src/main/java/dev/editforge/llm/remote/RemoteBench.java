package dev.editforge.llm.remote;

import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The remote half of {@code editforge bench generate}: how many prompts per second the client side
 * can push through {@link OpenAiGenerator} when the server costs nothing. It starts a loopback
 * server that answers every completion at once with a canned reply, so the number is the client's
 * per-request overhead (JSON, HTTP, threads), the ceiling any real server is measured against.
 */
public final class RemoteBench {
  private static final byte[] REPLY =
      ("{\"id\":\"cmpl-bench\",\"object\":\"text_completion\",\"model\":\"bench\","
              + "\"choices\":[{\"index\":0,\"text\":\" an answer\",\"finish_reason\":\"stop\"}],"
              + "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,\"total_tokens\":11}}")
          .getBytes(StandardCharsets.UTF_8);

  private RemoteBench() {}

  /**
   * Sends {@code prompts} text prompts through a generator with {@code concurrency} requests in
   * flight (after a short warm-up) and returns prompts per second.
   *
   * @param prompts 1 to 100000
   * @param concurrency 1 to 256
   */
  public static double promptsPerSecond(int prompts, int concurrency) {
    if (prompts < 1 || prompts > 100_000 || concurrency < 1 || concurrency > 256) {
      throw new IllegalArgumentException(
          "prompts must be in [1, 100000] and concurrency in [1, 256]");
    }
    try (InstantServer server = new InstantServer()) {
      URI endpoint = URI.create("http://127.0.0.1:" + server.port() + "/v1");
      RemoteSettings settings =
          RemoteSettings.defaults(endpoint, "bench").withConcurrency(concurrency);
      try (OpenAiClient client = new OpenAiClient(settings, Map.of());
          OpenAiGenerator generator = new OpenAiGenerator(client, "bench")) {
        run(generator, Math.min(prompts, 200), "warm");
        long t0 = System.nanoTime();
        run(generator, prompts, "p");
        return prompts / ((System.nanoTime() - t0) / 1e9);
      }
    }
  }

  /**
   * A keep-alive HTTP/1.1 responder on a raw socket with TCP_NODELAY, answering each request with
   * {@link #REPLY} in one write. Not com.sun.net.httpserver: it writes headers and body separately
   * without TCP_NODELAY, and Nagle plus delayed ACKs then add ~40 ms to every reply, which would
   * measure the fake server instead of the client. One thread per connection; the client opens at
   * most one per request in flight.
   */
  private static final class InstantServer implements AutoCloseable {
    private final ServerSocket socket;
    private final ExecutorService threads =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "bench-server");
              t.setDaemon(true);
              return t;
            });
    private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());

    InstantServer() {
      try {
        socket = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the loopback bench server", e);
      }
      threads.execute(this::accept);
    }

    int port() {
      return socket.getLocalPort();
    }

    private void accept() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          open.add(s);
          threads.execute(() -> serve(s));
        } catch (IOException closed) {
          return;
        }
      }
    }

    private static void serve(Socket s) {
      byte[] head =
          ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + REPLY.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1);
      byte[] response = new byte[head.length + REPLY.length];
      System.arraycopy(head, 0, response, 0, head.length);
      System.arraycopy(REPLY, 0, response, head.length, REPLY.length);
      try (s) {
        s.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = s.getOutputStream();
        while (true) {
          long length = 0;
          String line = readLine(in);
          if (line == null) {
            return; // the client closed the connection
          }
          while ((line = readLine(in)) != null && !line.isEmpty()) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
              length = Long.parseLong(line.substring(15).trim());
            }
          }
          if (line == null) {
            return;
          }
          in.skipNBytes(length); // the prompt: irrelevant to the reply
          out.write(response);
          out.flush();
        }
      } catch (IOException | RuntimeException e) {
        // the bench is over or the client went away
      }
    }

    private static String readLine(InputStream in) throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int c; (c = in.read()) >= 0; ) {
        if (c == '\n') {
          int n = sb.length();
          return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
        }
        sb.append((char) c);
      }
      return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing is best effort
      }
      synchronized (open) {
        for (Socket s : open) {
          try {
            s.close();
          } catch (IOException ignored) {
            // closing is best effort
          }
        }
      }
      threads.shutdownNow();
    }
  }

  private static void run(OpenAiGenerator generator, int count, String prefix) {
    SamplingParams sampling = SamplingParams.greedy(16);
    List<GenerationRequest> batch = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      batch.add(
          GenerationRequest.text(
              prefix + i, "Question " + i + ": what is the capital of France?", sampling));
    }
    for (GenerationResult r : generator.generate(batch)) {
      if (!r.ok()) {
        throw new IllegalStateException("bench request failed: " + r.error());
      }
    }
  }
}
