package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.editforge.spark.PipelineStage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** demo --selfrag: critique and generator-data run before select, which mixes their rows in. */
class DemoSelfRagTest {
  @Test
  void critiqueAndGeneratorDataRunBetweenScoringAndSelect() {
    List<String> names = DemoCommand.selfRagStages().stream().map(PipelineStage::name).toList();
    assertEquals(
        List.of(
            "ingest",
            "embed",
            "index",
            "retrieve",
            "generate",
            "score",
            "critique",
            "generator-data",
            "select",
            "finetune",
            "evaluate"),
        names);
  }

  @Test
  void theSampleInstructionsAreTheQueriesAndTheDemoModelTheLocalCritic() {
    var o = DemoCommand.selfRagOverrides(Path.of("/s"));
    assertEquals("/s/instructions.jsonl", o.get("retrieve.queries"));
    assertEquals("local", o.get("critique.backend"));
    assertEquals(java.util.List.of("selfrag"), o.get("finetune.added-tokens"));
  }
}
