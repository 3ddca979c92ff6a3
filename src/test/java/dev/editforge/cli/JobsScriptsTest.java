package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.Main;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark-submit launchers build the right command line (checked against a fake spark-submit that
 * prints its arguments one per line).
 */
class JobsScriptsTest {
  @TempDir Path dir;

  /** The fake spark-submit's arguments when {@code cmd} runs through bash in the project root. */
  private List<String> submit(Map<String, String> env, String... cmd) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = bin.resolve("spark-submit");
    Files.writeString(
        fake, "#!/usr/bin/env bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    pb.environment().put("EDITFORGE_JAR", jar().toString());
    pb.environment().remove("SPARK_HOME");
    pb.environment().remove("SPARK_MASTER");
    pb.environment().remove("EDITFORGE_CONF");
    pb.environment().remove("PYTORCH_LIBRARY_PATH");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    return out.lines().toList();
  }

  private List<String> submit(String... cmd) throws Exception {
    return submit(Map.of(), cmd);
  }

  private Path jar() throws Exception {
    Path jar = dir.resolve("editforge.jar");
    if (!Files.exists(jar)) {
      Files.writeString(jar, "jar");
    }
    return jar;
  }

  private static String after(List<String> args, String option) {
    int i = args.indexOf(option);
    assertTrue(i >= 0 && i + 1 < args.size(), option + " missing: " + args);
    return args.get(i + 1);
  }

  /** What follows the application jar: the editforge command and its arguments. */
  private static List<String> editforgePart(List<String> args, String jar) {
    int i = args.indexOf(jar);
    assertTrue(i > 0, "the application jar " + jar + " is passed: " + args);
    return args.subList(i + 1, args.size());
  }

  private static final Path CLUSTER_CONF = Path.of("conf/cluster.conf").toAbsolutePath();

  @Test
  void stageLauncherPassesClassJarFlagsConfAndArgs() throws Exception {
    List<String> args =
        submit(
            "jobs/stages/ingest",
            "--master",
            "yarn",
            "--conf",
            "spark.executor.memory=8g",
            "--",
            "--input",
            "dpr:hdfs:///p.tsv",
            "--run-dir",
            "hdfs:///runs/r1");
    assertEquals("yarn", after(args, "--master"));
    assertEquals("dev.editforge.Main", after(args, "--class"));
    assertTrue(args.contains("spark.executor.memory=8g"), args.toString());
    assertTrue(
        args.stream()
            .anyMatch(
                a ->
                    a.startsWith("spark.executor.extraJavaOptions=")
                        && a.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED")
                        && a.contains("-Dai.djl.offline=true")),
        args.toString());
    assertEquals(
        List.of(
            "ingest",
            "--conf",
            CLUSTER_CONF.toString(),
            "--input",
            "dpr:hdfs:///p.tsv",
            "--run-dir",
            "hdfs:///runs/r1"),
        editforgePart(args, jar().toString()));
  }

  @Test
  void sparkSubmitOptionsPassThroughAndClusterModeShipsTheConfByBasename() throws Exception {
    List<String> args =
        submit(
            "jobs/submit",
            "--master",
            "yarn",
            "--executor-memory",
            "8g",
            "--queue",
            "q",
            "--conf",
            "a=b",
            "--properties-file",
            "f",
            "--verbose",
            // a value that is also a command name is still the option's value
            "--name",
            "score",
            "--files",
            "mine.txt",
            "--deploy-mode",
            "cluster",
            "ingest",
            "--run-dir",
            "hdfs:///runs/r1");
    assertEquals("8g", after(args, "--executor-memory"));
    assertEquals("q", after(args, "--queue"));
    assertEquals("f", after(args, "--properties-file"));
    assertEquals("score", after(args, "--name"));
    assertEquals("cluster", after(args, "--deploy-mode"));
    assertTrue(args.contains("--verbose"), args.toString());
    int userConf = args.indexOf("a=b");
    assertEquals("--conf", args.get(userConf - 1));
    // A user's --conf comes after editforge's defaults, so it wins for the same key.
    assertTrue(userConf > args.indexOf("spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"));
    assertEquals(1, args.stream().filter("--files"::equals).count(), args.toString());
    List<String> files = Arrays.asList(after(args, "--files").split(","));
    assertTrue(files.contains(CLUSTER_CONF.toString()), files.toString());
    assertTrue(files.contains("mine.txt"), files.toString());
    assertTrue(
        files.stream().anyMatch(f -> f.endsWith("/jobs/gpu-discovery.sh")), files.toString());
    assertEquals(
        List.of("ingest", "--conf", "cluster.conf", "--run-dir", "hdfs:///runs/r1"),
        editforgePart(args, jar().toString()));
  }

  @Test
  void clientModeShipsTheConfAndNamesItByPath() throws Exception {
    Path conf = Files.writeString(dir.resolve("my.conf"), "editforge {}\n");
    List<String> args =
        submit("jobs/submit", "--deploy-mode=client", "--editforge-conf", conf.toString(), "index");
    assertEquals("client", after(args, "--deploy-mode"));
    assertTrue(after(args, "--files").contains(conf.toString()), args.toString());
    assertEquals(
        List.of("index", "--conf", conf.toString()), editforgePart(args, jar().toString()));
  }

  @Test
  void remoteJarAndConfAreNotCheckedLocallyAndLibtorchReachesExecutors() throws Exception {
    List<String> args =
        submit(
            Map.of(
                "EDITFORGE_JAR", "hdfs:///apps/editforge.jar",
                "PYTORCH_LIBRARY_PATH", "/opt/libtorch/lib"),
            "jobs/submit",
            "--deploy-mode",
            "cluster",
            "--editforge-conf",
            "hdfs:///apps/cluster.conf",
            "generate");
    assertTrue(
        args.contains("spark.executorEnv.PYTORCH_LIBRARY_PATH=/opt/libtorch/lib"), args.toString());
    assertFalse(after(args, "--files").contains("cluster.conf"), args.toString());
    assertEquals(
        List.of("generate", "--conf", "hdfs:///apps/cluster.conf"),
        editforgePart(args, "hdfs:///apps/editforge.jar"));
  }

  @Test
  void runAllSubmitsRunAndUnknownOptionsExitTwo() throws Exception {
    List<String> args = submit("jobs/run-all", "--master", "spark://h:7077");
    assertEquals("run", editforgePart(args, jar().toString()).get(0));
    for (List<String> bad :
        List.of(
            List.of("jobs/submit", "--bogus", "x"),
            List.of("jobs/submit", "--spark-conf", "a=b", "ingest"),
            List.of("jobs/submit", "injest"),
            List.of("jobs/submit", "--master"))) {
      Process p = new ProcessBuilder(bad).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(2, p.waitFor(), bad + ": " + out);
      assertTrue(out.startsWith("jobs/submit: "), out);
    }
  }

  @Test
  void submitKnowsExactlyMainsCommands() throws Exception {
    Matcher m =
        Pattern.compile("(?m)^commands=\" (.*) \"$")
            .matcher(Files.readString(Path.of("jobs/submit")));
    assertTrue(m.find(), "jobs/submit lists editforge's commands on a commands=\"...\" line");
    var listed = new TreeSet<>(Arrays.asList(m.group(1).split(" ")));
    var main =
        new TreeSet<>(
            Main.commandLine(new PrintStream(OutputStream.nullOutputStream()))
                .getSubcommands()
                .keySet());
    assertEquals(main, listed);
  }

  /** The README's cluster commands, continuation lines joined; the build step is not submitted. */
  static List<String> readmeClusterCommands() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int section = readme.indexOf("## On a GPU cluster");
    assertTrue(section >= 0, "README has an 'On a GPU cluster' section");
    int start = readme.indexOf("```bash\n", section);
    int end = readme.indexOf("```", start + 8);
    assertTrue(start > 0 && end > start, "the section has a bash code block");
    List<String> commands = new ArrayList<>();
    for (String line : readme.substring(start + 8, end).replace("\\\n", " ").split("\n")) {
      String c = line.strip();
      if (!c.isEmpty() && !c.startsWith("#") && !c.startsWith("mvn ")) {
        commands.add(c);
      }
    }
    return commands;
  }

  @Test
  void everyReadmeClusterCommandRunsAsWritten() throws Exception {
    List<String> commands = readmeClusterCommands();
    assertTrue(commands.size() >= 4, commands.toString());
    Path lib = Files.createDirectories(dir.resolve("libtorch"));
    for (String c : commands) {
      assertTrue(c.matches("^([A-Z_]+=\\S+ )*jobs/\\S+ .*"), "a jobs/ launcher: " + c);
      List<String> args = submit(Map.of("PYTORCH_LIBRARY_PATH", lib.toString()), "bash", "-c", c);
      String jar =
          c.contains("EDITFORGE_JAR=")
              ? c.replaceAll(".*EDITFORGE_JAR=(\\S+).*", "$1")
              : jar().toString();
      List<String> editforge = editforgePart(args, jar);
      assertTrue(
          Main.commandLine(new PrintStream(OutputStream.nullOutputStream()))
              .getSubcommands()
              .containsKey(editforge.get(0)),
          c + " -> " + editforge);
      assertEquals("--conf", editforge.get(1), c + " -> " + editforge);
    }
  }
}
