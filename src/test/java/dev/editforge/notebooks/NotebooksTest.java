package dev.editforge.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The notebooks are stored without outputs: a diff shows code, not a run's numbers and plots. */
class NotebooksTest {
  static final Path DIR = Path.of("notebooks");

  static List<Path> notebooks() throws Exception {
    try (var files = Files.list(DIR)) {
      return files.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
    }
  }

  @Test
  void everyNotebookIsStoredWithoutOutputsOrExecutionCounts() throws Exception {
    List<Path> all = notebooks();
    assertTrue(all.size() >= 3, "notebooks: " + all);
    for (Path nb : all) {
      JsonNode root = Json.MAPPER.readTree(nb.toFile());
      assertEquals("python3", root.at("/metadata/kernelspec/name").asText(), nb.toString());
      int code = 0;
      for (JsonNode cell : root.get("cells")) {
        if (!cell.get("cell_type").asText().equals("code")) {
          continue;
        }
        code++;
        assertTrue(
            cell.get("outputs").isArray() && cell.get("outputs").isEmpty(), nb + ": " + cell);
        assertTrue(cell.get("execution_count").isNull(), nb + ": " + cell);
      }
      assertTrue(code > 0, nb + " has no code");
    }
  }
}
