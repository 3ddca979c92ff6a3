package dev.editforge.llm.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.llm.net.Backoff;
import dev.editforge.llm.net.Secrets;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Resolves a {@link ModelRef} to a local directory in Hugging Face layout, downloading from the hub
 * into the shared cache ({@link HubCache}) when needed. A hub model whose snapshot for the revision
 * is already complete is used without any request, so a branch such as {@code main} is resolved
 * once per cache and then stays put: pin a commit ({@code Org/Name@<sha>}) for reproducible runs,
 * or delete {@code refs/<branch>} to pick up a newer commit.
 *
 * <p>Owns one {@link HttpClient}; close it when done. Thread-safe: concurrent resolves of the same
 * model in one JVM, or in several JVMs sharing a cache, download each blob once (a lock file per
 * blob).
 */
public final class HubClient implements AutoCloseable {
  private static final ObjectMapper JSON = Json.COMPACT;
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Duration TICK = Duration.ofMillis(200);
  private static final int MAX_REDIRECTS = 10;
  private static final String USER_AGENT = "editforge/0.1; java/" + Runtime.version().feature();

  private final HubSettings settings;
  private final HubCache cache;
  private final HttpClient http;
  private final Consumer<String> log;
  private final Backoff backoff;
  private final ConcurrentHashMap<Path, ReentrantLock> blobLocks = new ConcurrentHashMap<>();

  public HubClient(HubSettings settings) {
    this(settings, LoggerFactory.getLogger(HubClient.class)::info);
  }

  /**
   * @param log where progress and cache decisions go (one line each; never the token)
   */
  public HubClient(HubSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.cache = new HubCache(settings.cacheDir());
    this.log = log;
    this.backoff = new Backoff(settings.initialBackoff(), settings.maxBackoff());
    // Redirects are followed by hand: the token must not travel to a CDN on another host, and
    // the hub's own 302 carries the file's metadata headers.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(settings.connectTimeout())
            .build();
  }

  public HubSettings settings() {
    return settings;
  }

  public HubCache cache() {
    return cache;
  }

  /** {@link #resolve(ModelRef)} of {@link ModelRef#parse(String)}. */
  public Path resolve(String ref) {
    return resolve(ModelRef.parse(ref));
  }

  /**
   * The local directory of a model: the directory itself, or the hub snapshot (downloaded first
   * unless complete in the cache, or refused in offline mode).
   */
  public Path resolve(ModelRef ref) {
    if (ref instanceof ModelRef.LocalDir local) {
      Path dir = local.dir().toAbsolutePath().normalize();
      if (!Files.isDirectory(dir)) {
        throw new HubException(
            HubException.Kind.NOT_FOUND, "model directory " + dir + " does not exist");
      }
      ModelFiles.checkLocalDir(dir);
      return dir;
    }
    ModelRef.HubRepo repo = (ModelRef.HubRepo) ref;
    Optional<Path> cached = cachedSnapshot(repo);
    if (cached.isPresent()) {
      log.accept("using cached " + repo + " at " + cached.get());
      return cached.get();
    }
    if (settings.offline()) {
      throw new HubException(
          HubException.Kind.NOT_CACHED,
          "HF_HUB_OFFLINE is set and "
              + repo
              + " is not in the cache "
              + cache.repoDir(repo)
              + " (no complete snapshot for that revision). Download it once with network access,"
              + " or point HF_HUB_CACHE / HF_HOME at a cache that has it.");
    }
    return download(repo);
  }

  /** The cached snapshot of {@code repo} if it is complete; never touches the network. */
  public Optional<Path> cachedSnapshot(ModelRef.HubRepo repo) {
    return cache
        .commitOf(repo)
        .map(sha -> cache.snapshotDir(repo, sha))
        .filter(HubCache::isComplete);
  }

  /** Downloads what editforge needs of {@code repo} (even if cached) and returns the snapshot. */
  public Path download(ModelRef.HubRepo repo) {
    if (settings.offline()) {
      throw new HubException(
          HubException.Kind.NOT_CACHED, "HF_HUB_OFFLINE is set: not downloading " + repo);
    }
    try {
      RepoInfo info = repoInfo(repo);
      ModelFiles.Plan plan = ModelFiles.plan(repo.repoId(), info.files());
      // Files are fetched at the commit the listing returned, so a branch that moves during a
      // long download cannot mix files of two commits.
      for (String f : plan.metadata()) {
        fetch(repo, info.sha(), f);
      }
      List<String> weights = plan.weights();
      if (plan.sharded()) {
        Path index = fetch(repo, info.sha(), ModelFiles.SHARD_INDEX);
        weights = ModelFiles.shardsOf(index);
        for (String shard : weights) {
          if (!info.files().contains(shard)) {
            throw new HubException(
                HubException.Kind.UNUSABLE,
                repo
                    + ": "
                    + ModelFiles.SHARD_INDEX
                    + " names "
                    + shard
                    + ", which the repository does not have");
          }
        }
      }
      for (String w : weights) {
        fetch(repo, info.sha(), w);
      }
      cache.writeRef(repo, info.sha());
      return cache.snapshotDir(repo, info.sha());
    } catch (IOException e) {
      throw new HubException(
          HubException.Kind.IO, "downloading " + repo + " failed: " + clean(e.getMessage()), e);
    }
  }

  /** What the listing API says about a revision. */
  public record RepoInfo(String sha, List<String> files) {}

  /** {@code GET /api/models/{repo}/revision/{revision}}: the commit and file names. */
  public RepoInfo repoInfo(ModelRef.HubRepo repo) {
    URI uri =
        URI.create(
            settings.endpoint()
                + "/api/models/"
                + repo.repoId()
                + "/revision/"
                + encode(repo.revision(), false));
    HttpResponse<String> r =
        withRetries(
            "listing " + repo,
            () -> {
              URI at = uri;
              for (int hop = 0; ; hop++) {
                HttpResponse<String> resp =
                    send(get(at).build(), HttpResponse.BodyHandlers.ofString());
                Optional<String> target = resp.headers().firstValue("Location");
                int sc = resp.statusCode();
                // Relative redirects only (a renamed repository), as huggingface_hub does.
                if (sc >= 300
                    && sc < 400
                    && target.isPresent()
                    && hop < MAX_REDIRECTS
                    && URI.create(target.get()).getHost() == null) {
                  at = at.resolve(target.get());
                  continue;
                }
                return checkRetryable(resp);
              }
            });
    requireOk(r, repo, null);
    try {
      JsonNode root = JSON.readTree(r.body());
      String sha = HubCache.requireCommit(root.path("sha").asText(null));
      List<String> files = new ArrayList<>();
      for (JsonNode s : root.path("siblings")) {
        files.add(s.path("rfilename").asText());
      }
      return new RepoInfo(sha, List.copyOf(files));
    } catch (IOException e) {
      throw new HubException(
          HubException.Kind.IO, "the hub's listing of " + repo + " is not valid JSON", e);
    }
  }

  /** Ensures {@code snapshots/<sha>/<file>} exists (downloading its blob if needed); returns it. */
  Path fetch(ModelRef.HubRepo repo, String sha, String file) throws IOException {
    Path pointer = cache.pointer(repo, sha, file);
    if (Files.isRegularFile(pointer)) {
      return pointer;
    }
    FileMeta meta = head(repo, sha, file);
    Path blob = cache.blob(repo, meta.etag());
    if (!Files.isRegularFile(blob)) {
      downloadBlob(repo, file, meta, blob);
    }
    HubCache.link(blob, pointer);
    return pointer;
  }

  /** The hub's answer to {@code HEAD resolve/...}: where the bytes are and how to check them. */
  record FileMeta(String commit, String etag, long size, URI location) {}

  FileMeta head(ModelRef.HubRepo repo, String sha, String file) {
    URI start =
        URI.create(
            settings.endpoint()
                + "/"
                + repo.repoId()
                + "/resolve/"
                + sha
                + "/"
                + encode(file, true));
    return withRetries(
        "HEAD " + repo.repoId() + "/" + file,
        () -> {
          URI uri = start;
          for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<Void> r =
                send(
                    request(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding());
            int sc = r.statusCode();
            URI location = uri;
            if (sc >= 300 && sc < 400) {
              URI target =
                  URI.create(
                      r.headers()
                          .firstValue("Location")
                          .orElseThrow(
                              () ->
                                  new HubException(
                                      HubException.Kind.IO,
                                      "redirect without Location for " + file)));
              if (target.getScheme() == null && target.getHost() == null) {
                uri = uri.resolve(target); // relative: a renamed repository, ask again there
                continue;
              }
              location =
                  target; // absolute: the CDN, and this 302 already carries the file's metadata
            } else {
              checkRetryable(r);
              requireOk(r, repo, file);
            }
            String etag =
                normalizeEtag(
                    r.headers()
                        .firstValue("X-Linked-Etag")
                        .orElse(r.headers().firstValue("ETag").orElse(null)));
            if (etag == null) {
              throw new HubException(
                  HubException.Kind.IO,
                  repo
                      + "/"
                      + file
                      + ": the server sent no ETag,"
                      + " so the download could not be verified or cached; is HF_ENDPOINT a Hugging Face hub?");
            }
            long size =
                r.headers()
                    .firstValue("X-Linked-Size")
                    .or(() -> r.headers().firstValue("Content-Length"))
                    .map(HubClient::parseLongOrMinus1)
                    .orElse(-1L);
            return new FileMeta(
                r.headers().firstValue("X-Repo-Commit").orElse(sha), etag, size, location);
          }
          throw new HubException(
              HubException.Kind.IO, "too many redirects for " + repo + "/" + file);
        });
  }

  private void downloadBlob(ModelRef.HubRepo repo, String file, FileMeta meta, Path blob)
      throws IOException {
    Files.createDirectories(blob.getParent());
    Path incomplete = blob.resolveSibling(blob.getFileName() + ".incomplete");
    Path lockFile = blob.resolveSibling(blob.getFileName() + ".lock");
    // FileChannel locks are per process; the in-JVM lock keeps two threads of this JVM from
    // tripping over OverlappingFileLockException.
    ReentrantLock jvmLock = blobLocks.computeIfAbsent(blob, b -> new ReentrantLock());
    jvmLock.lock();
    try (FileChannel lc =
            FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lc.lock()) {
      if (Files.isRegularFile(blob)) {
        return; // someone else finished it while we waited
      }
      String what = repo.repoId() + "/" + file;
      withRetries(
          "download " + what,
          () -> {
            transfer(what, meta, incomplete);
            return null;
          });
      verify(what, meta, incomplete);
      HubCache.move(incomplete, blob);
    } finally {
      jvmLock.unlock();
    }
  }

  /** One attempt: resume {@code incomplete} from where it stops, or start over. */
  private void transfer(String what, FileMeta meta, Path incomplete) throws IOException {
    long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
    if (meta.size() >= 0 && have > meta.size()) {
      Files.delete(incomplete);
      have = 0;
    }
    if (meta.size() > 0 && have == meta.size()) {
      return; // complete already; verify() decides whether it is right
    }
    URI uri = meta.location();
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder b = request(uri).GET();
      if (have > 0) {
        b.header("Range", "bytes=" + have + "-");
      }
      BlobSink sink = new BlobSink(incomplete, have);
      HttpResponse<String> r = await(what, meta.size(), sink, http.sendAsync(b.build(), sink));
      int sc = r.statusCode();
      if (sc >= 300 && sc < 400 && r.headers().firstValue("Location").isPresent()) {
        uri = uri.resolve(r.headers().firstValue("Location").get());
        continue;
      }
      if (sc == 416) {
        Files.deleteIfExists(incomplete); // our partial file does not fit the server's: start over
        throw new Retry("HTTP 416 resuming " + what + "; restarting", null);
      }
      if (sink.accepted()) {
        long got = Files.size(incomplete);
        if (meta.size() >= 0 && got < meta.size()) {
          throw Retry.brokeOff(
              what + " broke off after " + got + " of " + meta.size() + " bytes", null);
        }
        if (meta.size() >= 0 && got > meta.size()) {
          Files.delete(incomplete);
          throw new Retry(
              what
                  + ": got "
                  + got
                  + " bytes, more than the announced "
                  + meta.size()
                  + "; restarting",
              null);
        }
        return;
      }
      checkRetryable(r);
      requireOk(r, null, what);
      throw new Retry("unexpected HTTP " + sc + " for " + what, null);
    }
    throw new HubException(HubException.Kind.IO, "too many redirects downloading " + what);
  }

  /**
   * Waits for a transfer, logging progress and aborting it when no byte arrives for readTimeout.
   */
  private HttpResponse<String> await(
      String what, long total, BlobSink sink, CompletableFuture<HttpResponse<String>> f)
      throws IOException {
    long start = System.nanoTime();
    long lastLog = start;
    long lastChange = start;
    long lastBytes = -1;
    while (true) {
      try {
        return f.get(TICK.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException tick) {
        IOException failure = sink.failure();
        if (failure != null) {
          f.cancel(true);
          throw failure;
        }
        long now = System.nanoTime();
        long bytes = sink.written();
        if (bytes != lastBytes) {
          lastBytes = bytes;
          lastChange = now;
        } else if (now - lastChange > settings.readTimeout().toNanos()) {
          sink.abort();
          f.cancel(true);
          throw Retry.brokeOff(
              what + ": no data for " + settings.readTimeout().toMillis() + " ms", null);
        }
        if (now - lastLog >= settings.progressInterval().toNanos()) {
          lastLog = now;
          log.accept(progress(what, sink.start() + bytes, total, bytes, now - start));
        }
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof UncheckedIOException u) {
          throw u.getCause();
        }
        throw Retry.brokeOff(
            what
                + " broke off after "
                + (sink.start() + sink.written())
                + " of "
                + (total < 0 ? "?" : total)
                + " bytes: "
                + clean(String.valueOf(c.getMessage())),
            c);
      } catch (InterruptedException e) {
        sink.abort();
        f.cancel(true);
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while downloading " + what, e);
      }
    }
  }

  /**
   * Size was checked by the transfer; here the content, when the etag is its sha256 (LFS files).
   */
  private void verify(String what, FileMeta meta, Path incomplete) throws IOException {
    if (SHA256.matcher(meta.etag()).matches()) {
      String actual = sha256(incomplete);
      if (!actual.equals(meta.etag())) {
        Files.deleteIfExists(incomplete);
        throw new HubException(
            HubException.Kind.INCOMPLETE,
            what
                + ": sha256 "
                + actual
                + " does not match the hub's "
                + meta.etag()
                + "; the partial file was removed, rerun to download it again");
      }
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  // ---- HTTP plumbing

  private HttpRequest.Builder get(URI uri) {
    return request(uri).GET();
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(settings.readTimeout())
            .header("User-Agent", USER_AGENT)
            .header("Accept-Encoding", "identity"); // sizes must be the bytes on disk
    if (settings.token() != null && sameOrigin(uri, settings.endpoint())) {
      b.header("Authorization", "Bearer " + settings.token());
    }
    return b;
  }

  private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler)
      throws IOException {
    try {
      return http.send(req, handler);
    } catch (HttpTimeoutException e) {
      throw new Retry(req.method() + " " + req.uri() + " timed out", e);
    } catch (IOException e) {
      // The JDK gives a refused or unresolvable connection no message: name its type instead.
      String why =
          e.getMessage() != null
              ? e.getMessage()
              : (e.getCause() != null && e.getCause().getMessage() != null
                  ? e.getCause().getMessage()
                  : "cannot connect (" + e.getClass().getSimpleName() + ")");
      throw new Retry(req.method() + " " + req.uri() + ": " + clean(why), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** 429 and 5xx are worth another try; everything else is decided by the caller. */
  private <T> HttpResponse<T> checkRetryable(HttpResponse<T> r) throws Retry {
    int sc = r.statusCode();
    if (sc == 429 || sc >= 500) {
      throw new Retry(
          "HTTP " + sc + " from " + r.uri().getHost(),
          null,
          Backoff.parseRetryAfter(
              r.headers().firstValue("Retry-After").orElse(null), Instant.now()),
          HubException.Kind.IO);
    }
    return r;
  }

  /** Turns a hub error status into a message that says what to do. */
  private void requireOk(HttpResponse<?> r, ModelRef.HubRepo repo, String file) {
    int sc = r.statusCode();
    if (sc >= 200 && sc < 300) {
      return;
    }
    String code = r.headers().firstValue("X-Error-Code").orElse("");
    String server =
        Secrets.snippet(
            r.headers().firstValue("X-Error-Message").orElse(""), 200, settings.token());
    String subject = repo != null ? repo.repoId() : file;
    String detail = server.isEmpty() ? "" : " (hub says: " + server + ")";
    if (sc == 401 || sc == 403 || "GatedRepo".equals(code)) {
      String hint =
          settings.token() == null
              ? "Set HF_TOKEN to a token with read access"
              : "The token in HF_TOKEN / HUGGING_FACE_HUB_TOKEN was sent but has no access to it";
      throw new HubException(
          HubException.Kind.UNAUTHORIZED,
          "HTTP "
              + sc
              + " for "
              + subject
              + ": the repository is gated or private (or does not exist). "
              + hint
              + "; for a gated model, also accept its license on the model page"
              + detail
              + ".");
    }
    if (sc == 404) {
      String what =
          switch (code) {
            case "RevisionNotFound" ->
                "revision " + (repo != null ? repo.revision() : "") + " not found in " + subject;
            case "EntryNotFound" -> "file " + file + " not found";
            case "RepoNotFound" -> "repository " + subject + " not found";
            default ->
                repo != null
                    ? "repository "
                        + repo.repoId()
                        + " or revision "
                        + repo.revision()
                        + " not found"
                    : "file " + file + " not found";
          };
      throw new HubException(
          HubException.Kind.NOT_FOUND, what + " at " + settings.endpoint() + detail);
    }
    throw new HubException(HubException.Kind.IO, "HTTP " + sc + " for " + subject + detail);
  }

  /** A failure worth retrying: connection trouble, timeouts, 429, 5xx, a broken-off body. */
  private static final class Retry extends IOException {
    final Optional<Duration> retryAfter;
    final HubException.Kind kind;

    Retry(String message, Throwable cause) {
      this(message, cause, Optional.empty(), HubException.Kind.IO);
    }

    Retry(String message, Throwable cause, Optional<Duration> retryAfter, HubException.Kind kind) {
      super(message, cause);
      this.retryAfter = retryAfter;
      this.kind = kind;
    }

    static Retry brokeOff(String message, Throwable cause) {
      return new Retry(message, cause, Optional.empty(), HubException.Kind.INCOMPLETE);
    }
  }

  @FunctionalInterface
  private interface Attempt<T> {
    T run() throws IOException;
  }

  private <T> T withRetries(String what, Attempt<T> attempt) {
    for (int retry = 0; ; retry++) {
      try {
        return attempt.run();
      } catch (Retry e) {
        if (retry >= settings.maxRetries()) {
          boolean partial = e.kind == HubException.Kind.INCOMPLETE;
          throw new HubException(
              e.kind,
              what
                  + " failed after "
                  + (retry + 1)
                  + " attempts: "
                  + clean(e.getMessage())
                  + (partial ? "; the partial file is kept and a rerun resumes it" : ""),
              e);
        }
        Duration wait = backoff.delay(retry, e.retryAfter, ThreadLocalRandom.current()::nextDouble);
        log.accept(
            what
                + ": "
                + clean(e.getMessage())
                + "; retry "
                + (retry + 1)
                + "/"
                + settings.maxRetries()
                + " in "
                + wait.toMillis()
                + " ms");
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new HubException(HubException.Kind.IO, what + " interrupted", ie);
        }
      } catch (IOException e) {
        throw new HubException(HubException.Kind.IO, what + " failed: " + clean(e.getMessage()), e);
      }
    }
  }

  // ---- small helpers

  private String clean(String s) {
    return Secrets.redact(s, settings.token());
  }

  static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null
        && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  /** {@code W/"abc"} and {@code "abc"} both mean {@code abc} (huggingface_hub does the same). */
  static String normalizeEtag(String etag) {
    if (etag == null) {
      return null;
    }
    String e = etag.trim();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    e = e.replace("\"", "");
    return e.isEmpty() ? null : e;
  }

  /** Percent-encodes a path (keeping '/' when {@code keepSlash}) with UTF-8, RFC 3986 style. */
  static String encode(String s, boolean keepSlash) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~'
          || (keepSlash && c == '/')) {
        out.append((char) c);
      } else {
        out.append('%').append(String.format(Locale.ROOT, "%02X", c));
      }
    }
    return out.toString();
  }

  private static long parseLongOrMinus1(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static String progress(String what, long done, long total, long bytesThisRun, long nanos) {
    double rate = bytesThisRun / Math.max(1e-9, nanos / 1e9);
    String pct = total > 0 ? String.format(Locale.ROOT, " (%.0f%%)", 100.0 * done / total) : "";
    return String.format(
        Locale.ROOT,
        "downloading %s: %s / %s%s at %s/s",
        what,
        human(done),
        total < 0 ? "?" : human(total),
        pct,
        human((long) rate));
  }

  static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  @Override
  public void close() {
    // HttpClient is AutoCloseable only from Java 21; on 17 its threads end once it is unreachable.
    if (http instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ignored) {
        // closing is best effort
      }
    }
  }

  /**
   * Streams a 200 or a 206 that continues our partial file into {@code incomplete}; any other
   * response is read as a (small) error text. Bytes are on disk as they arrive, so a transfer that
   * breaks off leaves a resumable partial file.
   */
  private static final class BlobSink implements HttpResponse.BodyHandler<String> {
    private final Path file;
    private final long have;
    private final AtomicLong written = new AtomicLong();
    private volatile boolean accepted;
    private volatile long start;
    private volatile Flow.Subscription subscription;
    private volatile FileChannel channel;
    private volatile IOException failure;

    BlobSink(Path file, long have) {
      this.file = file;
      this.have = have;
    }

    boolean accepted() {
      return accepted;
    }

    long written() {
      return written.get();
    }

    long start() {
      return start;
    }

    /** Set when the transfer failed on our side (disk) or must restart; the waiter polls it. */
    IOException failure() {
      return failure;
    }

    void abort() {
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
      closeChannel();
    }

    @Override
    public HttpResponse.BodySubscriber<String> apply(HttpResponse.ResponseInfo info) {
      int sc = info.statusCode();
      boolean resumes =
          sc == 206
              && have > 0
              && info.headers()
                  .firstValue("Content-Range")
                  .map(v -> v.trim().startsWith("bytes " + have + "-"))
                  .orElse(false);
      if (sc == 206 && !resumes) {
        // A range we did not ask for: drop the connection rather than read a body we can't use,
        // and start the file over on the next attempt.
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        failure = new Retry("the server answered a different byte range; restarting", null);
        return HttpResponse.BodySubscribers.fromSubscriber(new Writer(true), w -> "");
      }
      if (sc != 200 && !resumes) {
        return HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
      }
      try {
        channel =
            resumes
                ? FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                : FileChannel.open(
                    file,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      start = resumes ? have : 0;
      accepted = true;
      return HttpResponse.BodySubscribers.fromSubscriber(new Writer(false), w -> "");
    }

    private void closeChannel() {
      FileChannel c = channel;
      if (c != null) {
        try {
          c.close();
        } catch (IOException ignored) {
          // the size check after the transfer catches anything lost here
        }
      }
    }

    private final class Writer implements Flow.Subscriber<List<ByteBuffer>> {
      private final boolean refuse;

      Writer(boolean refuse) {
        this.refuse = refuse;
      }

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (refuse) {
          s.cancel();
        } else {
          s.request(1);
        }
      }

      @Override
      public void onNext(List<ByteBuffer> buffers) {
        try {
          for (ByteBuffer b : buffers) {
            while (b.hasRemaining()) {
              written.addAndGet(channel.write(b));
            }
          }
          subscription.request(1);
        } catch (IOException e) {
          failure = e;
          abort();
        }
      }

      @Override
      public void onError(Throwable t) {
        closeChannel();
      }

      @Override
      public void onComplete() {
        closeChannel();
      }
    }
  }
}
