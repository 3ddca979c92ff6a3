package dev.editforge;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code ../shared}: reference data read in place by golden tests, which skip when it is absent (a
 * user's fresh clone has none).
 */
public final class SharedData {
  public static final Path ROOT = Path.of("..", "shared").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();

  private SharedData() {}

  /** The path of a shared file or directory, or skips the calling test with a clear message. */
  public static Path require(String relative) {
    Path p = ROOT.resolve(relative);
    assumeTrue(
        Files.exists(p), "../shared absent (" + p + " not found): skipping this golden test");
    return p;
  }

  public static JsonNode json(String relative) throws IOException {
    return JSON.readTree(require(relative).toFile());
  }
}
