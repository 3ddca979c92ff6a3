package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark-submit launchers build the right command line (checked against a fake spark-submit).
 */
class JobsScriptsTest {
  @TempDir Path dir;

  private String run(List<String> cmd) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = bin.resolve("spark-submit");
    Files.writeString(
        fake, "#!/usr/bin/env bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = Files.writeString(dir.resolve("editforge.jar"), "jar");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("EDITFORGE_JAR", jar.toString());
    pb.environment().remove("SPARK_HOME");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  @Test
  void stageLauncherPassesClassJarFlagsConfAndArgs() throws Exception {
    List<String> args =
        run(List.of(
                "jobs/stages/ingest",
                "--master",
                "yarn",
                "--spark-conf",
                "spark.executor.memory=8g",
                "--",
                "--input",
                "dpr:hdfs:///p.tsv",
                "--run-dir",
                "hdfs:///runs/r1"))
            .lines()
            .toList();
    assertEquals("yarn", args.get(args.indexOf("--master") + 1));
    assertEquals("dev.editforge.Main", args.get(args.indexOf("--class") + 1));
    assertTrue(args.contains("spark.executor.memory=8g"), args.toString());
    assertTrue(
        args.stream()
            .anyMatch(
                a ->
                    a.startsWith("spark.executor.extraJavaOptions=")
                        && a.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED")
                        && a.contains("-Dai.djl.offline=true")),
        args.toString());
    int jar = args.indexOf(dir.resolve("editforge.jar").toString());
    assertTrue(jar > 0, "the application jar is passed: " + args);
    assertEquals(
        List.of(
            "ingest",
            "--conf",
            Path.of("conf/cluster.conf").toAbsolutePath().toString(),
            "--input",
            "dpr:hdfs:///p.tsv",
            "--run-dir",
            "hdfs:///runs/r1"),
        args.subList(jar + 1, args.size()));
  }

  @Test
  void runAllSubmitsRunAndUnknownOptionsExitTwo() throws Exception {
    List<String> args = run(List.of("jobs/run-all", "--master", "spark://h:7077")).lines().toList();
    assertTrue(args.contains("run"), args.toString());
    Process bad =
        new ProcessBuilder("jobs/submit", "--bogus", "x").redirectErrorStream(true).start();
    String out = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, bad.waitFor());
    assertTrue(out.contains("unknown option --bogus"), out);
  }
}
