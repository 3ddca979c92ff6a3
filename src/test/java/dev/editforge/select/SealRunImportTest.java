package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.SharedData;
import dev.editforge.config.SelectSettings;
import dev.editforge.io.SealRunFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SealRunImportTest {

  @Test
  void pythonRoundIsHalfEvenOnTheBinaryValue() {
    assertEquals(0.2222, SealRunImport.pythonRound4(2.0 / 9));
    assertEquals(0.6666, SealRunImport.pythonRound4(0.66665)); // binary value is just below ...65
    assertEquals(0.1235, SealRunImport.pythonRound4(0.12345)); // binary value is just above
    assertEquals(0.0001, SealRunImport.pythonRound4(0.00015));
    assertEquals(0.5833, SealRunImport.pythonRound4(7.0 / 12));
  }

  @Test
  void repeatsAreRoundedBeforeAveraging(@TempDir Path dir) throws Exception {
    // 2 of 9 right in repeat 0, 4 of 9 in repeat 1: SEAL averages 0.2222 and 0.4444.
    StringBuilder qs = new StringBuilder();
    for (int rep = 0; rep < 2; rep++) {
      for (int i = 0; i < 9; i++) {
        boolean ok = i < (rep == 0 ? 2 : 4);
        if (qs.length() > 0) {
          qs.append(',');
        }
        qs.append(
            "{\"rep\":"
                + rep
                + ",\"question\":\"q"
                + i
                + "\",\"answer\":\"a\",\"baseline_answer\":\"x\","
                + "\"adapter_answer\":\"y\",\"baseline_correct\":false,\"adapter_correct\":"
                + ok
                + "}");
      }
    }
    String json =
        "{\"eval_times\":2,\"articles\":[{\"title\":\"T\",\"context\":\"C\",\"prompt\":\"P\",\"completions\":["
            + "{\"text\":\"E\",\"stats\":{\"adapter_mean\":0.3333,\"baseline_mean\":0.0},\"questions\":["
            + qs
            + "]}]}]}";
    Path f = dir.resolve("run.json");
    Files.writeString(f, json);
    List<EditScore> edits = SealRunImport.read(f);
    assertEquals(1, edits.size());
    assertEquals(List.of(0.2222, 0.4444), edits.get(0).adapterAccuracies());
    assertEquals(0.3333, edits.get(0).meanAdapter());
    assertEquals("P", edits.get(0).prompt());
  }

  @Test
  void rebuiltMeansEqualSealsStatsForEveryCompletion() throws Exception {
    Path file = SharedData.require("data/seal/rank_iter0.json");
    SealRunFile.Run run = SealRunFile.read(file);
    List<EditScore> edits = SealRunImport.editScores(run);
    int i = 0;
    for (SealRunFile.Article a : run.articles()) {
      for (SealRunFile.Completion c : a.completions()) {
        EditScore e = edits.get(i++);
        assertEquals(
            c.adapterMean(), e.meanAdapter(), "adapter_mean of " + a.title() + " #" + e.ordinal());
        assertEquals(
            c.baselineMean(),
            e.meanBaseline(),
            "baseline_mean of " + a.title() + " #" + e.ordinal());
        assertEquals(3, e.adapterAccuracies().size());
      }
    }
    assertEquals(250, i);
  }

  @Test
  void goldenBest1Of5EqualsSealsSftFile() throws Exception {
    List<EditScore> edits = SealRunImport.read(SharedData.require("data/seal/rank_iter0.json"));
    Path golden = SharedData.require("data/seal/sft_best1of5_iter0.jsonl");
    List<String> lines = Files.readAllLines(golden);
    var selection = new BestKSelector(SelectSettings.seal()).select(edits);
    assertEquals(50, lines.size());
    assertEquals(lines.size(), selection.rows().size());
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < lines.size(); i++) {
      JsonNode g = json.readTree(lines.get(i));
      assertEquals(2, g.size(), "golden rows have exactly prompt and completion");
      assertEquals(
          g.get("prompt").asText(), selection.rows().get(i).prompt(), "row " + i + " prompt");
      assertEquals(
          g.get("completion").asText(),
          selection.rows().get(i).completion(),
          "row " + i + " completion");
    }
    assertEquals(200, selection.counts().beyondK());
  }
}
