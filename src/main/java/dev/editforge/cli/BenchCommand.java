package dev.editforge.cli;

import dev.editforge.generate.GenerateBench;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.ingest.IngestJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code editforge bench <name>}: a benchmark measured in one run, printed as a table, ending with
 * one {@code BENCH <name> key=value ...} line. Names: {@code generate} (self-edit stage through
 * Spark vs a bare generator loop on a tiny random model, and the remote backend's prompts/s).
 */
@Command(name = "bench", description = {"Run a benchmark: generate (Spark stage vs bare loop tokens/s on a tiny model;",
    "remote backend prompts/s against an instant fake server). Ends with a BENCH line."})
public final class BenchCommand extends StageCommand {
  @Parameters(index = "0", paramLabel = "NAME", description = "generate")
  String name;

  @Option(names = "--k", paramLabel = "N", defaultValue = "4", description = "generate: self-edits per article (default 4)")
  int k;

  @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "24", description = "generate: tokens per completion (default 24)")
  int maxNewTokens;

  @Option(names = "--remote-prompts", paramLabel = "N", defaultValue = "2000", description = "generate: prompts sent to the fake server")
  int remotePrompts;

  @Override
  protected Map<String, Object> flagOverrides() {
    if (!"generate".equals(name)) {
      return Map.of();
    }
    try {
      Path dir = Files.createTempDirectory("editforge-bench-generate");
      Path sample = DemoCommand.extractSample(dir.resolve("_sample"));
      Path model = TinyRandomModel.write(dir.resolve("tiny-random"), 64, 2, 1024, 7);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run-dir", dir.resolve("run").toString());
      m.put("ingest.inputs", List.of("squad:" + sample.resolve("articles.json")));
      m.put("generate.backend", "local");
      m.put("generate.model", model.toString());
      m.put("generate.self-edit.k", k);
      m.put("generate.self-edit.max-new-tokens", maxNewTokens);
      return m;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot prepare the bench directory", e);
    }
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    if (!"generate".equals(name)) {
      console().println("bench: unknown bench " + name + "; known: generate");
      return ExitCodes.USAGE;
    }
    int code = runStage(launch, new IngestJob());
    if (code != ExitCodes.OK) {
      return code;
    }
    GenerateBench.run(launch.context(), console(), remotePrompts);
    return ExitCodes.OK;
  }
}
