package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputValidationTest {
  @TempDir Path dir;

  @Test
  void formatSniffing() {
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.DPR, "a\tb\tc\n1\tx\ty", "f", false));
    assertDoesNotThrow(
        () -> InputValidation.checkFormat(InputKind.DPR, "id\ttext\ttitle\r\n1\tx\ty", "f", false));
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.LOGIC, "hello\nworld\n", "f", false));
    assertDoesNotThrow(
        () -> InputValidation.checkFormat(InputKind.LOGIC, "not json\n{\"id\":1}\n", "f", false));
    assertThrows(
        InputException.class,
        () -> InputValidation.checkFormat(InputKind.SQUAD, "title,context", "f", false));
    InputException empty =
        assertThrows(
            InputException.class,
            () -> InputValidation.checkFormat(InputKind.SQUAD, "  \n", "f", false));
    assertTrue(empty.getMessage().contains("empty"));
  }

  @Test
  void missingFilesAndEmptyDirectoriesAreWholeFileErrors() throws Exception {
    InputException missing =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("dpr:" + dir.resolve("nope.tsv"))),
                    new Configuration()));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThrows(
        InputException.class,
        () ->
            InputValidation.resolve(List.of(InputSpec.parse("dpr:" + empty)), new Configuration()));
  }

  @Test
  void inputSpecs() {
    InputSpec s = InputSpec.parse("squad:hdfs://nn:8020/data/x.json");
    assertTrue(s.path().equals("hdfs://nn:8020/data/x.json"));
    InputException bad = assertThrows(InputException.class, () -> InputSpec.parse("csv:/tmp/x"));
    assertTrue(
        bad.getMessage().contains("squad, dpr, passages-jsonl, logic, instructions"),
        bad.getMessage());
    assertThrows(InputException.class, () -> InputSpec.parse("squad:"));
  }

  private static boolean mkfifo(Path p) throws Exception {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() == 0;
    } catch (java.io.IOException e) {
      return false; // no mkfifo: not a POSIX system
    }
  }

  @Test
  void aFifoIsRefusedUpFrontInsteadOfBlockingOnOpen() throws Exception {
    Path fifo = dir.resolve("passages.tsv");
    assumeTrue(mkfifo(fifo), "needs mkfifo (POSIX)");
    // Opening a FIFO blocks until a writer appears: the guard turns that hang into a failure.
    InputException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            () ->
                assertThrows(
                    InputException.class,
                    () ->
                        InputValidation.resolve(
                            List.of(InputSpec.parse("dpr:" + fifo)), new Configuration())));
    assertTrue(e.getMessage().contains("passages.tsv is a FIFO"), e.getMessage());

    Path holder = Files.createDirectory(dir.resolve("in"));
    Files.writeString(holder.resolve("a.tsv"), "id\ttext\ttitle\n1\tt\tT\n");
    assumeTrue(mkfifo(holder.resolve("b.tsv")));
    InputException inDir =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            () ->
                assertThrows(
                    InputException.class,
                    () ->
                        InputValidation.resolve(
                            List.of(InputSpec.parse("dpr:" + holder)), new Configuration())));
    assertTrue(inDir.getMessage().contains("b.tsv is a FIFO"), inDir.getMessage());
  }

  @Test
  void aDeviceAndASubDirectoryAreRefused() throws Exception {
    Path zero = Path.of("/dev/zero");
    assumeTrue(Files.exists(zero));
    InputException device =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("logic:" + zero)), new Configuration()));
    assertTrue(device.getMessage().contains("a character device"), device.getMessage());

    Path holder = Files.createDirectory(dir.resolve("nested"));
    Files.writeString(holder.resolve("a.jsonl"), "{\"id\": 1}\n");
    Files.createDirectory(holder.resolve("more"));
    Files.createDirectory(holder.resolve("_temporary"));
    InputException sub =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("logic:" + holder)), new Configuration()));
    assertTrue(sub.getMessage().contains("more is a directory"), sub.getMessage());
  }

  @Test
  void compressedInputsAreJudgedByTheirDecompressedHead() throws Exception {
    Path gz = dir.resolve("psgs_w100.tsv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write("id\ttext\ttitle\n1\tsome text\tTitle\n".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals(
        1,
        InputValidation.resolve(List.of(InputSpec.parse("dpr:" + gz)), new Configuration()).size());

    Path hidden = dir.resolve("psgs_w100.tsv");
    Files.copy(gz, hidden);
    InputException binary =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("dpr:" + hidden)), new Configuration()));
    assertTrue(binary.getMessage().contains("needs a .gz or .bz2 name"), binary.getMessage());
    assertFalse(
        binary.getMessage().chars().anyMatch(c -> c < 0x20 || (c >= 0x7f && c < 0xa0)),
        "gzip's header bytes are escaped: " + binary.getMessage());

    Path corrupt = Files.write(dir.resolve("bad.jsonl.gz"), new byte[] {1, 2, 3, 4, 5});
    InputException broken =
        assertThrows(
            InputException.class,
            () ->
                InputValidation.resolve(
                    List.of(InputSpec.parse("logic:" + corrupt)), new Configuration()));
    assertTrue(broken.getMessage().contains("(compressed)"), broken.getMessage());
  }
}
