package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.editforge.SharedData;
import dev.editforge.cli.RetrievalBench;
import dev.editforge.encoders.OnnxMiniLmEncoder;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full retrieval bench (several minutes on 2 cores), for developers: {@code mvn -o test
 * -Dtest=RetrievalBenchRunTest -Dtest.groups.excluded=none}. Excluded from {@code mvn test} by its
 * tag; the CLI's {@code bench retrieval} is the supported way to run it.
 */
@Tag("slow")
class RetrievalBenchRunTest {
  @Test
  void runsTheWholeBench(@TempDir Path work) {
    Path squad = SharedData.require("data/seal/squad_val.json");
    try (OnnxMiniLmEncoder encoder = OnnxMiniLmEncoder.load(256, 32, 16384, 0)) {
      RetrievalBench.Result r = RetrievalBench.run(work, squad, encoder, System.out);
      System.out.println("\nfields " + r.benchFields());
      assertNotNull(r.squad());
    }
  }

  @Test
  void hnswOnly(@TempDir Path work) {
    RetrievalBench.hnswRecall(work, 20_000, 384, 1_000, 42, System.out);
  }
}
