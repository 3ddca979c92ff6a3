package dev.editforge.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.lang.ArchRule;
import java.util.List;

/**
 * editforge's layers, from the bottom (DESIGN.md, "The systems on top of the single round"):
 * runtime libraries; {@code io}, {@code config}, {@code spark}; the stages; {@code cli} (and {@code
 * Main}), the only code that knows every stage. Arrows point down only.
 */
final class Layers {
  static final String[] RUNTIME = {
    "dev.editforge.llm..",
    "dev.editforge.lora..",
    "dev.editforge.encoders..",
    "dev.editforge.lucene..",
    "dev.editforge.judge..",
    "dev.editforge.selfrag..",
    "dev.editforge.text.."
  };
  static final String[] INFRA = {
    "dev.editforge.io..", "dev.editforge.config..", "dev.editforge.spark.."
  };
  static final List<String> STAGES =
      List.of(
          "ingest",
          "embed",
          "index",
          "retrieve",
          "generate",
          "ttt",
          "select",
          "finetune",
          "evaluate",
          "continual",
          "critique",
          "predict");
  static final String[] STAGE_PACKAGES =
      STAGES.stream().map(s -> "dev.editforge." + s + "..").toArray(String[]::new);
  static final String CLI = "dev.editforge.cli..";

  /**
   * Reads a finished run for people (the HTML report): above io, config and spark, beside the
   * stages (it reads their tables, never their code), below cli, the only package that uses it.
   */
  static final String REPORT = "dev.editforge.report..";

  private static final String[] RUNTIME_BESIDES_TEXT = {
    "dev.editforge.llm..",
    "dev.editforge.lora..",
    "dev.editforge.encoders..",
    "dev.editforge.lucene..",
    "dev.editforge.judge..",
    "dev.editforge.selfrag.."
  };

  private Layers() {}

  static ArchRule runtimeStaysBelow() {
    return noClasses()
        .that()
        .resideInAnyPackage(RUNTIME)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(concat(INFRA_ABOVE_RUNTIME, STAGE_PACKAGES, CLI))
        .as(
            "runtime libraries (llm, lora, encoders, lucene, judge, text) import neither config, spark, "
                + "a stage nor cli");
  }

  /** io is the shared contract layer runtime libraries may use (rows, JSON, run-dir files). */
  private static final String[] INFRA_ABOVE_RUNTIME = {
    "dev.editforge.config..", "dev.editforge.spark.."
  };

  static ArchRule infraStaysBelowStages() {
    return noClasses()
        .that()
        .resideInAnyPackage(INFRA)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(concat(STAGE_PACKAGES, CLI))
        .as("io, config and spark import neither a stage nor cli");
  }

  static ArchRule stagesDoNotImportCli() {
    return noClasses()
        .that()
        .resideInAnyPackage(STAGE_PACKAGES)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(CLI, "dev.editforge")
        .as("stages import neither cli nor Main");
  }

  static ArchRule stagesDoNotImportEachOther() {
    return slices()
        .matching("dev.editforge.(" + String.join("|", STAGES) + ")..")
        .should()
        .notDependOnEachOther()
        .as(
            "no stage imports another stage (they talk through tables; shared contracts live in io)");
  }

  static ArchRule reportReadsTablesNotStages() {
    return noClasses()
        .that()
        .resideInAPackage(REPORT)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(concat(STAGE_PACKAGES, CLI, RUNTIME_BESIDES_TEXT, "dev.editforge"))
        .as("report imports io, text, config and spark only: no stage, runtime library or cli");
  }

  static ArchRule onlyCliUsesReport() {
    return noClasses()
        .that()
        .resideOutsideOfPackages(CLI, REPORT)
        .should()
        .dependOnClassesThat()
        .resideInAPackage(REPORT)
        .as("only cli imports report");
  }

  static ArchRule noPackageCycles() {
    return slices()
        .matching("dev.editforge.(*)..")
        .should()
        .beFreeOfCycles()
        .as("no package cycles");
  }

  static List<ArchRule> all() {
    return List.of(
        runtimeStaysBelow(),
        infraStaysBelowStages(),
        stagesDoNotImportCli(),
        stagesDoNotImportEachOther(),
        reportReadsTablesNotStages(),
        onlyCliUsesReport(),
        noPackageCycles());
  }

  private static String[] concat(Object... parts) {
    List<String> out = new java.util.ArrayList<>();
    for (Object p : parts) {
      if (p instanceof String[] a) {
        out.addAll(List.of(a));
      } else {
        out.add((String) p);
      }
    }
    return out.toArray(String[]::new);
  }
}
