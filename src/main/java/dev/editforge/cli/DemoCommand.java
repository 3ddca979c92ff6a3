package dev.editforge.cli;

import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;

/**
 * {@code editforge demo}: every stage on the bundled sample (invented facts about the island of
 * Veltmoor, logic puzzles, instructions) into {@code runs/demo}, then a list of what it wrote.
 */
@Command(name = "demo", description = "Run every stage on the bundled sample into runs/demo and print what it wrote")
public final class DemoCommand extends StageCommand {
  static final String SAMPLE = "editforge/sample/";
  static final List<String[]> INPUTS = List.of(
      new String[] {"squad", "articles.json"},
      new String[] {"dpr", "passages.tsv"},
      new String[] {"logic", "logic.jsonl"},
      new String[] {"instructions", "instructions.jsonl"});

  @Override
  protected Map<String, Object> flagOverrides() {
    Path dir = Path.of(common.runDir != null ? common.runDir : "runs/demo");
    Path sample = extractSample(dir.resolve("_sample"));
    List<String> inputs = INPUTS.stream().map(i -> i[0] + ":" + sample.resolve(i[1])).toList();
    return Map.of("ingest.inputs", inputs, "run-dir", dir.toString());
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    console().println("demo: running the pipeline on the bundled sample into " + launch.settings().runDir());
    int code = runStages(launch, Pipeline.stages());
    RunDir run = launch.context().runDir();
    console().println();
    console().println("demo: wrote to " + run.root());
    for (String table : Tables.names()) {
      Optional<Manifest> m = run.manifest(table);
      m.ifPresent(x -> console().println(String.format(Locale.ROOT, "  %-14s %,8d rows  %-9s %s", table,
          x.count("output"), x.status(), run.table(table))));
    }
    return code;
  }

  /** Copies the sample from the classpath; identical content keeps the same fingerprint, so reruns skip. */
  static Path extractSample(Path dir) {
    try {
      Files.createDirectories(dir);
      for (String[] input : INPUTS) {
        try (InputStream in = DemoCommand.class.getClassLoader().getResourceAsStream(SAMPLE + input[1])) {
          if (in == null) {
            throw new IllegalStateException("bundled sample " + SAMPLE + input[1] + " is missing from the jar");
          }
          Files.copy(in, dir.resolve(input[1]), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return dir.toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the sample into " + dir, e);
    }
  }
}
