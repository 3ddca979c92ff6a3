package dev.editforge;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Read-only access to {@code ../shared} for golden tests; they skip when it is absent. */
public final class SharedData {
  public static final Path ROOT = Path.of("..", "shared");
  private static final ObjectMapper JSON = new ObjectMapper();

  private SharedData() {}

  /** The path of a shared file, skipping the calling test when it is not there. */
  public static Path require(String relative) {
    Path p = ROOT.resolve(relative);
    assumeTrue(Files.isRegularFile(p), "../shared absent: " + p + " not found, golden test skipped");
    return p;
  }

  public static JsonNode json(String relative) throws IOException {
    return JSON.readTree(require(relative).toFile());
  }
}
