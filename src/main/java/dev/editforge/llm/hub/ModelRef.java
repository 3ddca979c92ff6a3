package dev.editforge.llm.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * What a user wrote where a model is expected: a local directory in Hugging Face layout, or a hub
 * repository {@code Org/Name} with an optional {@code @revision} (branch, tag or commit; {@code
 * main} by default). A string that names an existing directory, or starts with {@code /}, {@code
 * ./}, {@code ../} or {@code ~/}, is a directory; anything else must be a hub id.
 */
public sealed interface ModelRef permits ModelRef.LocalDir, ModelRef.HubRepo {
  String DEFAULT_REVISION = "main";

  /** A model in a directory on this machine. */
  record LocalDir(Path dir) implements ModelRef {
    @Override
    public String toString() {
      return dir.toString();
    }
  }

  /** A model repository on the hub, at a revision. */
  record HubRepo(String repoId, String revision) implements ModelRef {
    // Hub ids: letters, digits, '-', '_', '.'; "--" and ".." are reserved (the cache folder
    // name joins org and name with "--"), and 96 characters is the hub's own limit.
    private static final Pattern PART =
        Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    private static final Pattern REVISION =
        Pattern.compile("[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public HubRepo {
      String problem = problem(repoId, revision);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
    }

    /** The cache folder name, as huggingface_hub spells it: {@code models--Org--Name}. */
    public String cacheFolderName() {
      return "models--" + repoId.replace("/", "--");
    }

    /** True when the revision is a full commit sha, which never moves. */
    public boolean isCommit() {
      return COMMIT.matcher(revision).matches();
    }

    @Override
    public String toString() {
      return repoId + "@" + revision;
    }

    static String problem(String repoId, String revision) {
      if (repoId == null || repoId.length() > 96) {
        return "a hub id is Org/Name, at most 96 characters";
      }
      String[] parts = repoId.split("/", -1);
      if (parts.length != 2) {
        return "a hub id has exactly one '/': Org/Name";
      }
      for (String p : parts) {
        if (!PART.matcher(p).matches() || p.contains("--") || p.contains("..")) {
          return "\""
              + p
              + "\" is not a valid hub name (letters, digits, '-', '_', '.';"
              + " no leading or trailing '-' or '.', no '--' or '..')";
        }
      }
      if (revision == null || !REVISION.matcher(revision).matches() || revision.contains("..")) {
        return "revision \"" + revision + "\" is not a branch, tag or commit sha";
      }
      return null;
    }
  }

  /**
   * Parses {@code ref}, resolving relative directories against the working directory.
   *
   * @throws HubException of kind {@link HubException.Kind#INVALID_REFERENCE} for a malformed
   *     reference: the user fixes it, so it is a usage error (exit 2, one line), not a crash
   */
  static ModelRef parse(String ref) {
    if (ref == null || ref.isBlank()) {
      throw new HubException(
          HubException.Kind.INVALID_REFERENCE, "empty model reference: " + EXPECTED);
    }
    String s = ref.trim();
    if (s.startsWith("/")
        || s.startsWith("./")
        || s.startsWith("../")
        || s.equals(".")
        || s.equals("..")) {
      return new LocalDir(Path.of(s));
    }
    if (s.startsWith("~/")) {
      return new LocalDir(Path.of(System.getProperty("user.home"), s.substring(2)));
    }
    try {
      if (Files.isDirectory(Path.of(s))) {
        return new LocalDir(Path.of(s));
      }
    } catch (InvalidPathException notAPath) {
      // fall through: it may still be a hub id, and if not the message below says why
    }
    int at = s.indexOf('@');
    String id = at < 0 ? s : s.substring(0, at);
    String revision = at < 0 ? DEFAULT_REVISION : s.substring(at + 1);
    String problem = HubRepo.problem(id, revision);
    if (problem != null) {
      throw new HubException(
          HubException.Kind.INVALID_REFERENCE,
          "invalid model reference \"" + s + "\": " + problem + ". " + EXPECTED);
    }
    return new HubRepo(id, revision);
  }

  String EXPECTED =
      "Expected a local model directory (an existing path, or one starting with /, ./, ../ or ~/)"
          + " or a Hugging Face hub id Org/Name[@revision], e.g. Qwen/Qwen2.5-0.5B-Instruct@main";
}
