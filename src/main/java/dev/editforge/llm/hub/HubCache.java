package dev.editforge.llm.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The huggingface_hub cache layout, shared with Python:
 *
 * <pre>
 * {cacheDir}/models--Org--Name/
 *   refs/{revision}               the commit sha the revision pointed to, no newline
 *   blobs/{etag}                  file contents, named by etag (git sha1, or sha256 for LFS)
 *   blobs/{etag}.incomplete       a download in progress; never read as a file
 *   snapshots/{sha}/{file}        relative symlink to ../../blobs/{etag}
 * </pre>
 *
 * A snapshot entry is created only after its blob is complete and verified, so an entry that exists
 * is whole. Every write is atomic (temp file + rename). Stateless apart from the root; safe to use
 * from several threads and processes.
 */
public final class HubCache {
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]+");

  private final Path root;

  public HubCache(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  public Path repoDir(ModelRef.HubRepo repo) {
    return root.resolve(repo.cacheFolderName());
  }

  /**
   * The commit a revision resolves to locally: itself when it is a sha, else {@code
   * refs/<revision>}.
   */
  public Optional<String> commitOf(ModelRef.HubRepo repo) {
    if (repo.isCommit()) {
      return Optional.of(repo.revision());
    }
    Path ref = repoDir(repo).resolve("refs").resolve(repo.revision());
    try {
      String sha = Files.readString(ref, StandardCharsets.UTF_8).trim();
      return COMMIT.matcher(sha).matches() ? Optional.of(sha) : Optional.empty();
    } catch (IOException notThere) {
      return Optional.empty();
    }
  }

  /** Records that {@code revision} pointed at {@code sha}; a no-op for a sha revision. */
  public void writeRef(ModelRef.HubRepo repo, String sha) throws IOException {
    if (repo.revision().equals(sha)) {
      return;
    }
    Path ref = repoDir(repo).resolve("refs").resolve(repo.revision());
    Files.createDirectories(ref.getParent());
    Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
    Files.writeString(tmp, sha, StandardCharsets.UTF_8);
    move(tmp, ref);
  }

  public Path snapshotDir(ModelRef.HubRepo repo, String sha) {
    return repoDir(repo).resolve("snapshots").resolve(requireCommit(sha));
  }

  public Path blob(ModelRef.HubRepo repo, String etag) {
    if (!SAFE_NAME.matcher(etag).matches()) {
      throw new HubException(
          HubException.Kind.IO, "refusing unexpected etag \"" + etag + "\" for " + repo.repoId());
    }
    return repoDir(repo).resolve("blobs").resolve(etag);
  }

  /** The snapshot entry of {@code file}; the name comes from the server, so it is checked. */
  public Path pointer(ModelRef.HubRepo repo, String sha, String file) {
    Path dir = snapshotDir(repo, sha);
    Path p = dir.resolve(checkRelative(file)).normalize();
    if (!p.startsWith(dir) || p.equals(dir)) {
      throw new HubException(
          HubException.Kind.IO, "refusing file name \"" + file + "\" from " + repo.repoId());
    }
    return p;
  }

  /**
   * Makes {@code pointer} a relative symlink to {@code blob} (what huggingface_hub does), or a copy
   * where the file system has no symlinks. Replaces any previous entry atomically.
   */
  public static void link(Path blob, Path pointer) throws IOException {
    Files.createDirectories(pointer.getParent());
    Path target = pointer.getParent().relativize(blob);
    Path tmp =
        pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createSymbolicLink(tmp, target);
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (UnsupportedOperationException | IOException noSymlinks) {
      Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
    }
    move(tmp, pointer);
  }

  /**
   * True when {@code dir} holds a loadable model: config.json and either every shard the index
   * names or at least one top-level safetensors file. The downloader fetches weights last, so a
   * snapshot that passes also has the tokenizer files the repository offers.
   */
  public static boolean isComplete(Path dir) {
    if (!Files.isRegularFile(dir.resolve(ModelFiles.CONFIG))) {
      return false;
    }
    Path index = dir.resolve(ModelFiles.SHARD_INDEX);
    if (Files.isRegularFile(index)) {
      try {
        List<String> shards = ModelFiles.shardsOf(index);
        return shards.stream().allMatch(s -> Files.isRegularFile(dir.resolve(s)));
      } catch (HubException unreadable) {
        return false;
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.anyMatch(
          p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p));
    } catch (IOException e) {
      return false;
    }
  }

  static String requireCommit(String sha) {
    if (sha == null || !COMMIT.matcher(sha).matches()) {
      throw new HubException(
          HubException.Kind.IO, "the hub sent \"" + sha + "\" where a 40-hex commit sha belongs");
    }
    return sha;
  }

  private static String checkRelative(String file) {
    if (file.isEmpty() || file.startsWith("/") || file.contains("\\") || file.contains("\0")) {
      throw new HubException(HubException.Kind.IO, "refusing file name \"" + file + "\"");
    }
    for (String part : file.split("/")) {
      if (part.isEmpty() || part.equals("..") || part.equals(".")) {
        throw new HubException(HubException.Kind.IO, "refusing file name \"" + file + "\"");
      }
    }
    return file;
  }

  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
