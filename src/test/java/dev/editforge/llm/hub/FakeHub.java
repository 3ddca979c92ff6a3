package dev.editforge.llm.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback Hugging Face hub: the listing API, {@code resolve} with HEAD/GET, and a separate "CDN"
 * server (another origin) for LFS files, reached by a 302 as on the real hub. Faults are switched
 * on per test. Every request is recorded.
 */
final class FakeHub implements AutoCloseable {
  /** One commit of a repository. */
  record Commit(String sha, Map<String, byte[]> files, Set<String> lfs) {}

  /** A recorded request: server ("hub" or "cdn"), method, path, Authorization and Range headers. */
  record Seen(String server, String method, String path, String authorization, String range) {}

  private final HttpServer hub;
  private final ServerSocket cdn;
  private final ExecutorService pool = Executors.newFixedThreadPool(6);
  final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  final Map<String, Map<String, Commit>> repos =
      new ConcurrentHashMap<>(); // repo -> revision|sha -> commit
  final Map<String, String> gated = new ConcurrentHashMap<>(); // repo -> the token that opens it
  final Map<String, String> renamed = new ConcurrentHashMap<>(); // old repo id -> new repo id
  private final Map<String, byte[]> blobs = new ConcurrentHashMap<>(); // sha256 -> content

  /** CDN faults, consumed one per GET: "truncate", "corrupt", "stall". */
  final List<String> cdnFaults = Collections.synchronizedList(new ArrayList<>());

  final AtomicInteger stallMillis = new AtomicInteger(3000);

  FakeHub() throws IOException {
    hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    cdn = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    hub.createContext("/", this::hub);
    hub.setExecutor(pool);
    hub.start();
    pool.execute(this::cdnLoop);
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
  }

  /** Adds a commit reachable by its sha and by each of {@code revisions}. */
  Commit add(
      String repo, String sha, Map<String, byte[]> files, Set<String> lfs, String... revisions) {
    Commit c = new Commit(sha, new LinkedHashMap<>(files), lfs);
    Map<String, Commit> revs = repos.computeIfAbsent(repo, r -> new ConcurrentHashMap<>());
    revs.put(sha, c);
    for (String r : revisions) {
      revs.put(r, c);
    }
    for (String f : lfs) {
      blobs.put(sha256(files.get(f)), files.get(f));
    }
    return c;
  }

  int requests() {
    return seen.size();
  }

  List<Seen> seen(String server) {
    synchronized (seen) {
      return seen.stream().filter(s -> s.server().equals(server)).toList();
    }
  }

  private void hub(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      record(ex, "hub");
      for (Map.Entry<String, String> r : renamed.entrySet()) {
        String from = "/" + r.getKey() + "/";
        int at = path.indexOf(from);
        if (at >= 0 && (at == 0 || path.startsWith("/api/models/"))) {
          ex.getResponseHeaders()
              .set(
                  "Location",
                  path.substring(0, at)
                      + "/"
                      + r.getValue()
                      + "/"
                      + path.substring(at + from.length()));
          ex.sendResponseHeaders(307, -1);
          return;
        }
      }
      if (path.startsWith("/api/models/")) {
        String[] p =
            path.substring("/api/models/".length()).split("/", 4); // org, name, "revision", rev
        String repo = p[0] + "/" + p[1];
        Commit c = lookup(ex, repo, URLDecoder.decode(p[3], StandardCharsets.UTF_8));
        if (c == null) {
          return;
        }
        StringBuilder json =
            new StringBuilder(
                "{\"id\":\"" + repo + "\",\"sha\":\"" + c.sha() + "\",\"siblings\":[");
        int i = 0;
        for (String f : c.files().keySet()) {
          json.append(i++ == 0 ? "" : ",").append("{\"rfilename\":\"").append(f).append("\"}");
        }
        send(ex, 200, json.append("]}").toString().getBytes(StandardCharsets.UTF_8));
        return;
      }
      // /{org}/{name}/resolve/{rev}/{file...}
      String[] p = path.substring(1).split("/", 5);
      if (p.length < 5 || !p[2].equals("resolve")) {
        send(ex, 404, new byte[0]);
        return;
      }
      String repo = p[0] + "/" + p[1];
      Commit c = lookup(ex, repo, URLDecoder.decode(p[3], StandardCharsets.UTF_8));
      if (c == null) {
        return;
      }
      String file = URLDecoder.decode(p[4], StandardCharsets.UTF_8);
      byte[] body = c.files().get(file);
      if (body == null) {
        ex.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
        send(ex, 404, new byte[0]);
        return;
      }
      ex.getResponseHeaders().set("X-Repo-Commit", c.sha());
      if (c.lfs().contains(file)) {
        String sha = sha256(body);
        ex.getResponseHeaders()
            .set(
                "ETag",
                "\""
                    + gitSha1(
                        ("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha)
                            .getBytes())
                    + "\"");
        ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
        ex.getResponseHeaders().set("X-Linked-Size", String.valueOf(body.length));
        ex.getResponseHeaders()
            .set("Location", "http://127.0.0.1:" + cdn.getLocalPort() + "/blobs/" + sha);
        ex.sendResponseHeaders(302, -1);
        return;
      }
      ex.getResponseHeaders().set("ETag", "W/\"" + gitSha1(body) + "\"");
      if (ex.getRequestMethod().equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
        ex.sendResponseHeaders(200, -1);
      } else {
        send(ex, 200, body);
      }
    }
  }

  private Commit lookup(HttpExchange ex, String repo, String revision) throws IOException {
    Map<String, Commit> revs = repos.get(repo);
    String key = gated.get(repo);
    if (key != null
        && !("Bearer " + key).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
      ex.getResponseHeaders().set("X-Error-Code", "GatedRepo");
      // A hostile or careless server might echo the credential back; the client must not repeat it.
      ex.getResponseHeaders()
          .set(
              "X-Error-Message",
              "Access denied for " + ex.getRequestHeaders().getFirst("Authorization"));
      send(ex, 401, new byte[0]);
      return null;
    }
    if (revs == null) {
      ex.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
      send(ex, 404, new byte[0]);
      return null;
    }
    Commit c = revs.get(revision);
    if (c == null) {
      ex.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
      send(ex, 404, new byte[0]);
    }
    return c;
  }

  /**
   * The CDN speaks HTTP/1.1 over a raw socket, one request per connection, so that a fault can
   * really drop the connection mid-body (HttpServer keeps it open after a short body).
   */
  private void cdnLoop() {
    while (!cdn.isClosed()) {
      try {
        Socket s = cdn.accept();
        pool.execute(() -> cdnServe(s));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void cdnServe(Socket socket) {
    try (socket) {
      socket.setSoTimeout(5000);
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      String[] requestLine = in.readLine().split(" ");
      Map<String, String> headers = new LinkedHashMap<>();
      for (String line; (line = in.readLine()) != null && !line.isEmpty(); ) {
        int colon = line.indexOf(':');
        headers.put(
            line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
      }
      String path = requestLine[1];
      String range = headers.get("range");
      seen.add(new Seen("cdn", requestLine[0], path, headers.get("authorization"), range));
      OutputStream out = socket.getOutputStream();
      byte[] body =
          path.startsWith("/blobs/") ? blobs.get(path.substring("/blobs/".length())) : null;
      if (body == null) {
        out.write(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        return;
      }
      String fault = cdnFaults.isEmpty() ? "" : cdnFaults.remove(0);
      int from = 0;
      String head;
      if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
        from = Integer.parseInt(range.substring(6, range.length() - 1));
        if (from >= body.length) {
          out.write(
              "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
          return;
        }
        head =
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes "
                + from
                + "-"
                + (body.length - 1)
                + "/"
                + body.length
                + "\r\n";
      } else {
        head = "HTTP/1.1 200 OK\r\n";
      }
      int len = body.length - from;
      out.write(
          (head + "Content-Length: " + len + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      switch (fault) {
        case "truncate" -> out.write(body, from, len / 2); // then the socket closes: a short body
        case "stall" -> {
          out.write(body, from, len / 2);
          out.flush();
          Thread.sleep(stallMillis.get());
        }
        case "corrupt" -> {
          byte[] bad = body.clone();
          bad[bad.length - 1] ^= 0x5a;
          out.write(bad, from, len);
        }
        default -> out.write(body, from, len);
      }
      out.flush();
    } catch (IOException | InterruptedException | RuntimeException e) {
      // the client went away, or the test is over
    }
  }

  private void record(HttpExchange ex, String server) {
    seen.add(
        new Seen(
            server,
            ex.getRequestMethod(),
            ex.getRequestURI().getRawPath(),
            ex.getRequestHeaders().getFirst("Authorization"),
            ex.getRequestHeaders().getFirst("Range")));
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The git blob id, which the hub sends as the ETag of non-LFS files. */
  static String gitSha1(byte[] b) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-1");
      md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest(b));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    hub.stop(0);
    try {
      cdn.close();
    } catch (IOException ignored) {
      // nothing left to do
    }
    pool.shutdownNow();
  }
}
