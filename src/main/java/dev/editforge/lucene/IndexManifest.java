package dev.editforge.lucene;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code <run-dir>/index/manifest.json}: what the shards hold and how to search them, plus a
 * SHA-256 per shard over its files so a missing, partial or altered shard is found before any query
 * runs against it. Immutable.
 *
 * @param model embedding model name, or null for a BM25-only index
 * @param dimension vector dimension, 0 without vectors
 * @param similarity vector similarity ({@code cosine}, {@code dot-product}, {@code
 *     maximum-inner-product}), null without vectors
 * @param encoderPreset the encoder preset queries must be embedded with, null without vectors
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record IndexManifest(
    @JsonProperty("format_version") int formatVersion,
    @JsonProperty("shard_count") int shardCount,
    @JsonProperty("docs") long docs,
    @JsonProperty("model") String model,
    @JsonProperty("encoder_preset") String encoderPreset,
    @JsonProperty("dimension") int dimension,
    @JsonProperty("similarity") String similarity,
    @JsonProperty("analyzer") String analyzer,
    @JsonProperty("bm25_k1") double bm25K1,
    @JsonProperty("bm25_b") double bm25B,
    @JsonProperty("quantization") String quantization,
    @JsonProperty("hnsw_m") int hnswM,
    @JsonProperty("hnsw_beam_width") int hnswBeamWidth,
    @JsonProperty("shards") List<Shard> shards) {

  public static final String FILE_NAME = "manifest.json";
  public static final int FORMAT_VERSION = 1;

  /** One shard's entry. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Shard(
      @JsonProperty("shard") int shard,
      @JsonProperty("dir") String dir,
      @JsonProperty("docs") long docs,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("sha256") String sha256) {}

  private static final ObjectMapper JSON =
      Json.MAPPER.copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public IndexManifest {
    shards = List.copyOf(shards);
    if (shards.size() != shardCount) {
      throw new IllegalArgumentException(
          "manifest lists " + shards.size() + " shards but shard_count is " + shardCount);
    }
  }

  public boolean hasVectors() {
    return dimension > 0;
  }

  public void write(Path indexDir) {
    try {
      Files.createDirectories(indexDir);
      Path tmp = indexDir.resolve(FILE_NAME + ".tmp");
      JSON.writeValue(tmp.toFile(), this);
      // Rename last, so a reader never sees a half-written manifest.
      Files.move(
          tmp,
          indexDir.resolve(FILE_NAME),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + indexDir.resolve(FILE_NAME), e);
    }
  }

  public static IndexManifest read(Path indexDir) {
    Path file = indexDir.resolve(FILE_NAME);
    try {
      IndexManifest m = JSON.readValue(file.toFile(), IndexManifest.class);
      if (m.formatVersion() != FORMAT_VERSION) {
        throw new IndexVerificationException(
            List.of(
                file
                    + " has format_version "
                    + m.formatVersion()
                    + "; this build reads "
                    + FORMAT_VERSION));
      }
      return m;
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      throw new IndexVerificationException(
          List.of("no index manifest at " + file + ": the index was not finished"));
    } catch (IOException e) {
      throw new IndexVerificationException(
          List.of("unreadable index manifest " + file + ": " + e.getMessage()));
    }
  }

  /**
   * Every problem with the shards on disk compared to this manifest: missing shard directories,
   * checksum mismatches, shard directories the manifest does not know. Empty means intact. Reads
   * every byte of every shard (SHA-256), so it costs about a sequential read of the index.
   */
  public List<String> verify(Path indexDir) {
    List<String> problems = new ArrayList<>();
    for (Shard s : shards) {
      Path dir = indexDir.resolve(s.dir());
      if (!Files.isDirectory(dir)) {
        problems.add("shard " + s.shard() + " is missing: no directory " + dir);
        continue;
      }
      String actual = checksum(dir);
      if (!actual.equals(s.sha256())) {
        problems.add(
            "shard "
                + s.shard()
                + " ("
                + s.dir()
                + ") checksum mismatch: manifest "
                + s.sha256()
                + ", on disk "
                + actual);
      }
    }
    try (Stream<Path> entries = Files.list(indexDir)) {
      List<String> known = shards.stream().map(Shard::dir).toList();
      entries
          .filter(Files::isDirectory)
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("shard-") && !known.contains(n))
          .sorted()
          .forEach(n -> problems.add("shard directory " + n + " is not in the manifest"));
    } catch (IOException e) {
      problems.add("cannot list " + indexDir + ": " + e.getMessage());
    }
    return problems;
  }

  /** {@link #verify} that throws {@link IndexVerificationException} listing every problem. */
  public void verifyOrThrow(Path indexDir) {
    List<String> problems = verify(indexDir);
    if (!problems.isEmpty()) {
      throw new IndexVerificationException(problems);
    }
  }

  /**
   * SHA-256 over a shard directory's files in name order, each contributing its name, its length
   * and its bytes; Lucene's {@code write.lock} is skipped because it is not index content.
   */
  public static String checksum(Path shardDir) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (Path f : files(shardDir)) {
        md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(Long.toString(Files.size(f)).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        try (InputStream in = Files.newInputStream(f)) {
          int n;
          while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
          }
        }
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot checksum " + shardDir, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }

  /** Total bytes of a shard's files (write.lock excluded). */
  public static long directoryBytes(Path shardDir) {
    long total = 0;
    try {
      for (Path f : files(shardDir)) {
        total += Files.size(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot size " + shardDir, e);
    }
    return total;
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals("write.lock"))
          .sorted()
          .toList();
    }
  }

  /** The manifest serialized as JSON (for logs and the run manifest). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
