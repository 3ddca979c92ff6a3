package dev.editforge.arch;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.editforge.cli.Launch;
import dev.editforge.ingest.IngestJob;
import dev.editforge.io.Manifest;
import dev.editforge.llm.ChatMessage;
import dev.editforge.report.HtmlReport;
import dev.editforge.spark.StageRunner;
import org.junit.jupiter.api.Test;

/**
 * The layering rules catch what they exist for: each planted back edge (test classes that exist
 * only for this) breaks its rule, and the same classes without the planted one pass it.
 */
class ArchitectureRulesTest {
  private static final Class<?>[] CLEAN = {
    Launch.class,
    IngestJob.class,
    StageRunner.class,
    Manifest.class,
    ChatMessage.class,
    HtmlReport.class
  };

  private static JavaClasses with(String planted) throws ClassNotFoundException {
    Class<?>[] classes = java.util.Arrays.copyOf(CLEAN, CLEAN.length + 1);
    classes[CLEAN.length] = Class.forName(planted);
    return new ClassFileImporter().importClasses(classes);
  }

  private static void caught(ArchRule rule, String planted, String mentions) throws Exception {
    assertFalse(
        rule.evaluate(new ClassFileImporter().importClasses(CLEAN)).hasViolation(),
        "the clean classes pass " + rule.getDescription());
    EvaluationResult r = rule.evaluate(with(planted));
    assertTrue(r.hasViolation(), rule.getDescription() + " misses " + planted);
    String report = r.getFailureReport().toString();
    assertTrue(report.contains(mentions), report);
  }

  @Test
  void aRuntimeLibraryReachingIntoCliIsCaught() throws Exception {
    caught(
        Layers.runtimeStaysBelow(),
        "dev.editforge.llm.PlantedBackEdge",
        "dev.editforge.cli.Launch");
  }

  @Test
  void aStageImportingAnotherStageIsCaught() throws Exception {
    caught(
        Layers.stagesDoNotImportEachOther(),
        "dev.editforge.select.PlantedStageEdge",
        "dev.editforge.ingest.IngestJob");
  }

  @Test
  void theReportReadingAStageIsCaught() throws Exception {
    caught(
        Layers.reportReadsTablesNotStages(),
        "dev.editforge.report.PlantedStageRead",
        "dev.editforge.ingest.IngestJob");
  }

  @Test
  void aPackageBelowCliUsingTheReportIsCaught() throws Exception {
    caught(
        Layers.onlyCliUsesReport(),
        "dev.editforge.io.PlantedReportUse",
        "dev.editforge.report.HtmlReport");
  }

  @Test
  void aPackageCycleIsCaught() throws Exception {
    caught(
        Layers.noPackageCycles(),
        "dev.editforge.io.PlantedCycle",
        "dev.editforge.spark.StageRunner");
  }
}
